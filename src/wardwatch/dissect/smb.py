"""SMB identity dissector (NetBIOS session service RFC 1002 §4.3; SMB1 [MS-CIFS]; SMB2/3 [MS-SMB2]):
shape STREAM, TCP 445 (direct hosting, 4-byte header with a 24-bit length, MS-SMB2 §2.1) and 139 (NBSS).

Facts:

* NetBIOS SESSION REQUEST (RFC 1002 §4.3.2): ``netbios.name`` of the called name (about the server)
  and the calling name (about the client); the 16th byte (suffix) is dropped, trailing spaces trimmed.
* SMB1 NEGOTIATE request ([MS-CIFS] §2.2.4.52.1): ``smb.dialects`` (the offered dialect strings,
  comma-joined) and ``smb.v1`` = ``true`` (about the client: it offers SMB1); the response's chosen
  dialect ``smb.dialect`` and ``smb.v1`` = ``true`` about the server when it answers in SMB1.
* SMB2 NEGOTIATE request ([MS-SMB2] §2.2.3): ``smb.dialects`` (``2.0.2,2.1,3.0,3.0.2,3.1.1``); response
  (§2.2.4): ``smb.dialect`` about the server (``2.???`` is the SMB1-to-SMB2 wildcard answer).
* NTLMSSP inside SESSION_SETUP (``_ident.ntlm``): server NetBIOS/DNS computer and domain names and
  ``smb.os_version`` (``10.0.19041``) from the CHALLENGE; client workstation/domain/version from the
  NEGOTIATE/AUTHENTICATE. Names only: hashes, challenges and user names are never read into values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.ntlm import ntlm_facts
from wardwatch.dissect._ident.text import Emitter, clean
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

# NBSS packet types (RFC 1002 §4.3.1).
SESSION_MESSAGE, SESSION_REQUEST = 0x00, 0x81
NBSS_TYPES = frozenset({0x00, 0x81, 0x82, 0x83, 0x84, 0x85})
SMB1_MAGIC, SMB2_MAGIC = b"\xffSMB", b"\xfeSMB"
SMB1_NEGOTIATE, SMB1_HEADER = 0x72, 32
SMB2_NEGOTIATE, SMB2_HEADER = 0x0000, 64
#: Most NBSS messages read per direction and SMB2 compound members per message.
MAX_MESSAGES = 64
MAX_COMPOUND = 16

#: SMB2 dialect revision codes ([MS-SMB2] §2.2.3) → names.
SMB2_DIALECTS = {0x0202: "2.0.2", 0x0210: "2.1", 0x0222: "2.2.2", 0x0224: "2.2.4", 0x0300: "3.0",
                 0x0302: "3.0.2", 0x0310: "3.1", 0x0311: "3.1.1", 0x02FF: "2.???"}


def nbss_messages(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(type, payload) of each NBSS / direct-TCP message; the last payload may be cut short."""
    pos = 0
    for _ in range(MAX_MESSAGES):
        if pos + 4 > len(data):
            return
        msg_type = data[pos]
        if msg_type not in NBSS_TYPES:
            if pos == 0:
                raise ParseError(f"not NetBIOS session service framing (type 0x{msg_type:02x})")
            return
        if msg_type == SESSION_MESSAGE:
            length = int.from_bytes(data[pos + 1 : pos + 4], "big")  # MS-SMB2 §2.1: 24-bit length
        else:
            length = ((data[pos + 1] & 1) << 16) | int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield msg_type, data[pos + 4 : pos + 4 + length]
        pos += 4 + length


def decode_netbios_name(data: bytes, pos: int) -> tuple[str, int] | None:
    """First-level decoded name (RFC 1001 §14.1) at ``pos`` and the position after its labels."""
    if pos >= len(data) or data[pos] != 32 or pos + 33 > len(data):
        return None
    encoded = data[pos + 1 : pos + 33]
    if any(not 0x41 <= c <= 0x50 for c in encoded):
        return None
    raw = bytes(((encoded[i] - 0x41) << 4) | (encoded[i + 1] - 0x41) for i in range(0, 32, 2))
    pos += 33
    while pos < len(data) and data[pos] != 0:  # scope labels (RFC 1002 §4.1)
        pos += 1 + data[pos]
    return clean(raw[:15], encoding="latin-1").rstrip(), pos + 1


def smb1_dialects(payload: bytes) -> list[str]:
    """Dialect strings of an SMB1 NEGOTIATE request ([MS-CIFS] §2.2.4.52.1: 0x02, OEM string, NUL)."""
    if len(payload) < SMB1_HEADER + 3:
        return []
    word_count = payload[SMB1_HEADER]
    pos = SMB1_HEADER + 1 + 2 * word_count
    byte_count = int.from_bytes(payload[pos : pos + 2], "little")
    block = payload[pos + 2 : pos + 2 + byte_count]
    return [clean(d[1:], encoding="latin-1") for d in block.split(b"\x00") if d.startswith(b"\x02")]


def _smb2_members(payload: bytes) -> Iterator[bytes]:
    """The members of an SMB2 compound message ([MS-SMB2] §3.2.4.1.4: NextCommand offsets)."""
    pos = 0
    for _ in range(MAX_COMPOUND):
        if payload[pos : pos + 4] != SMB2_MAGIC:
            return
        next_command = int.from_bytes(payload[pos + 20 : pos + 24], "little")
        end = pos + next_command if next_command else len(payload)
        yield payload[pos:end]
        if not next_command or end <= pos:
            return
        pos = end


class SmbDissector:
    """SMB negotiation and NTLM names → identity and hygiene Observations."""

    name: ClassVar[str] = "smb"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset({139, 445})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """NBSS session request, or a session message carrying an SMB1/SMB2 header."""
        if data[:1] == b"\x81" and len(data) >= 5 and data[4] == 32:
            return True
        return data[:1] == b"\x00" and data[4:8] in (SMB1_MAGIC, SMB2_MAGIC)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield facts of both directions; ParseError when neither is NBSS-framed."""
        out = Emitter(ctx)
        offered: list[str] = []
        parsed = False
        for from_server, data in ((False, client), (True, server)):
            try:
                for msg_type, payload in nbss_messages(data):
                    parsed = True
                    if msg_type == SESSION_REQUEST and not from_server:
                        self._session_request(out, payload)
                    elif msg_type == SESSION_MESSAGE:
                        self._smb(out, payload, from_server, offered)
            except ParseError:
                continue
        if not parsed:
            raise ParseError("neither direction is NetBIOS session service framed")
        yield from out

    @staticmethod
    def _session_request(out: Emitter, payload: bytes) -> None:
        called = decode_netbios_name(payload, 0)
        if called is None:
            return
        out.emit("netbios.name", called[0], about_server=True)
        calling = decode_netbios_name(payload, called[1])
        if calling is not None:
            out.emit("netbios.name", calling[0])

    def _smb(self, out: Emitter, payload: bytes, from_server: bool, offered: list[str]) -> None:
        if payload[:4] == SMB1_MAGIC and len(payload) >= SMB1_HEADER:
            self._smb1(out, payload, from_server, offered)
        elif payload[:4] == SMB2_MAGIC:
            for member in _smb2_members(payload):
                self._smb2(out, member, from_server)
        self._ntlm(out, payload, from_server)

    @staticmethod
    def _smb1(out: Emitter, payload: bytes, from_server: bool, offered: list[str]) -> None:
        command, is_reply = payload[4], bool(payload[9] & 0x80)  # [MS-CIFS] §2.2.3.1 Flags: REPLY
        if from_server and is_reply:
            out.emit("smb.v1", "true", about_server=True)
        if command != SMB1_NEGOTIATE:
            return
        if not from_server and not is_reply:
            dialects = smb1_dialects(payload)
            offered[:] = dialects
            out.emit("smb.dialects", ",".join(dialects))
            out.emit("smb.v1", "true")
        elif from_server and is_reply and len(payload) >= SMB1_HEADER + 3 and payload[SMB1_HEADER] >= 1:
            index = int.from_bytes(payload[SMB1_HEADER + 1 : SMB1_HEADER + 3], "little")
            if index < len(offered):
                out.emit("smb.dialect", offered[index], about_server=True)

    @staticmethod
    def _smb2(out: Emitter, msg: bytes, from_server: bool) -> None:
        if len(msg) < SMB2_HEADER + 8 or int.from_bytes(msg[12:14], "little") != SMB2_NEGOTIATE:
            return
        is_response = bool(int.from_bytes(msg[16:20], "little") & 1)  # SMB2_FLAGS_SERVER_TO_REDIR
        body = msg[SMB2_HEADER:]
        if not from_server and not is_response:
            count = int.from_bytes(body[2:4], "little")
            raw = body[36 : 36 + 2 * count]
            codes = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw) - 1, 2)]
            out.emit("smb.dialects", ",".join(SMB2_DIALECTS.get(c, f"0x{c:04x}") for c in codes))
        elif from_server and is_response:
            code = int.from_bytes(body[4:6], "little")
            out.emit("smb.dialect", SMB2_DIALECTS.get(code, f"0x{code:04x}"), about_server=True)

    @staticmethod
    def _ntlm(out: Emitter, payload: bytes, from_server: bool) -> None:
        msg_type, facts = ntlm_facts(payload)
        if (msg_type == 2) != from_server:
            return  # a CHALLENGE comes from the server, NEGOTIATE/AUTHENTICATE from the client
        for kind, value in facts:
            out.emit(kind, value, about_server=from_server)


DISSECTOR = SmbDissector()

"""NTLMSSP message names (MS-NLMP §2.2.1): computer, domain and OS version — never hashes, never users.

Used by the SMB dissector (SESSION_SETUP security blobs) and usable by HTTP/other NTLM carriers. The
message is found by its signature ``NTLMSSP\\0`` anywhere in a blob (SPNEGO wrapping is not decoded);
all offsets inside are relative to that signature (MS-NLMP §2.2.1).
"""

from __future__ import annotations

from wardwatch.dissect._ident.text import clean

SIGNATURE = b"NTLMSSP\x00"
NEGOTIATE, CHALLENGE, AUTHENTICATE = 1, 2, 3
#: NegotiateFlags bits (MS-NLMP §2.2.2.5).
FLAG_UNICODE = 0x00000001
FLAG_VERSION = 0x02000000
#: AV_PAIR ids of a CHALLENGE's TargetInfo (MS-NLMP §2.2.2.1) → kind.
AV_KINDS = {
    1: "netbios.name",            # MsvAvNbComputerName
    2: "smb.domain",              # MsvAvNbDomainName
    3: "smb.dns_computer_name",   # MsvAvDnsComputerName
    4: "smb.dns_domain",          # MsvAvDnsDomainName
    5: "smb.dns_tree",            # MsvAvDnsTreeName
}
MAX_AV_PAIRS = 32


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "little")


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "little")


def _field(msg: bytes, pos: int) -> bytes:
    """A (Len u16, MaxLen u16, BufferOffset u32) payload field; empty when out of bounds."""
    if pos + 8 > len(msg):
        return b""
    length, offset = _u16(msg, pos), _u32(msg, pos + 4)
    return msg[offset : offset + length] if offset + length <= len(msg) else b""


def _text(raw: bytes, unicode: bool) -> str:
    return clean(raw, encoding="utf-16-le" if unicode else "latin-1")


def _version(msg: bytes, pos: int) -> str | None:
    """VERSION structure (MS-NLMP §2.2.2.10): major, minor, build (u16), reserved, revision."""
    if pos + 8 > len(msg) or msg[pos] == 0:
        return None
    return f"{msg[pos]}.{msg[pos + 1]}.{_u16(msg, pos + 2)}"


def ntlm_facts(blob: bytes) -> tuple[int, list[tuple[str, str]]]:
    """(message type, [(kind, value)]) of the first NTLMSSP message in ``blob``; (0, []) if none.

    CHALLENGE (from the server): TargetInfo names and the server OS version. NEGOTIATE and AUTHENTICATE
    (from the client): the workstation and domain names and the client OS version.
    """
    start = blob.find(SIGNATURE)
    if start < 0 or start + 12 > len(blob):
        return 0, []
    msg = blob[start:]
    msg_type = _u32(msg, 8)
    facts: list[tuple[str, str]] = []
    if msg_type == CHALLENGE and len(msg) >= 48:
        flags = _u32(msg, 20)
        info = _field(msg, 40)
        pos = 0
        for _ in range(MAX_AV_PAIRS):
            if pos + 4 > len(info):
                break
            av_id, av_len = _u16(info, pos), _u16(info, pos + 2)
            if av_id == 0:  # MsvAvEOL
                break
            if av_id in AV_KINDS:
                facts.append((AV_KINDS[av_id], _text(info[pos + 4 : pos + 4 + av_len], True)))
            pos += 4 + av_len
        version = _version(msg, 48) if flags & FLAG_VERSION else None
    elif msg_type == NEGOTIATE and len(msg) >= 16:
        flags = _u32(msg, 12)
        version = _version(msg, 32) if flags & FLAG_VERSION else None
    elif msg_type == AUTHENTICATE and len(msg) >= 64:
        flags = _u32(msg, 60)
        unicode = bool(flags & FLAG_UNICODE)
        facts.append(("smb.domain", _text(_field(msg, 28), unicode)))
        facts.append(("netbios.name", _text(_field(msg, 44), unicode)))
        version = _version(msg, 64) if flags & FLAG_VERSION else None
    else:
        return 0, []
    if version:
        facts.append(("smb.os_version", version))
    return msg_type, [(kind, value) for kind, value in facts if value]

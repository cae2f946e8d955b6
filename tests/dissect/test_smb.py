"""SMB dissector: golden NBSS/SMB1/SMB2/NTLMSSP bytes, differential against tshark, fuzz.

The public SMB traces at hand (``netbios_*``) are malformed edge cases, so the differential tests write
our golden exchange into a pcap and ask tshark to decode the very same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from tests.support.dissect_fuzz import mutated, run_contract
from tests.support.streams import tcp_streams, write_tcp_pcap
from tests.support.tshark import fields
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.smb import DISSECTOR
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.0.0.1",
                  dst_ip="10.0.0.2", src_port=40000, dst_port=139)


def nbss(payload: bytes, msg_type: int = 0x00) -> bytes:
    """NBSS message (RFC 1002 §4.3.1): type, flags (length bit 16), 16-bit length, then the payload."""
    return bytes([msg_type, 0]) + len(payload).to_bytes(2, "big") + payload


def netbios_name(name: str, suffix: int) -> bytes:
    """First-level encoded NetBIOS name (RFC 1001 §14.1): 0x20, 32 half-octet letters, root label."""
    raw = name.upper().ljust(15).encode() + bytes([suffix])
    return b"\x20" + bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 0xF))) + b"\x00"


def smb1(command: int, reply: bool, words: bytes, data: bytes) -> bytes:
    """SMB1 header ([MS-CIFS] §2.2.3.1), then WordCount, words, ByteCount, bytes."""
    header = (b"\xffSMB" + bytes([command]) + bytes(4) + bytes([0x98 if reply else 0x18]) + b"\x53\xc8"
              + bytes(12) + b"\xff\xff" + b"\xfe\xff" + bytes(4))
    return header + bytes([len(words) // 2]) + words + len(data).to_bytes(2, "little") + data


def smb2(command: int, response: bool, body: bytes, message_id: int = 0) -> bytes:
    """SMB2 header ([MS-SMB2] §2.2.1.2, 64 bytes), then the command body."""
    return (b"\xfeSMB" + (64).to_bytes(2, "little") + bytes(6) + command.to_bytes(2, "little")
            + b"\x01\x00" + (1 if response else 0).to_bytes(4, "little") + bytes(4)
            + message_id.to_bytes(8, "little") + bytes(32) + body)


def u16s(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(2, "little") for v in values)


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def av(av_id: int, text: str) -> bytes:
    return av_id.to_bytes(2, "little") + len(utf16(text)).to_bytes(2, "little") + utf16(text)


VERSION_CLIENT = bytes([10, 0]) + (19041).to_bytes(2, "little") + bytes(3) + b"\x0f"  # 10.0.19041, rev 15
VERSION_SERVER = bytes([10, 0]) + (17763).to_bytes(2, "little") + bytes(3) + b"\x0f"  # 10.0.17763
FLAGS = (0x00000001 | 0x00000200 | 0x00080000 | 0x02000000 | 0x00800000).to_bytes(4, "little")

# NTLM NEGOTIATE (MS-NLMP §2.2.1.1): signature, type 1, flags, empty domain/workstation, version.
NTLM_NEGOTIATE = b"NTLMSSP\x00" + (1).to_bytes(4, "little") + FLAGS + bytes(16) + VERSION_CLIENT
# NTLM CHALLENGE (§2.2.1.2): target name "WARD" at 56, target info after it.
TARGET_NAME = utf16("WARD")
TARGET_INFO = (av(2, "WARD") + av(1, "FILESRV01") + av(4, "ward.local") + av(3, "filesrv01.ward.local")
               + av(5, "ward.local") + b"\x00\x00\x00\x00")
NTLM_CHALLENGE = (b"NTLMSSP\x00" + (2).to_bytes(4, "little")
                  + len(TARGET_NAME).to_bytes(2, "little") * 2 + (56).to_bytes(4, "little") + FLAGS
                  + bytes.fromhex("1122334455667788") + bytes(8)
                  + len(TARGET_INFO).to_bytes(2, "little") * 2 + (56 + len(TARGET_NAME)).to_bytes(4, "little")
                  + VERSION_SERVER + TARGET_NAME + TARGET_INFO)
# NTLM AUTHENTICATE (§2.2.1.3): payload at 88: LM (24), NT response (fake hash, 24), domain, user,
# workstation. The user name and the responses must never come out.
_PAYLOAD = [b"\xaa" * 24, b"\xbb" * 24, utf16("WARD"), utf16("nurse.jones"), utf16("PUMP-07"), b""]
_fields, _offset = b"", 88
for _part in _PAYLOAD:
    _fields += len(_part).to_bytes(2, "little") * 2 + _offset.to_bytes(4, "little")
    _offset += len(_part)
NTLM_AUTHENTICATE = (b"NTLMSSP\x00" + (3).to_bytes(4, "little") + _fields + FLAGS + VERSION_CLIENT
                     + bytes(16) + b"".join(_PAYLOAD))


def session_setup_request(token: bytes, message_id: int) -> bytes:
    """SMB2 SESSION_SETUP request (§2.2.5): buffer at offset 64 + 24."""
    body = (b"\x19\x00\x00\x01" + bytes(8) + (88).to_bytes(2, "little") + len(token).to_bytes(2, "little")
            + bytes(8) + token)
    return smb2(0x0001, False, body, message_id)


def session_setup_response(token: bytes, message_id: int) -> bytes:
    """SMB2 SESSION_SETUP response (§2.2.6): buffer at offset 64 + 8."""
    body = b"\x09\x00\x00\x00" + (72).to_bytes(2, "little") + len(token).to_bytes(2, "little") + token
    return smb2(0x0001, True, body, message_id)


SMB1_DIALECTS = ["PC NETWORK PROGRAM 1.0", "LANMAN1.0", "NT LM 0.12", "SMB 2.002", "SMB 2.???"]
SMB2_CODES = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311]
NEGOTIATE2_REQUEST = smb2(0, False, (36).to_bytes(2, "little") + len(SMB2_CODES).to_bytes(2, "little")
                          + b"\x01\x00" + bytes(2) + bytes(4) + bytes(16) + bytes(8) + u16s(SMB2_CODES), 1)


def negotiate2_response(dialect: int, message_id: int) -> bytes:
    """SMB2 NEGOTIATE response (§2.2.4): StructureSize 65, SecurityMode, DialectRevision ..."""
    return smb2(0, True, (65).to_bytes(2, "little") + b"\x01\x00" + dialect.to_bytes(2, "little")
                + bytes(58), message_id)


EXCHANGE = [
    (True, nbss(netbios_name("FILESRV01", 0x20) + netbios_name("PUMP-07", 0x00), 0x81)),
    (False, nbss(b"", 0x82)),
    (True, nbss(smb1(0x72, False, b"", b"".join(b"\x02" + d.encode() + b"\x00" for d in SMB1_DIALECTS)))),
    (False, nbss(negotiate2_response(0x02FF, 0))),
    (True, nbss(NEGOTIATE2_REQUEST)),
    (False, nbss(negotiate2_response(0x0311, 1))),
    (True, nbss(session_setup_request(NTLM_NEGOTIATE, 2))),
    (False, nbss(session_setup_response(NTLM_CHALLENGE, 2))),
    (True, nbss(session_setup_request(NTLM_AUTHENTICATE, 3))),
]
CLIENT = b"".join(data for from_client, data in EXCHANGE if from_client)
SERVER = b"".join(data for from_client, data in EXCHANGE if not from_client)


def facts(client: bytes, server: bytes) -> set[tuple[str, str, bool]]:
    return {(o.kind, o.value, o.ip == "10.0.0.2") for o in DISSECTOR.dissect(CTX, client, server)}


def test_golden_exchange() -> None:
    assert facts(CLIENT, SERVER) == {
        ("netbios.name", "FILESRV01", True),
        ("netbios.name", "PUMP-07", False),
        ("smb.dialects", ",".join(SMB1_DIALECTS), False),
        ("smb.v1", "true", False),
        ("smb.dialect", "2.???", True),
        ("smb.dialects", "2.0.2,2.1,3.0,3.0.2,3.1.1", False),
        ("smb.dialect", "3.1.1", True),
        ("smb.os_version", "10.0.19041", False),
        ("smb.os_version", "10.0.17763", True),
        ("smb.domain", "WARD", True),
        ("smb.domain", "WARD", False),
        ("netbios.name", "FILESRV01", True),
        ("smb.dns_computer_name", "filesrv01.ward.local", True),
        ("smb.dns_domain", "ward.local", True),
        ("smb.dns_tree", "ward.local", True),
    }


def test_no_user_name_and_no_hash_leaves_the_dissector() -> None:
    for obs in DISSECTOR.dissect(CTX, CLIENT, SERVER):
        text = repr(obs)
        assert "nurse" not in text and "aaaa" not in text and "bbbb" not in text and "1122" not in text


def test_smb1_server_answer() -> None:
    # An SMB1-only server answers NEGOTIATE with DialectIndex 2 ("NT LM 0.12") in SMB1.
    reply = smb1(0x72, True, (2).to_bytes(2, "little") + bytes(32), b"")
    got = facts(EXCHANGE[2][1], nbss(reply))
    assert ("smb.dialect", "NT LM 0.12", True) in got
    assert ("smb.v1", "true", True) in got


def test_detect_and_refuse() -> None:
    assert DISSECTOR.detect(CLIENT, CTX)
    assert DISSECTOR.detect(EXCHANGE[4][1], CTX)
    assert not DISSECTOR.detect(b"GET / HTTP/1.1\r\n", CTX)
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n"))


# --- differential against tshark -----------------------------------------------------------------

def test_golden_exchange_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = tmp_path / "smb.pcap"
    write_tcp_pcap(capture, EXCHANGE, server=("10.0.0.2", 139))
    (stream,) = tcp_streams(capture)
    ours = facts(stream.client_bytes, stream.server_bytes)

    def tshark_values(display_filter: str, field: str) -> list[str]:
        return [v for row in fields(tshark, capture, display_filter, field) for v in row[0].split("|") if v]

    called, calling = tshark_values("nbss.type == 0x81", "nbss.called_name")[0], \
        tshark_values("nbss.type == 0x81", "nbss.calling_name")[0]
    assert ("netbios.name", called.split("<")[0].strip(), True) in ours
    assert ("netbios.name", calling.split("<")[0].strip(), False) in ours
    assert ("smb.dialects", ",".join(tshark_values("smb.cmd == 0x72", "smb.dialect.name")), False) in ours
    theirs_smb2 = tshark_values("smb2.cmd == 0 && smb2.flags.response == 0", "smb2.dialect")
    ours_smb2 = next(v for k, v, _ in ours if k == "smb.dialects" and v.startswith("2.0.2")).split(",")
    assert [int(d, 16) for d in theirs_smb2] == [int(code) for code in _codes(ours_smb2)]
    assert tshark_values("ntlmssp.messagetype == 2", "ntlmssp.challenge.target_info.nb_computer_name") \
        == ["FILESRV01"]
    for field, kind in [("ntlmssp.challenge.target_info.dns_computer_name", "smb.dns_computer_name"),
                        ("ntlmssp.challenge.target_info.dns_domain_name", "smb.dns_domain"),
                        ("ntlmssp.challenge.target_info.nb_domain_name", "smb.domain")]:
        (value,) = set(tshark_values("ntlmssp.messagetype == 2", field))
        assert (kind, value, True) in ours
    (host,) = tshark_values("ntlmssp.messagetype == 3", "ntlmssp.auth.hostname")
    assert ("netbios.name", host, False) in ours
    for message_type, is_server in (("2", True), ("1", False)):
        row = fields(tshark, capture, f"ntlmssp.messagetype == {message_type}", "ntlmssp.version.major",
                     "ntlmssp.version.minor", "ntlmssp.version.build_number")[0]
        assert ("smb.os_version", ".".join(row), is_server) in ours


def _codes(names: list[str]) -> list[int]:
    table = {"2.0.2": 0x0202, "2.1": 0x0210, "3.0": 0x0300, "3.0.2": 0x0302, "3.1.1": 0x0311}
    return [table[n] for n in names]


@pytest.mark.parametrize("name", ["netbios_netbios-split-session-msg.pcap",
                                  "netbios_netbios-truncated-session-msg.pcap"])
def test_malformed_public_traces_do_not_crash(name: str) -> None:
    for stream in tcp_streams(require_shared("zeek-traces", name)):
        run_contract(DISSECTOR, stream.ctx(), stream.client_bytes, stream.server_bytes)


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=st.one_of(st.binary(max_size=600), mutated(CLIENT)), server=mutated(SERVER))
def test_fuzz(client: bytes, server: bytes) -> None:
    run_contract(DISSECTOR, CTX, client, server)

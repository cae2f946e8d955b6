"""NetBIOS dissector: crafted name-service and browser packets, checked against tshark, and fuzzed.

The shared captures hold no NetBIOS-NS or browser traffic (zeek's netbios traces are TCP sessions), so
the packets here are built from the RFCs and written to a small pcap that tshark dissects too.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams, write_udp_pcap
from wardwatch.dissect._wire.netbios_names import decode_first_level
from wardwatch.dissect.netbios import DISSECTOR
from wardwatch.errors import ParseError


def encode(name: str, suffix: int) -> bytes:
    """First-level encoding (RFC 1001 §14.1) of a 15-octet blank-padded name and its suffix, as a label."""
    raw = name.encode().ljust(15, b" ") + bytes([suffix])
    return b"\x20" + bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 0xF))) + b"\x00"


def ns(flags: int, questions: list[bytes], answers: list[bytes], additional: list[bytes]) -> bytes:
    return struct.pack("!HHHHHH", 0x1234, flags, len(questions), len(answers), 0, len(additional)) + b"".join(
        [*questions, *answers, *additional])


def nb_rr(name: bytes, nb_flags: int, addr: bytes, rtype: int = 0x20) -> bytes:
    return name + struct.pack("!HHIH", rtype, 1, 300000, 6) + struct.pack("!H", nb_flags) + addr


# Name registration request (RFC 1002 §4.2.2): flags 0x2910 = opcode 5, RD, B; question
# "INFUSION-07<00>" type NB; additional NB record with NB_FLAGS 0 (unique, B-node) and 10.0.0.7.
REGISTER = ns(0x2910, [encode("INFUSION-07", 0x00) + b"\x00\x20\x00\x01"], [],
              [b"\xc0\x0c" + struct.pack("!HHIH", 0x20, 1, 300000, 6) + b"\x00\x00" + bytes([10, 0, 0, 7])])
# Group registration of the workgroup "RADIOLOGY<1e>" (NB_FLAGS G bit set).
REGISTER_GROUP = ns(0x2910, [encode("RADIOLOGY", 0x1E) + b"\x00\x20\x00\x01"], [],
                    [b"\xc0\x0c" + struct.pack("!HHIH", 0x20, 1, 300000, 6) + b"\x80\x00" + bytes([10, 0, 0, 7])])
# Positive name query response (§4.2.13) from a WINS server about 10.0.0.9.
ANSWER = ns(0x8500, [], [nb_rr(encode("PACS-01", 0x20), 0x0000, bytes([10, 0, 0, 9]))], [])
# Node status response (§4.2.18): two names (unique PACS-01<00>, group RADIOLOGY<00>), unit id, stats.
NODE_STATUS = ns(0x8400, [], [encode("*", 0x00) + struct.pack(
    "!HHIH", 0x21, 1, 0, 1 + 2 * 18 + 46) + b"\x02" + b"PACS-01".ljust(15) + b"\x00\x04\x00"
    + b"RADIOLOGY".ljust(15) + b"\x00\x84\x00" + bytes.fromhex("001b638445e6") + bytes(40)], [])


def browser_datagram() -> bytes:
    """A BROWSER host announcement (MS-BRWS §2.2.1) in a mailslot SMB transaction in a broadcast datagram."""
    announcement = (b"\x01\x00" + struct.pack("<I", 720000) + b"PACS-01".ljust(16, b"\0") + b"\x06\x01"
                    + struct.pack("<I", 0x00011203) + b"\x0f\x01" + b"\x55\xaa" + b"Radiology PACS\0")
    name = b"\\MAILSLOT\\BROWSE\0"
    data_offset = 32 + 1 + 34 + 2 + len(name)
    words = struct.pack("<HHHHBBHIHHHHHBB", 0, len(announcement), 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        len(announcement), data_offset, 3, 0) + struct.pack("<HHH", 1, 1, 2)
    smb = (b"\xffSMB\x25" + bytes(27) + b"\x11" + words + struct.pack("<H", len(name) + len(announcement))
           + name + announcement)
    header = struct.pack("!BBH4sHHH", 0x11, 0x0A, 7, bytes([10, 0, 0, 9]), 138, len(smb) + 68, 0)
    return header + encode("PACS-01", 0x00) + encode("RADIOLOGY", 0x1D) + smb


BROWSE = browser_datagram()


def facts(data: bytes, port: int = 137, src: str = "10.0.0.7") -> set[tuple[str, str, str | None]]:
    return {(o.kind, o.value, o.ip) for o in DISSECTOR.dissect(context(src_ip=src, sport=port, dport=port),
                                                                data, b"")}


def test_golden_registrations() -> None:
    assert facts(REGISTER) == {("netbios.name", "INFUSION-07<00>", "10.0.0.7")}
    assert facts(REGISTER_GROUP) == {("netbios.workgroup", "RADIOLOGY", "10.0.0.7")}


def test_answer_is_about_the_owner_not_the_wins_server() -> None:
    found = list(DISSECTOR.dissect(context(src_ip="10.0.0.1", sport=137), ANSWER, b""))
    assert [(o.kind, o.value, o.ip, o.mac) for o in found] == [("netbios.name", "PACS-01<20>", "10.0.0.9", None)]


def test_node_status() -> None:
    assert facts(NODE_STATUS, src="10.0.0.9") == {
        ("netbios.name", "PACS-01<00>", "10.0.0.9"), ("netbios.workgroup", "RADIOLOGY", "10.0.0.9"),
        ("netbios.mac", "00:1b:63:84:45:e6", "10.0.0.9")}


def test_browser_announcement() -> None:
    assert facts(BROWSE, port=138, src="10.0.0.9") == {
        ("netbios.name", "PACS-01<00>", "10.0.0.9"), ("netbios.workgroup", "RADIOLOGY", "10.0.0.9"),
        ("netbios.hostname", "PACS-01", "10.0.0.9"), ("netbios.os_version", "6.1", "10.0.0.9"),
        ("netbios.server_type", "0x00011203", "10.0.0.9"), ("netbios.comment", "Radiology PACS", "10.0.0.9")}


def test_bad_encoding_is_refused() -> None:
    with pytest.raises(ParseError):
        decode_first_level(b"Z" * 32)
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(sport=137), REGISTER.replace(b"EJ", b"zz", 1), b""))


def test_detect() -> None:
    assert DISSECTOR.detect(REGISTER, context(dport=137))
    assert DISSECTOR.detect(BROWSE, context(dport=138))
    assert not DISSECTOR.detect(REGISTER, context(dport=53))


def test_matches_tshark(tmp_path: Path, tshark: str) -> None:
    packets = [("10.0.0.7", "10.0.0.255", 137, 137, REGISTER), ("10.0.0.7", "10.0.0.255", 137, 137, REGISTER_GROUP),
               ("10.0.0.1", "10.0.0.7", 137, 137, ANSWER), ("10.0.0.9", "10.0.0.7", 137, 137, NODE_STATUS),
               ("10.0.0.9", "10.0.0.255", 138, 138, BROWSE)]
    pcap = write_udp_pcap(tmp_path / "netbios.pcap", packets)
    ours = {dg.frame: {(o.kind, o.value) for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"")}
            for dg in udp_datagrams(pcap)}
    rows = oracle.fields(tshark, pcap, "nbns || browser", "frame.number", "nbns.name", "nbns.netbios_name",
                         "nbns.unit_id", "browser.server", "browser.os_major", "browser.os_minor",
                         "browser.server_type", "browser.comment", "nbdgm.source_name",
                         "nbdgm.destination_name")
    by_frame = {int(r[0]): r[1:] for r in rows}
    assert set(by_frame) == {1, 2, 3, 4, 5}
    # names as tshark prints them: "INFUSION-07<00> (Workstation/Redirector)", "PACS-01<20> (Server service)"
    assert names(by_frame[1][0]) == {"INFUSION-07<00>"} and ("netbios.name", "INFUSION-07<00>") in ours[1]
    assert names(by_frame[2][0]) == {"RADIOLOGY<1e>"} and ("netbios.workgroup", "RADIOLOGY") in ours[2]
    assert names(by_frame[3][0]) == {"PACS-01<20>"} and ("netbios.name", "PACS-01<20>") in ours[3]
    assert names(by_frame[4][1]) == {"PACS-01", "RADIOLOGY"}  # node status names: tshark shows no suffix
    assert {("netbios.name", "PACS-01<00>"), ("netbios.workgroup", "RADIOLOGY")} <= ours[4]
    assert ("netbios.mac", by_frame[4][2]) in ours[4]
    server, major, minor, server_type, comment, source, dest = by_frame[5][3:]
    assert ("netbios.hostname", server) in ours[5]
    assert ("netbios.os_version", f"{major}.{minor}") in ours[5]
    assert ("netbios.server_type", f"0x{int(server_type, 0):08x}") in ours[5]
    assert ("netbios.comment", comment) in ours[5]
    assert names(source) == {"PACS-01<00>"} and ("netbios.name", "PACS-01<00>") in ours[5]
    assert names(dest) == {"RADIOLOGY<1d>"} and ("netbios.workgroup", "RADIOLOGY") in ours[5]


def names(cell: str) -> set[str]:
    """tshark's NetBIOS names of one field, without the role in parentheses."""
    return {item.split(" (")[0] for item in cell.split("|") if item}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), mutations([REGISTER, ANSWER, NODE_STATUS, BROWSE])),
       port=st.sampled_from([137, 138]))
def test_fuzz_only_parse_errors(data: bytes, port: int) -> None:
    run_guarded(DISSECTOR, data, context(sport=port, dport=port))

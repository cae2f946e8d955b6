"""CDP dissector: a golden CDPv2 frame, differential against tshark, fuzz."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from tests.support.dissect_fuzz import mutated, run_contract
from tests.support.streams import frames, write_frames
from tests.support.tshark import fields
from wardwatch.dissect.cdp import DISSECTOR
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=0, src_mac="00:0c:29:aa:bb:cc", dst_mac="01:00:0c:cc:cc:cc",
                  src_ip=None, dst_ip=None, src_port=0, dst_port=0x2000)


def tlv(tlv_type: int, value: bytes) -> bytes:
    """CDP TLV: 2-octet type, 2-octet length including this 4-octet header."""
    return tlv_type.to_bytes(2, "big") + (len(value) + 4).to_bytes(2, "big") + value


def ipv4_addresses(*ips: str) -> bytes:
    """Addresses TLV value: count, then (NLPID type 1, length 1, protocol 0xcc, length 4, address)."""
    out = len(ips).to_bytes(4, "big")
    for ip in ips:
        out += b"\x01\x01\xcc\x00\x04" + ipaddress.IPv4Address(ip).packed
    return out


IPV6 = b"\x02\x08\xaa\xaa\x03\x00\x00\x00\x86\xdd\x00\x10" + ipaddress.IPv6Address("2001:db8::7").packed
CDP = b"".join([
    b"\x02\xb4\x00\x00",                                    # version 2, TTL 180 s, checksum (unchecked)
    tlv(0x01, b"SEP001B638445E6"),                          # Device ID (a Cisco IP phone)
    tlv(0x02, ipv4_addresses("10.20.30.40")),         # Addresses
    tlv(0x03, b"Port 1"),                                   # Port ID
    tlv(0x04, (0x90).to_bytes(4, "big")),                   # Capabilities: host (0x10) + phone (0x80)
    tlv(0x05, b"SIP78xx.14-1-1\n"),                         # Software version
    tlv(0x06, b"Cisco IP Phone 7841"),                      # Platform
    tlv(0x0A, (30).to_bytes(2, "big")),                     # Native VLAN 30
    tlv(0x0E, b"\x01" + (200).to_bytes(2, "big")),          # Voice VLAN: appliance 1 (phone), VLAN 200
    tlv(0x16, (2).to_bytes(4, "big")                        # Management addresses: IPv4 and IPv6
        + b"\x01\x01\xcc\x00\x04" + ipaddress.IPv4Address("10.20.30.41").packed + IPV6),
])
LLC_SNAP = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00"
FRAME = (bytes.fromhex("01000ccccccc000c29aabbcc") + (len(LLC_SNAP) + len(CDP)).to_bytes(2, "big")
         + LLC_SNAP + CDP)


def kinds(data: bytes, ctx: FlowContext = CTX) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for obs in DISSECTOR.dissect(ctx, data, b""):
        out.setdefault(obs.kind, set()).add(obs.value)
    return out


def test_golden_cdpv2() -> None:
    assert kinds(CDP) == {
        "cdp.version": {"2"},
        "cdp.device_id": {"SEP001B638445E6"},
        "cdp.address": {"10.20.30.40"},
        "cdp.port": {"Port 1"},
        "cdp.capabilities": {"host,voip-phone"},
        "cdp.software_version": {"SIP78xx.14-1-1"},
        "cdp.platform": {"Cisco IP Phone 7841"},
        "cdp.native_vlan": {"30"},
        "cdp.voice_vlan": {"200"},
        "cdp.mgmt_address": {"10.20.30.41", "2001:db8::7"},
    }


def test_llc_snap_prefix_is_accepted() -> None:
    assert kinds(LLC_SNAP + CDP) == kinds(CDP)
    # capture/sink.py hands "from the ethertype on": the 802.3 length field, LLC/SNAP, then CDP.
    engine_form = FRAME[12:]
    assert kinds(engine_form) == kinds(CDP)
    assert DISSECTOR.detect(engine_form, CTX)
    # A length of 0x012c has a high byte that looks like CDP version 1: the LLC/SNAP check comes first.
    assert kinds(b"\x01\x2c" + LLC_SNAP + CDP) == kinds(CDP)
    assert DISSECTOR.detect(LLC_SNAP + CDP, CTX)
    assert DISSECTOR.detect(CDP, CTX)


def test_bad_tlv_length_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, CDP[:4] + b"\x00\x01\x00\x02", b""))


# --- differential against tshark -----------------------------------------------------------------

def _compare(tshark: str, capture: Path) -> None:
    (ts, src, pid, payload), *_ = list(frames(capture))
    assert pid == 0x2000
    ctx = FlowContext(ts=ts, sensor="t", proto=0, src_mac=src, dst_mac=None, src_ip=None, dst_ip=None,
                      src_port=0, dst_port=pid)
    ours = kinds(payload, ctx)
    names = ["cdp.deviceid", "cdp.portid", "cdp.platform", "cdp.software_version", "cdp.native_vlan",
             "cdp.voice_vlan", "cdp.nrgyz.ip_address", "cdp.nrgyz.ipv6_address", "cdp.version"]
    row = dict(zip(names, fields(tshark, capture, "cdp", *names)[0], strict=True))
    assert ours["cdp.device_id"] == {row["cdp.deviceid"]}
    assert ours["cdp.port"] == {row["cdp.portid"]}
    assert ours["cdp.platform"] == {row["cdp.platform"]}
    assert ours["cdp.software_version"] == {" ".join(row["cdp.software_version"].replace("|", " ").split())}
    assert ours.get("cdp.native_vlan", set()) == ({row["cdp.native_vlan"]} - {""})
    assert ours.get("cdp.voice_vlan", set()) == ({row["cdp.voice_vlan"]} - {""})
    assert ours["cdp.version"] == {row["cdp.version"]}
    tshark_ips = set(row["cdp.nrgyz.ip_address"].split("|") + row["cdp.nrgyz.ipv6_address"].split("|"))
    assert ours.get("cdp.address", set()) | ours.get("cdp.mgmt_address", set()) == tshark_ips - {""}


def test_zeek_cdp_v1_trace_equals_tshark(tshark: str) -> None:
    _compare(tshark, require_shared("zeek-traces", "cdp-v1.pcap"))


def test_golden_frame_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = tmp_path / "cdp.pcap"
    write_frames(capture, [FRAME])
    _compare(tshark, capture)


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=600), mutated(CDP), mutated(LLC_SNAP + CDP)))
def test_fuzz(data: bytes) -> None:
    run_contract(DISSECTOR, CTX, data)

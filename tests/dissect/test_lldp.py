"""LLDP dissector: a golden LLDP-MED frame, differential against tshark, fuzz."""

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
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.lldp import DISSECTOR
from wardwatch.errors import ParseError

SRC_MAC = "00:1b:63:84:45:e6"
CTX = FlowContext(ts=1.0, sensor="t", proto=0, src_mac=SRC_MAC, dst_mac="01:80:c2:00:00:0e",
                  src_ip=None, dst_ip=None, src_port=0, dst_port=0x88CC)


def tlv(tlv_type: int, value: bytes) -> bytes:
    """802.1AB §8.4 TLV: 7-bit type and 9-bit length, then the value."""
    return ((tlv_type << 9) | len(value)).to_bytes(2, "big") + value


MAC = bytes.fromhex("001b638445e6")
MUD_URL = b"https://mud.example.com/acme/pump-v2.json"
LLDPDU = b"".join([
    tlv(1, b"\x04" + MAC),                         # Chassis ID, subtype 4 (MAC address)
    tlv(2, b"\x03" + MAC),                         # Port ID, subtype 3 (MAC address)
    tlv(3, (120).to_bytes(2, "big")),              # TTL 120 s
    tlv(4, b"eth0"),                               # Port description
    tlv(5, b"infusion-pump-07"),                   # System name
    tlv(6, b"Acme Infusion Pump v2.3\r\n(build 7)"),  # System description (CRLF cleaned to a space)
    tlv(7, bytes.fromhex("0024" "0020")),          # Capabilities: bridge+telephone; enabled telephone
    # Management address: string length 17 = subtype(1) + IPv6(16); ifIndex subtype 2, if 0; no OID.
    tlv(8, bytes([17, 2]) + ipaddress.IPv6Address("fe80::21b:63ff:fe84:45e6").packed
        + b"\x02\x00\x00\x00\x00\x00"),
    tlv(127, b"\x00\x80\xc2\x01" + (100).to_bytes(2, "big")),  # IEEE 802.1 Port VLAN ID 100
    tlv(127, b"\x00\x12\xbb\x01" + b"\x00\x31\x03"),           # LLDP-MED capabilities, class III
    tlv(127, b"\x00\x12\xbb\x05" + b"HW-1.0"),                 # MED hardware revision
    tlv(127, b"\x00\x12\xbb\x06" + b"FW-2.3.1"),               # MED firmware revision
    tlv(127, b"\x00\x12\xbb\x07" + b"SW-2.3.1-build7"),        # MED software revision
    tlv(127, b"\x00\x12\xbb\x08" + b"SN123456"),               # MED serial number
    tlv(127, b"\x00\x12\xbb\x09" + b"Acme Medical"),           # MED manufacturer name
    tlv(127, b"\x00\x12\xbb\x0a" + b"PumpMaster 3000"),        # MED model name
    tlv(127, b"\x00\x00\x5e\x01" + MUD_URL),                   # RFC 8520 §11 MUD URL
    tlv(0, b""),                                   # End of LLDPDU
])
FRAME = bytes.fromhex("0180c200000e") + MAC + b"\x88\xcc" + LLDPDU + b"\x00" * 4  # padding/FCS


def kinds(client: bytes, ctx: FlowContext = CTX) -> dict[str, str]:
    return {o.kind: o.value for o in DISSECTOR.dissect(ctx, client, b"")}


def test_golden_lldp_med_frame() -> None:
    assert kinds(LLDPDU) == {
        "lldp.chassis_id": SRC_MAC,
        "lldp.port_id": SRC_MAC,
        "lldp.ttl": "120",
        "lldp.port_description": "eth0",
        "lldp.system_name": "infusion-pump-07",
        "lldp.system_description": "Acme Infusion Pump v2.3 (build 7)",
        "lldp.capabilities": "bridge,telephone",
        "lldp.capabilities_enabled": "telephone",
        "lldp.mgmt_address": "fe80::21b:63ff:fe84:45e6",
        "lldp.vlan": "100",
        "lldp.med.hardware_revision": "HW-1.0",
        "lldp.med.firmware_revision": "FW-2.3.1",
        "lldp.med.software_revision": "SW-2.3.1-build7",
        "lldp.med.serial_number": "SN123456",
        "lldp.med.manufacturer": "Acme Medical",
        "lldp.med.model": "PumpMaster 3000",
        "lldp.mud_url": MUD_URL.decode(),
    }
    assert {o.mac for o in DISSECTOR.dissect(CTX, LLDPDU, b"")} == {SRC_MAC}


@pytest.mark.parametrize("offset", [0, 12, 14])
def test_any_start_offset_gives_the_same_facts(offset: int) -> None:
    """After the ethertype (the contract), at the ethertype, or the whole Ethernet frame."""
    assert kinds(FRAME[offset:]) == kinds(LLDPDU)


def test_detect() -> None:
    assert DISSECTOR.detect(LLDPDU, CTX)
    assert DISSECTOR.detect(FRAME[12:], CTX)
    other = FlowContext(**{**{f: getattr(CTX, f) for f in CTX.__dataclass_fields__}, "dst_port": 0x2000})
    assert not DISSECTOR.detect(LLDPDU, other)  # a bare 0x02 first byte could be CDPv2
    assert not DISSECTOR.detect(b"\x01\x02", CTX)


def test_overrunning_tlv_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, LLDPDU[:40], b""))


# --- differential against tshark -----------------------------------------------------------------

TSHARK_FIELDS = {
    "lldp.system_name": "lldp.tlv.system.name",
    "lldp.system_description": "lldp.tlv.system.desc",
    "lldp.chassis_id": "lldp.chassis.id.mac",
    "lldp.port_description": "lldp.port.desc",
    "lldp.ttl": "lldp.time_to_live",
    "lldp.vlan": "lldp.ieee.802_1.port_vlan.id",
    "lldp.med.hardware_revision": "lldp.media.hardware",
    "lldp.med.firmware_revision": "lldp.media.firmware",
    "lldp.med.software_revision": "lldp.media.software",
    "lldp.med.serial_number": "lldp.media.sn",
    "lldp.med.manufacturer": "lldp.media.manufacturer",
    "lldp.med.model": "lldp.media.model",
    "lldp.mud_url": "lldp.iana.mudurl",
}


def _compare(tshark: str, capture: Path) -> int:
    (ts, src, ethertype, payload), *_ = list(frames(capture))
    assert ethertype == 0x88CC
    ctx = FlowContext(ts=ts, sensor="t", proto=0, src_mac=src, dst_mac=None, src_ip=None, dst_ip=None,
                      src_port=0, dst_port=ethertype)
    ours = kinds(payload, ctx)
    names = [*TSHARK_FIELDS.values(), "lldp.mgn.addr.ip4", "lldp.mgn.addr.ip6"]
    row = dict(zip(names, fields(tshark, capture, "lldp", *names)[0], strict=True))
    compared = 0
    for kind, field in TSHARK_FIELDS.items():
        assert ours.get(kind, "") == row[field].replace("\\r\\n", " ").strip(), kind  # tshark escapes CRLF
        compared += bool(row[field])
    assert ours.get("lldp.mgmt_address", "") == (row["lldp.mgn.addr.ip4"] or row["lldp.mgn.addr.ip6"])
    return compared


def test_zeek_lldp_trace_equals_tshark(tshark: str) -> None:
    assert _compare(tshark, require_shared("zeek-traces", "lldp.pcap")) >= 4


def test_golden_frame_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = tmp_path / "lldp-med.pcap"
    write_frames(capture, [FRAME])
    assert _compare(tshark, capture) == len(TSHARK_FIELDS)


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=600), mutated(LLDPDU), mutated(FRAME)))
def test_fuzz(data: bytes) -> None:
    run_contract(DISSECTOR, CTX, data)

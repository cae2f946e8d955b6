"""DHCPv4 dissector: golden bytes, relays and overload, a differential test against tshark, fuzzing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from wardwatch.dissect.dhcp import DISSECTOR, MESSAGE_TYPES
from wardwatch.errors import ParseError

CHADDR = bytes.fromhex("001b638445e6")


def bootp(op: int = 1, options: bytes = b"", *, giaddr: bytes = bytes(4), yiaddr: bytes = bytes(4),
          htype: int = 1, hlen: int = 6, chaddr: bytes = CHADDR, sname: bytes = b"", file: bytes = b"",
          cookie: bytes = b"\x63\x82\x53\x63") -> bytes:
    """A BOOTP message (RFC 2131 §2 figure 1) followed by ``options``."""
    return (bytes([op, htype, hlen, 0]) + bytes.fromhex("3903f326")  # op htype hlen hops, xid
            + bytes(4)  # secs, flags
            + bytes(4) + yiaddr + bytes(4) + giaddr  # ciaddr yiaddr siaddr giaddr
            + chaddr.ljust(16, b"\0") + sname.ljust(64, b"\0") + file.ljust(128, b"\0")
            + cookie + options)


# A DHCPDISCOVER of an infusion pump, options in order:
#   35 01 01                       53 message type = DISCOVER
#   0c 07 "pump-07"                12 host name
#   32 04 c0a80164                 50 requested IP 192.168.1.100
#   37 04 01 03 06 0f              55 parameter request list 1,3,6,15
#   39 02 0240                     57 max message size 576
#   3c 09 "BBraun1.0"              60 vendor class id
#   3d 07 01 001b638445e6          61 client id: htype 1 + MAC
#   4d 05 04 "iPXE"                77 user class, one RFC 3004 instance
#   51 0f 05 00 00 04"pump"07"example"00   81 client FQDN, flags S|E, wire-format name
#   2b 03 010203                   43 vendor specific
#   a1 17 "https://mud.example/p1"  161 MUD URL
#   ff                             end
DISCOVER_OPTIONS = bytes.fromhex(
    "350101" "0c07" + b"pump-07".hex() + "3204c0a80164" "37040103060f" "39020240"
    "3c09" + b"BBraun1.0".hex() + "3d0701001b638445e6" "4d0504" + b"iPXE".hex()
    + "5110050000" "04" + b"pump".hex() + "07" + b"example".hex() + "00"
    "2b03010203" "a116" + b"https://mud.example/p1".hex() + "ff"
)
DISCOVER = bootp(1, DISCOVER_OPTIONS)


def kinds(observations: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {o.kind: o.value for o in observations}


def test_golden_discover() -> None:
    ctx = context(src_ip="0.0.0.0", dst_ip="255.255.255.255", sport=68, dport=67)
    assert DISSECTOR.detect(DISCOVER, ctx)
    found = list(DISSECTOR.dissect(ctx, DISCOVER, b""))
    assert kinds(found) == {
        "dhcp.message_type": "discover",
        "dhcp.hostname": "pump-07",
        "dhcp.requested_ip": "192.168.1.100",
        "dhcp.param_list": "1,3,6,15",
        "dhcp.max_size": "576",
        "dhcp.vendor_class": "BBraun1.0",
        "dhcp.client_id": "01:00:1b:63:84:45:e6",
        "dhcp.user_class": "iPXE",
        "dhcp.fqdn": "pump.example",
        "dhcp.vendor_specific": "010203",
        "dhcp.mud_url": "https://mud.example/p1",
    }
    assert {o.mac for o in found} == {"00:1b:63:84:45:e6"}
    assert {o.ip for o in found} == {None}


def test_relayed_request_is_about_chaddr_not_the_relay() -> None:
    data = bootp(1, bytes.fromhex("350103") + b"\x0c\x02R0\xff", giaddr=bytes([10, 0, 0, 1]))
    ctx = context(src_ip="10.0.0.1", src_mac="02:aa:aa:aa:aa:aa", sport=67, dport=67)
    found = list(DISSECTOR.dissect(ctx, data, b""))
    assert {o.mac for o in found} == {"00:1b:63:84:45:e6"}
    assert kinds(found)["dhcp.hostname"] == "R0"


def test_non_ethernet_chaddr_falls_back_to_l2_source_unless_relayed() -> None:
    data = bootp(1, b"\x35\x01\x01\x0c\x01x\xff", htype=0, hlen=0, chaddr=b"")
    ctx = context(src_mac="02:bb:bb:bb:bb:bb", sport=68, dport=67)
    assert {o.mac for o in DISSECTOR.dissect(ctx, data, b"")} == {"02:bb:bb:bb:bb:bb"}
    relayed = bootp(1, b"\x35\x01\x01\x0c\x01x\xff", htype=0, hlen=0, chaddr=b"", giaddr=b"\x0a\0\0\1")
    assert list(DISSECTOR.dissect(ctx, relayed, b"")) == []  # neither a MAC nor an IP to name


def test_option_overload_reads_file_then_sname() -> None:
    # 52 = 3 (both): hostname in 'file', vendor class in 'sname'; overload inside them is ignored
    data = bootp(1, bytes.fromhex("350101" "340103" "ff"),
                 file=b"\x0c\x04file\x34\x01\x03\xff", sname=b"\x3c\x05sname\xff")
    found = kinds(DISSECTOR.dissect(context(), data, b""))
    assert found["dhcp.hostname"] == "file" and found["dhcp.vendor_class"] == "sname"


def test_ack_gives_assigned_ip_and_server() -> None:
    data = bootp(2, bytes.fromhex("350105" "3604c0a80101" "ff"), yiaddr=bytes([192, 168, 1, 100]))
    ctx = context(src_ip="192.168.1.1", src_mac="02:00:00:00:00:01", dst_ip="192.168.1.100")
    found = list(DISSECTOR.dissect(ctx, data, b""))
    by_kind = {o.kind: o for o in found}
    assert by_kind["dhcp.assigned_ip"].value == "192.168.1.100"
    assert by_kind["dhcp.assigned_ip"].mac == "00:1b:63:84:45:e6"
    assert by_kind["dhcp.server"].value == "192.168.1.1"
    assert by_kind["dhcp.server"].mac == "02:00:00:00:00:01"
    assert "dhcp.hostname" not in by_kind


def test_repeated_option_is_concatenated_rfc3396() -> None:
    data = bootp(1, b"\x0c\x03abc\x0c\x03def\xff")
    assert kinds(DISSECTOR.dissect(context(), data, b""))["dhcp.hostname"] == "abcdef"


def test_hostile_values_are_cleaned_and_clipped() -> None:
    data = bootp(1, b"\x0c\x0aev\x00il\x1b[0m\n" + b"\x3c\xff" + b"A" * 255 + b"\xff")
    found = kinds(DISSECTOR.dissect(context(), data, b""))
    assert found["dhcp.hostname"] == "evil[0m"
    assert found["dhcp.vendor_class"] == "A" * 255


@pytest.mark.parametrize("data", [
    bootp(1, cookie=b"\x00\x00\x00\x00"),  # wrong magic cookie
    DISCOVER[:239],  # cut inside the cookie
    bootp(1, b"\x0c\x10short"),  # option runs past the end
    bootp(1, b"\x0c"),  # option without length
])
def test_malformed_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(), data, b""))


def test_detect_rejects_other_udp() -> None:
    assert not DISSECTOR.detect(b"M-SEARCH * HTTP/1.1\r\n", context())
    assert not DISSECTOR.detect(bootp(1, cookie=b"abcd"), context())


# --- differential against tshark ----------------------------------------------------------------

CAPTURES = sorted(
    [p.relative_to(SHARED_DATA) for p in (SHARED_DATA / "zeek-traces").glob("dhcp_*.pcap*")]
    + [p.relative_to(SHARED_DATA) for p in (SHARED_DATA / "iot-sentinel").glob("*/*.pcap")]
) or [Path("zeek-traces/dhcp_dhcp.pcap")]

# our kind -> (tshark field, how tshark's per-packet occurrences become our value)
FIELDS = {
    "dhcp.hostname": "dhcp.option.hostname",
    "dhcp.vendor_class": "dhcp.option.vendor_class_id",
    "dhcp.param_list": "dhcp.option.request_list_item",
    "dhcp.requested_ip": "dhcp.option.requested_ip_address",
    "dhcp.max_size": "dhcp.option.dhcp_max_message_size",
    "dhcp.message_type": "dhcp.option.dhcp",
    "dhcp.mud_url": "dhcp.option.mudurl",
}


def _tshark_request_facts(tshark: str, capture: Path) -> dict[int, dict[str, str]]:
    names = list(FIELDS.values())
    rows = oracle.fields(tshark, capture, "dhcp.type == 1", "frame.number", *names)
    out: dict[int, dict[str, str]] = {}
    for row in rows:
        facts: dict[str, str] = {}
        for kind, cell in zip(FIELDS, row[1:], strict=True):
            if not cell:
                continue
            if kind == "dhcp.param_list":
                facts[kind] = cell.replace("|", ",")
            elif kind == "dhcp.message_type":
                facts[kind] = MESSAGE_TYPES[int(cell)]
            else:
                facts[kind] = cell
        out[int(row[0])] = facts
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_matches_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    expected = _tshark_request_facts(tshark, path)
    ours: dict[int, dict[str, str]] = defaultdict(dict)
    for dg in udp_datagrams(path):
        if not DISSECTOR.detect(dg.payload, dg.ctx) or dg.payload[0] != 1:
            continue
        for obs in DISSECTOR.dissect(dg.ctx, dg.payload, b""):
            if obs.kind in FIELDS:
                ours[dg.frame][obs.kind] = obs.value
    for frame, facts in expected.items():
        assert ours.get(frame, {}) == facts, f"frame {frame}"
    assert set(ours) <= set(expected)


def test_server_facts_match_tshark(tshark: str) -> None:
    path = require_shared("zeek-traces", "dhcp_dhcp.pcap")
    rows = oracle.fields(tshark, path, "dhcp.option.dhcp == 5", "frame.number", "dhcp.ip.your",
                         "dhcp.option.dhcp_server_id")
    assert rows
    by_frame = {dg.frame: kinds(DISSECTOR.dissect(dg.ctx, dg.payload, b"")) for dg in udp_datagrams(path)}
    for frame, yiaddr, server in rows:
        assert by_frame[int(frame)]["dhcp.assigned_ip"] == yiaddr
        assert by_frame[int(frame)]["dhcp.server"] == server


# --- fuzzing --------------------------------------------------------------------------------------

SEEDS = [DISCOVER, bootp(2, bytes.fromhex("350105" "3604c0a80101" "ff")),
         bootp(1, bytes.fromhex("350101" "340103" "ff"), file=b"\x0c\x04file\xff")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=600), mutations(SEEDS)))
def test_fuzz_only_parse_errors(data: bytes) -> None:
    run_guarded(DISSECTOR, data, context(sport=68, dport=67))

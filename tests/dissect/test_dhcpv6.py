"""DHCPv6 dissector: crafted client messages (none in the shared captures) checked against tshark, fuzzed."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from wardwatch.dissect.dhcpv6 import DISSECTOR
from wardwatch.errors import ParseError


def opt(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


# Solicit (RFC 8415 §16.2): msg-type 1, transaction id 0x5b1a2c, then
#   option 1  client id: DUID-LLT (type 1), hardware type 1, time 0x2a2b2c2d, MAC 00:1b:63:84:45:e6
#   option 6  ORO: 23 (DNS servers), 24 (domain list), 39 (FQDN)
#   option 39 FQDN: flags S, wire name "pump7.example."
#   option 16 vendor class: enterprise 311, one item "MSFT 5.0"
#   option 15 user class: one item "icu"
SOLICIT = (b"\x01\x5b\x1a\x2c"
           + opt(1, bytes.fromhex("000100012a2b2c2d001b638445e6"))
           + opt(6, struct.pack("!HHH", 23, 24, 39))
           + opt(39, b"\x01\x05pump7\x07example\x00")
           + opt(16, struct.pack("!IH", 311, 8) + b"MSFT 5.0")
           + opt(15, struct.pack("!H", 3) + b"icu"))
EXPECTED = {
    "dhcpv6.message_type": "solicit", "dhcpv6.duid": "000100012a2b2c2d001b638445e6",
    "dhcpv6.mac": "00:1b:63:84:45:e6", "dhcpv6.oro": "23,24,39", "dhcpv6.fqdn": "pump7.example",
    "dhcpv6.vendor_class": "311:MSFT 5.0", "dhcpv6.user_class": "icu",
}


def relay(inner: bytes, depth: int = 1) -> bytes:
    """Relay-Forward (§9): hop count, link-address, peer-address fe80::21b:63ff:fe84:45e6, option 9."""
    msg = inner
    for hop in range(depth):
        peer = socket.inet_pton(socket.AF_INET6, "fe80::21b:63ff:fe84:45e6")
        msg = bytes([12, hop]) + bytes(16) + peer + opt(9, msg)
    return msg


def ctx6() -> object:
    return context(src_ip="fe80::1", dst_ip="ff02::1:2", sport=546, dport=547)


def test_golden_solicit() -> None:
    found = list(DISSECTOR.dissect(ctx6(), SOLICIT, b""))  # type: ignore[arg-type]
    assert {o.kind: o.value for o in found} == EXPECTED
    assert {o.ip for o in found} == {"fe80::1"}


def test_relayed_solicit_is_about_the_client() -> None:
    found = list(DISSECTOR.dissect(context(src_ip="2001:db8::1", dport=547), relay(SOLICIT, 2), b""))
    assert {o.kind: o.value for o in found} == EXPECTED
    assert {(o.mac, o.ip) for o in found} == {("00:1b:63:84:45:e6", "fe80::21b:63ff:fe84:45e6")}


def test_relay_depth_and_truncation_are_refused() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(dport=547), relay(SOLICIT, 12), b""))
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(dport=547), SOLICIT[:-2], b""))


def test_detect_and_server_messages() -> None:
    assert DISSECTOR.detect(SOLICIT, context(dport=547))
    assert not DISSECTOR.detect(b"\x07" + SOLICIT[1:], context(dport=546))  # a Reply
    assert list(DISSECTOR.dissect(context(dport=546), b"\x07" + SOLICIT[1:], b"")) == []


def test_matches_tshark(tmp_path: Path, tshark: str) -> None:
    pcap = tmp_path / "dhcpv6.pcap"
    with pcap.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        udp = dpkt.udp.UDP(sport=546, dport=547, data=SOLICIT)
        udp.ulen = len(udp)
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, "fe80::1"), nxt=17, hlim=1,
                           dst=socket.inet_pton(socket.AF_INET6, "ff02::1:2"), data=udp, plen=len(udp))
        eth = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x33\x33\x00\x01\x00\x02",
                                     type=dpkt.ethernet.ETH_TYPE_IP6, data=ip6)
        writer.writepkt(bytes(eth), ts=1_700_000_000)
    row = oracle.fields(tshark, pcap, "dhcpv6", "dhcpv6.msgtype", "dhcpv6.duid.bytes",
                        "dhcpv6.duidllt.link_layer_addr", "dhcpv6.requested_option_code",
                        "dhcpv6.vendorclass.enterprise", "dhcpv6.vendorclass.data")[0]
    dg = next(udp_datagrams(pcap))
    ours = {o.kind: o.value for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"")}
    msgtype, duid, mac, oro, enterprise, vdata = row
    assert msgtype == "1" and ours["dhcpv6.message_type"] == "solicit"
    assert ours["dhcpv6.duid"] == duid.replace(":", "")
    assert ours["dhcpv6.mac"] == mac
    assert ours["dhcpv6.oro"] == oro.replace("|", ",")
    assert ours["dhcpv6.vendor_class"] == f"{enterprise}:{vdata}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=200), mutations([SOLICIT, relay(SOLICIT, 2)])))
def test_fuzz_only_parse_errors(data: bytes) -> None:
    run_guarded(DISSECTOR, data, context(dport=547))

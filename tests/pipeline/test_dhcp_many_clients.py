"""Every DHCP client of a segment is read, however many share the broadcast flow.

All DHCPDISCOVERs of a segment travel 0.0.0.0:68 → 255.255.255.255:67, one flow for the capture engine;
the per-flow datagram budget must not silence the 65th client (RFC 2131 §4.1).
"""

from __future__ import annotations

import struct
from pathlib import Path

import dpkt
from tests.support.analyze import analyze_into

CLIENTS = 150


def _discover(i: int) -> bytes:
    chaddr = bytes.fromhex(f"0016b9{i:06x}")  # a registered OUI, one address per client
    hostname = f"pump-{i:03d}".encode()
    options = (b"\x63\x82\x53\x63" + bytes([53, 1, 1]) + bytes([12, len(hostname)]) + hostname
               + bytes([55, 4, 1, 3, 6, 15]) + b"\xff")
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x1000 + i, 0, 0x8000, bytes(4), bytes(4),
                        bytes(4), bytes(4), chaddr + bytes(10), bytes(64), bytes(128)) + options
    udp = dpkt.udp.UDP(sport=68, dport=67, data=bootp)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=bytes(4), dst=b"\xff\xff\xff\xff", p=dpkt.ip.IP_PROTO_UDP, ttl=64, data=udp)
    ip.len = len(ip)
    eth = dpkt.ethernet.Ethernet(src=chaddr, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
    return bytes(eth)


def test_every_client_of_the_broadcast_flow_is_read(tmp_path: Path) -> None:
    pcap = tmp_path / "dhcp-storm.pcap"
    with pcap.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle)
        for i in range(CLIENTS):
            writer.writepkt(_discover(i), ts=1_700_000_000 + i * 0.5)
    inventory, report = analyze_into(f"sqlite:///{tmp_path / 'inv.db'}", [pcap])
    assert report.dissected.get("dhcp") == CLIENTS
    names = {d.value("hostname") for d in inventory.list_devices()}
    assert names == {f"pump-{i:03d}" for i in range(CLIENTS)}

"""Every supported link type, VLAN and QinQ tags, IPv6 extension headers, L2 flows."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.capture.builders import MAC_A, eth, ip4, ip6, pcap, udp
from wardwatch.capture import CollectingSink, process_capture


def _run(tmp_path: Path, frames: list[bytes], linktype: int) -> tuple[CollectingSink, object]:
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap([(1000.0 + i, f) for i, f in enumerate(frames)], linktype=linktype))
    sink = CollectingSink()
    return sink, process_capture(path, sink)


V4 = bytes(ip4("192.0.2.1", "192.0.2.2", udp(1234, 161, b"v4"), 17))
V6 = bytes(ip6("2001:db8::1", "2001:db8::2", udp(1234, 161, b"v6"), 17))


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (1, MAC_A * 2 + b"\x08\x00" + V4),
        (113, struct.pack("!HHH", 0, 1, 6) + MAC_A + b"\0\0" + b"\x08\x00" + V4),
        (276, b"\x08\x00\0\0" + struct.pack("!I", 2) + struct.pack("!HBB", 1, 0, 6) + MAC_A + b"\0\0" + V4),
        (0, struct.pack("<I", 2) + V4),
        (0, struct.pack(">I", 2) + V4),
        (108, struct.pack(">I", 2) + V4),
        (101, V4),
        (228, V4),
        (12, V4),
    ],
)
def test_ipv4_on_every_link_type(tmp_path: Path, linktype: int, frame: bytes) -> None:
    sink, _res = _run(tmp_path, [frame], linktype)
    ctx, payload = sink.datagrams[0]
    assert payload == b"v4" and ctx.src_ip == "192.0.2.1" and ctx.dst_port == 161


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [(1, MAC_A * 2 + b"\x86\xdd" + V6), (101, V6), (229, V6), (0, struct.pack("<I", 30) + V6),
     (108, struct.pack(">I", 24) + V6)],
)
def test_ipv6_on_link_types(tmp_path: Path, linktype: int, frame: bytes) -> None:
    sink, _res = _run(tmp_path, [frame], linktype)
    assert [(c.src_ip, c.dst_ip, p) for c, p in sink.datagrams] == [("2001:db8::1", "2001:db8::2", b"v6")]


def test_vlan_and_qinq(tmp_path: Path) -> None:
    frames = [eth(ip4("10.0.0.1", "10.0.0.2", udp(1, 2, b"a"), 17), tags=((0x8100, 42),)),
              eth(ip4("10.0.0.1", "10.0.0.2", udp(1, 2, b"b"), 17), tags=((0x88A8, 100), (0x8100, 7))),
              eth(ip4("10.0.0.1", "10.0.0.2", udp(1, 2, b"c"), 17), tags=((0x9100, 5), (0x8100, 42)))]
    sink, res = _run(tmp_path, frames, 1)
    assert [(c.vlan, p) for c, p in sink.datagrams] == [(42, b"a"), (7, b"b"), (42, b"c")]
    assert sorted(f.vlan for f in res.flows) == [7, 42]  # same 5-tuple, VLAN 42 twice: one flow


def test_ipv6_extension_headers_and_fragments(tmp_path: Path) -> None:
    body = bytes(udp(5, 6, b"ext"))
    hop = bytes([44, 0]) + b"\0" * 6  # hop-by-hop, then a fragment header
    frag_first = bytes([17, 0]) + struct.pack("!HI", 0x0001, 9)  # offset 0, M=1
    frag_later = bytes([17, 0]) + struct.pack("!HI", 8 << 3, 9)
    import socket

    def v6(ext: bytes, data: bytes) -> bytes:
        return (struct.pack("!IHBB", 0x60000000, len(ext) + len(data), 0, 64)
                + socket.inet_pton(socket.AF_INET6, "fe80::1") + socket.inet_pton(socket.AF_INET6, "fe80::2")
                + ext + data)

    sink, res = _run(tmp_path, [v6(hop + frag_first, body), v6(hop + frag_later, b"x" * 8)], 101)
    assert [p for _c, p in sink.datagrams] == [b"ext"]
    assert res.stats.fragments == 1


def test_ipv4_options_and_later_fragment(tmp_path: Path) -> None:
    opt = ip4("10.0.0.1", "10.0.0.2", udp(7, 8, b"opt"), 17, opts=b"\x01\x01\x01\x00")
    opt.hl = 6
    opt.len = len(bytes(opt))
    later = ip4("10.0.0.1", "10.0.0.2", udp(7, 8, b"zzzz"), 17, offset=24)
    sink, res = _run(tmp_path, [bytes(opt), bytes(later)], 101)
    assert [p for _c, p in sink.datagrams] == [b"opt"]
    assert res.stats.fragments == 1


def test_lldp_cdp_arp_become_l2_flows(tmp_path: Path) -> None:
    lldp = b"\x01\x80\xc2\x00\x00\x0e" + MAC_A + b"\x88\xcc" + b"\x02\x07\x04" + b"chassis"
    cdp_pdu = b"\x02\xb4\x00\x00" + b"\x00\x01\x00\x08host"
    llc = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00" + cdp_pdu
    cdp = b"\x01\x00\x0c\xcc\xcc\xcc" + MAC_A + struct.pack("!H", len(llc)) + llc
    arp = b"\xff" * 6 + MAC_A + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\0" * 20
    stp = b"\x01\x80\xc2\x00\x00\x00" + MAC_A + struct.pack("!H", 7) + b"\x42\x42\x03" + b"\0" * 4
    sink, res = _run(tmp_path, [lldp, cdp, arp, stp], 1)
    frames = {c.dst_port: f for c, f in sink.frames}
    assert frames[0x88CC] == b"\x88\xcc\x02\x07\x04chassis"
    assert frames[0x2000] == struct.pack("!H", len(llc)) + llc
    assert 0x0806 in frames
    assert {(f.proto, f.dst_port, f.src_mac) for f in res.flows} == {
        (0, 0x88CC, "02:00:00:00:00:0a"), (0, 0x2000, "02:00:00:00:00:0a"), (0, 0x0806, "02:00:00:00:00:0a")}
    assert res.stats.non_ip == 4


def test_unsupported_link_type_is_counted(tmp_path: Path) -> None:
    _sink, res = _run(tmp_path, [b"\x00" * 40], 147)
    assert res.stats.unsupported_link_types == 1 and res.stats.skipped

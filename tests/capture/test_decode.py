"""The header walk (C where built, and its Python reference): golden hand-built packets, generated packets,
and arbitrary bytes."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.capture.builders import MAC_A, MAC_B, eth, ip4, ip6, tcp, udp
from wardwatch.capture import decode as decode_module
from wardwatch.capture.decode import (
    I64,
    KIND_FRAGMENT,
    KIND_IP,
    KIND_L2,
    KIND_NONIP,
    KIND_SKIP,
    NO_TRANSPORT,
    PacketBatch,
    decode,
)
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.linklayer import ETH_IPV6, decode_link
from wardwatch.capture.records import RecordIndex

A4, B4 = "192.0.2.1", "192.0.2.2"
A6, B6 = "2001:db8::1", "2001:db8::2"
MAC_A_INT, MAC_B_INT = 0x02000000000A, 0x02000000000B
SNAP = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00"


def _batch(records: list[tuple[int, bytes, int]], pad: bytes = b"") -> tuple[bytes, RecordIndex]:
    """One buffer holding ``(link type, frame, caplen)`` records back to back (``pad`` between them)."""
    buf, off, cap, link = b"", [], [], []
    for lt, frame, caplen in records:
        off.append(len(buf))
        cap.append(caplen)
        link.append(lt)
        buf += frame + pad
    return buf, RecordIndex.build(off, cap, cap, [0.0] * len(off), link)


def _decode(records: list[tuple[int, bytes, int]]) -> tuple[PacketBatch, RecordIndex]:
    buf, rec = _batch(records, pad=b"\xee" * 3)
    return decode(Gatherer(buf, len(buf)), rec), rec


def _addr(text: str) -> tuple[int, int]:
    """(high, low) 64 bits of an address, IPv4 as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2)."""
    ip = ipaddress.ip_address(text)
    v = int(ip) | (0xFFFF << 32) if ip.version == 4 else int(ip)
    return v >> 64, v & (2**64 - 1)


def _row(pb: PacketBatch, i: int) -> dict[str, Any]:
    return {f: getattr(pb, f)[i].item() for f in PacketBatch.__dataclass_fields__}


def _v6_ext(ext: bytes, first: int, data: bytes) -> bytes:
    """IPv6 header (RFC 8200 §3) from A6 to B6 whose payload is extension headers then ``data``."""
    src, dst = (ipaddress.ip_address(a).packed for a in (A6, B6))
    return struct.pack("!IHBB", 0x60000000, len(ext) + len(data), first, 64) + src + dst + ext + data


def test_golden_ip_packets() -> None:
    tcp4 = eth(ip4(A4, B4, tcp(1234, 80, 1000, 0x18, b"hello"), 6))
    padded = tcp4 + b"\0" * (60 - len(tcp4))  # Ethernet minimum frame: padding is not payload
    hop = bytes([17, 0]) + b"\0" * 6  # hop-by-hop options, next header UDP
    qinq = eth(_v6_ext(hop, 0, bytes(udp(5353, 5353, b"mdns"))), etype=0x86DD, tags=((0x88A8, 100), (0x8100, 7)))
    sll2 = (struct.pack("!HHIHBB", 0x0800, 0, 2, 1, 0, 6) + MAC_A + b"\0\0"
            + bytes(ip4(A4, B4, udp(68, 67, b"dhcp"), 17)))
    null6 = struct.pack("<I", 30) + bytes(ip6(A6, B6, tcp(443, 50000, 7, 0x12), 6))
    cut = eth(ip4(A4, B4, tcp(1, 2, 3, 0x10, b"0123456789"), 6))
    pb, rec = _decode([(1, padded, len(padded)), (1, qinq, len(qinq)), (276, sll2, len(sll2)),
                        (0, null6, len(null6)), (1, cut, len(cut) - 4)])
    src4, dst4, src6, dst6 = _addr(A4), _addr(B4), _addr(A6), _addr(B6)
    assert _row(pb, 0) == {
        "ts": 0.0, "wirelen": 60, "kind": KIND_IP, "reason": 0, "vlan": -1, "smac": MAC_A_INT, "dmac": MAC_B_INT,
        "src_hi": src4[0], "src_lo": src4[1], "dst_hi": dst4[0], "dst_lo": dst4[1], "proto": 6, "sport": 1234,
        "dport": 80, "flags": 0x18, "seq": 1000, "poff": 54, "plen": 5, "cut": False}
    r = _row(pb, 1)
    assert (r["kind"], r["vlan"], r["proto"], r["sport"], r["dport"], r["flags"], r["seq"]) == (
        KIND_IP, 7, 17, 5353, 5353, 0, 0)
    assert (r["src_hi"], r["src_lo"], r["dst_hi"], r["dst_lo"]) == (*src6, *dst6)
    assert (r["poff"], r["plen"]) == (rec.off[1] + 22 + 40 + 8 + 8, 4)  # two tags, IPv6, hop-by-hop, UDP
    r = _row(pb, 2)
    assert (r["kind"], r["smac"], r["dmac"], r["sport"], r["dport"], r["plen"]) == (KIND_IP, MAC_A_INT, -1, 68, 67, 4)
    r = _row(pb, 3)
    assert (r["kind"], r["proto"], r["sport"], r["dport"], r["flags"], r["seq"], r["plen"]) == (
        KIND_IP, 6, 443, 50000, 0x12, 7, 0)
    r = _row(pb, 4)  # the snap length cut 4 of the 10 payload bytes
    assert (r["kind"], r["plen"], r["cut"]) == (KIND_IP, 6, True)


def test_golden_fragments_and_undecoded() -> None:
    later4 = bytes(ip4(A4, B4, udp(7, 8, b"zzzz"), 17, offset=24))
    frag6 = bytes([17, 0]) + struct.pack("!HI", 8 << 3, 9)  # fragment header, offset 8: a later fragment
    later6 = _v6_ext(frag6, 44, b"x" * 8)
    short_tcp = eth(ip4(A4, B4, tcp(1, 2, 3, 0x02), 6))
    bad_ihl = bytearray(bytes(ip4(A4, B4, udp(1, 2, b""), 17)))
    bad_ihl[0] = 0x44  # IHL 4 words: below the 20-octet minimum
    pb, rec = _decode([(101, later4, len(later4)), (229, later6, len(later6)), (1, short_tcp, 14 + 20 + 10),
                       (228, bytes(bad_ihl), len(bad_ihl)), (1, short_tcp, 10), (147, b"\x01" * 40, 40)])
    assert pb.kind.tolist() == [KIND_FRAGMENT, KIND_FRAGMENT] + [KIND_SKIP] * 4
    assert pb.reason.tolist() == [0, 0, 4, 3, 2, 1]
    assert (pb.poff[5], pb.plen[5]) == (rec.off[5], 40)  # unsupported: the whole record is left as it is


def test_golden_l2_frames() -> None:
    cdp_pdu = b"\x02\xb4\x00\x00" + b"\x00\x01\x00\x08host"
    cdp = b"\x01\x00\x0c\xcc\xcc\xcc" + MAC_A + struct.pack("!H", 8 + len(cdp_pdu)) + SNAP + cdp_pdu
    arp = b"\xff" * 6 + MAC_A + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + b"\0" * 20
    stp = b"\x01\x80\xc2\x00\x00\x00" + MAC_A + struct.pack("!H", 7) + b"\x42\x42\x03" + b"\0" * 4
    three_tags = eth(ip4(A4, B4, udp(1, 2, b""), 17), tags=((0x88A8, 1), (0x8100, 2), (0x8100, 3)))
    sll_cdp = struct.pack("!HHH", 0, 1, 6) + MAC_B + b"\0\0" + struct.pack("!H", 4) + SNAP + cdp_pdu
    pb, _rec = _decode([(1, f, len(f)) for f in (cdp, arp, stp, three_tags)] + [(113, sll_cdp, len(sll_cdp))])
    assert pb.kind.tolist() == [KIND_L2, KIND_L2, KIND_NONIP, KIND_NONIP, KIND_L2]
    assert pb.dport.tolist()[:2] == [0x2000, 0x0806] and pb.dport[4] == 0x2000
    assert pb.sport.tolist()[:2] == [8 + len(cdp_pdu), 0x0806] and pb.sport[4] == 4
    assert pb.smac.tolist() == [MAC_A_INT] * 4 + [MAC_B_INT]
    assert pb.vlan[3] == 2  # the first two tags are read, the third ends decoding


def test_link_view_matches_the_walk() -> None:
    frame = eth(bytes(ip6(A6, B6, udp(1, 2, b"x"), 17)), etype=0x86DD, tags=((0x8100, 42),))
    buf, rec = _batch([(1, frame, len(frame))])
    li = decode_link(Gatherer(buf, len(buf)), rec.off, rec.caplen, rec.link)
    assert (li.l3[0], li.etype[0], li.vlan[0], li.smac[0], li.dmac[0], li.ftype[0], li.supported[0]) == (
        18, ETH_IPV6, 42, MAC_A_INT, MAC_B_INT, ETH_IPV6, True)


_LINK_HEADERS: dict[int, Callable[[bool], bytes]] = {
    1: lambda v6: MAC_B + MAC_A + (b"\x86\xdd" if v6 else b"\x08\x00"),
    113: lambda v6: struct.pack("!HHH", 0, 1, 6) + MAC_A + b"\0\0" + (b"\x86\xdd" if v6 else b"\x08\x00"),
    0: lambda v6: struct.pack("<I", 30 if v6 else 2),
    108: lambda v6: struct.pack(">I", 24 if v6 else 2),
    101: lambda v6: b"",
}


def _ext_chain(types: list[int], last: int) -> bytes:
    """IPv6 extension headers of ``types`` (RFC 8200 §4), the last one followed by protocol ``last``."""
    out = b""
    for t, nh in zip(types, [*types[1:], last], strict=False):  # one next header per extension header
        if t == 44:  # fragment header: offset 0, more fragments (the first fragment)
            out += struct.pack("!BBHI", nh, 0, 1, 0x1234)
        elif t == 51:  # AH, length 4: (4 + 2) 4-octet units (RFC 4302 §2.2)
            out += bytes([nh, 4]) + b"\0" * 22
        else:  # hop-by-hop, routing, destination options: length 0, 8 octets
            out += bytes([nh, 0]) + b"\0" * 6
    return out


@settings(max_examples=200, deadline=None)
@given(link=st.sampled_from(sorted(_LINK_HEADERS)), v6=st.booleans(), is_tcp=st.booleans(),
       ext=st.lists(st.sampled_from([0, 43, 44, 51, 60]), max_size=4), sport=st.integers(0, 65535),
       dport=st.integers(0, 65535), seq=st.integers(0, 2**32 - 1), flags=st.integers(0, 255),
       payload=st.binary(max_size=64), snap=st.integers(0, 250))
def test_generated_packets_decode_to_what_was_built(link: int, v6: bool, is_tcp: bool, ext: list[int], sport: int,
                                                    dport: int, seq: int, flags: int, payload: bytes,
                                                    snap: int) -> None:
    l4: Any = tcp(sport, dport, seq, flags, payload) if is_tcp else udp(sport, dport, payload)
    proto = 6 if is_tcp else 17
    chain = _ext_chain(ext, proto) if v6 else b""
    ip = _v6_ext(chain, ext[0] if ext else proto, bytes(l4)) if v6 else bytes(ip4(A4, B4, l4, proto))
    frame = _LINK_HEADERS[link](v6) + ip
    caplen = min(len(frame), snap) if snap < 150 else len(frame)
    pb, rec = _decode([(link, frame, caplen)])
    hdr = len(frame) - len(ip) + (40 + len(chain) if v6 else 20) + (20 if is_tcp else 8)
    if caplen < hdr:  # the snap length cut into the headers: the transport header is never taken
        cut_chain = pb.kind[0] == KIND_IP and pb.proto[0] == NO_TRANSPORT and pb.plen[0] == 0
        assert pb.kind[0] in (KIND_SKIP, KIND_NONIP) or cut_chain
        return
    src, dst = (_addr(A6), _addr(B6)) if v6 else (_addr(A4), _addr(B4))
    assert pb.kind[0] == KIND_IP and pb.reason[0] == 0 and pb.proto[0] == proto
    assert (pb.src_hi[0], pb.src_lo[0], pb.dst_hi[0], pb.dst_lo[0]) == (*src, *dst)
    assert (pb.sport[0], pb.dport[0]) == (sport, dport)
    assert (pb.seq[0], pb.flags[0]) == ((seq, flags) if is_tcp else (0, 0))
    assert pb.poff[0] == rec.off[0] + hdr
    assert pb.plen[0] == min(len(payload), caplen - hdr) and pb.cut[0] == (caplen < len(frame))


class _StrictBytes:
    """A byte array that fails on any read outside it (C checks nothing for us; plain Python can)."""

    def __init__(self, raw: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
        self.raw = raw
        self.shape = raw.shape

    def __getitem__(self, at: int) -> np.uint8:
        assert 0 <= at < self.shape[0], f"read at {at} outside {self.shape[0]} bytes"
        return self.raw[at]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def python_walk() -> Any:
    """``packet_walk`` of decode.py, the Python reference (the C walk is ``decode._packet_walk``)."""
    return decode_module.packet_walk


def _walk(walk: Any, raw: Any, off: I64, cap: I64, link: I64, unset: int) -> tuple[Any, ...]:
    n = off.shape[0]
    ints = np.full((12, n), unset, dtype=np.int64)
    addr = np.full((4, n), unset & 0xFFFF, dtype=np.uint64)
    cut = np.full(n, unset < 0, dtype=np.bool_)
    walk(raw, off, cap, link, ints, addr, cut)
    return ints, addr, cut


@pytest.mark.parametrize("size", [0, 1, 40, 300])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_bytes_never_raise_nor_read_outside(size: int, python_walk: Any, data: st.DataObject) -> None:
    """Whatever the bytes and record bounds, the walk reads only its buffer and fills every column.

    Run as the Python reference over a buffer that fails on any read outside it; as used (C where
    built), over a view into a larger array whose surrounding bytes differ between two runs, with output
    arrays that start with different values. All three results must be the same.
    """
    body = data.draw(st.binary(min_size=size, max_size=size))
    recs = data.draw(st.lists(st.tuples(st.integers(-300, size + 300), st.integers(0, 400),
                                        st.sampled_from([0, 1, 12, 14, 101, 108, 113, 147, 228, 229, 276])),
                              max_size=12))
    off = np.array([r[0] for r in recs] + [2**62, -(2**62)], dtype=np.int64)
    cap = np.array([r[1] for r in recs] + [2**40, 65535], dtype=np.int64)
    link = np.array([r[2] for r in recs] + [1, 229], dtype=np.int64)
    results = []
    for fill, unset in ((0x45, -7), (0x6B, 12345)):  # IPv4 / IPv6 version nibbles: even a version read tells
        outer = np.full(size + 2048, fill, dtype=np.uint8)
        outer[1024 : 1024 + size] = np.frombuffer(body, dtype=np.uint8)
        outer.flags.writeable = False
        results.append(_walk(decode_module._packet_walk, outer[1024 : 1024 + size], off, cap, link, unset))
    results.append(_walk(python_walk, _StrictBytes(np.frombuffer(body, dtype=np.uint8)), off, cap, link, 99))
    for other in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(results[0], other, strict=True))
    ints = results[0][0]
    assert set(ints[0].tolist()) <= {KIND_SKIP, KIND_IP, KIND_L2, KIND_FRAGMENT, KIND_NONIP}
    assert set(ints[1].tolist()) <= {0, 1, 2, 3, 4}  # reason codes

"""The compiled flow accounting (C) against the numpy reference: identical records, sink calls, stats.

Both paths run over the same input, batch by batch: every capture of the shared data, generated packet
batches (timeouts, port reuse, SYN+ACK first, L2 frames, VLANs, budgets, out-of-order times) and crafted
64-bit hash collisions. After every batch the flow columns and the index must agree as well.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
from typing import Any

import dpkt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.builders import eth, ip4, ip6, pcap, tcp, udp
from tests.conftest import require_shared
from wardwatch.capture import CaptureConfig
from wardwatch.capture.config import CaptureStats
from wardwatch.capture.decode import PacketBatch, decode
from wardwatch.capture.flowpath import CompiledIndex, DictIndex
from wardwatch.capture.flows import FlowTable
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.records import open_reader
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.flow import FlowRecord

kernel = pytest.importorskip("wardwatch.capture._flowkernel")

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


class Recorder:
    """Every sink call, in order, as comparable tuples."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        self.calls.append(("datagram", ctx, payload))

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        self.calls.append(("stream", ctx, client, server))

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        self.calls.append(("frame", ctx, frame))


class Run:
    """One flow table fed batch by batch on one path."""

    def __init__(self, compiled: bool, cfg: CaptureConfig) -> None:
        self.sink = Recorder()
        self.table = FlowTable(self.sink, config=cfg, stats=CaptureStats())
        self.table.index = CompiledIndex(kernel) if compiled else DictIndex()
        self.records: list[FlowRecord] = []



def decoded(data: bytes, chunk: int) -> list[PacketBatch]:
    """The packet batches of a capture, ``chunk`` bytes of records at a time."""
    reader, g = open_reader(data, len(data)), Gatherer(data, len(data))
    return [decode(g, rec) for rec in reader.batches(chunk)]


def same_state(a: FlowTable, b: FlowTable) -> None:
    """Flow columns, index and seed agree."""
    assert a.fc.n == b.fc.n and int(a._seed) == int(b._seed)
    n = a.fc.n
    for name, col in a.fc.col.items():
        assert np.array_equal(col[:n], b.fc.col[name][:n], equal_nan=col.dtype.kind == "f"), name
    assert len(a.index) == len(b.index)
    hashes = a.fc.hash[:n]
    assert np.array_equal(a.index.lookup(hashes), b.index.lookup(hashes))


def both(parts: list[bytes], cfg: CaptureConfig, chunk: int = 1 << 20) -> tuple[Run, Run]:
    """Feed each capture in ``parts`` (one after the other, into the same table) on both paths."""
    runs = (Run(True, cfg), Run(False, cfg))
    for data in parts:
        for pb in decoded(data, chunk):
            for r in runs:
                r.records += r.table.feed(pb, data)
            same_state(runs[0].table, runs[1].table)
    for r in runs:
        r.records += r.table.flush()
    c, ref = runs
    assert c.records == ref.records
    assert c.sink.calls == ref.sink.calls
    assert dataclasses.asdict(c.table.stats) == dataclasses.asdict(ref.table.stats)
    return runs


# -- every shared capture ---------------------------------------------------------------------------------

TIGHT = CaptureConfig(tcp_budget=100, udp_budget=300, udp_max_datagrams=3, frame_budget=50, frame_max=2,
                      tcp_timeout=5.0, udp_timeout=2.0, other_timeout=1.0, closed_timeout=0.5, max_flows=50)


def test_every_shared_capture_gives_identical_results() -> None:
    root = require_shared()
    captures = sorted(p for p in root.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap") and p.is_file())
    assert captures
    for path in captures:
        data = path.read_bytes()
        for cfg, chunk in ((CaptureConfig(), 1 << 20), (TIGHT, 3000)):
            both([data], cfg, chunk)


# -- generated batches ------------------------------------------------------------------------------------

MACS = [b"\x02\x00\x00\x00\x00\x0a", b"\x02\x00\x00\x00\x00\x0b", b"\x02\x00\x00\x00\x00\x0c"]
PORTS = [80, 40000, 40001, 53, 67, 68, 546, 547]
FLAGS = [SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, RST | ACK, SYN | FIN, 0]
TAGS: list[tuple[tuple[int, int], ...]] = [(), ((0x8100, 1),), ((0x8100, 2),), ((0x88A8, 3), (0x8100, 1))]


@dataclasses.dataclass(frozen=True)
class Conversation:
    """Two endpoints that exchange packets: their protocol, addresses, ports, MACs and VLAN tags."""

    kind: str
    v6: bool
    hosts: tuple[str, str]
    ports: tuple[int, int]
    macs: tuple[bytes, bytes]
    tags: tuple[tuple[int, int], ...]


conversations = st.builds(
    Conversation, kind=st.sampled_from(["tcp", "tcp", "udp", "udp", "icmp", "l2"]), v6=st.booleans(),
    hosts=st.tuples(st.integers(0, 2), st.integers(0, 2)).map(lambda t: (f"10.0.0.{t[0] + 1}", f"10.0.0.{t[1] + 1}")),
    ports=st.tuples(st.sampled_from(PORTS), st.sampled_from(PORTS)),
    macs=st.tuples(st.sampled_from(MACS), st.sampled_from(MACS)), tags=st.sampled_from(TAGS),
)


@st.composite
def frames(draw: st.DrawFn, talk: Conversation) -> bytes:
    """One Ethernet frame of a conversation, in either direction."""
    back = draw(st.booleans())
    src, dst = talk.hosts[::-1] if back else talk.hosts
    if talk.v6:
        src, dst = "2001:db8::" + src.rsplit(".", 1)[1], "2001:db8::" + dst.rsplit(".", 1)[1]
    sport, dport = talk.ports[::-1] if back else talk.ports
    smac, dmac = talk.macs[::-1] if back else talk.macs
    data = b"x" * draw(st.sampled_from([0, 0, 1, 7, 30]))
    if talk.kind == "l2":  # LLDP, ARP or CDP (IEEE 802.3 length, LLC/SNAP), by the port drawn
        head = dmac + smac + b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in talk.tags)
        cdp = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00" + b"\x02\xb4\x00\x00" + data
        bodies = [b"\x88\xcc\x02\x07\x04" + data, b"\x08\x06\x00\x01" + data, struct.pack("!H", len(cdp)) + cdp]
        return head + bodies[sport % 3] + b"\x00" * 20
    if talk.kind == "tcp":
        seq = draw(st.one_of(st.sampled_from([1000, 1001, 1005, 1020, 5000]), st.integers(0, 0xFFFFFFFF)))
        l4: Any = tcp(sport, dport, seq, draw(st.sampled_from(FLAGS)), data)
        proto = 6
    elif talk.kind == "udp":
        l4, proto = udp(sport, dport, data), 17
    else:
        l4 = dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=1, seq=1, data=data))
        proto = 58 if talk.v6 else 1
    l3 = ip6(src, dst, l4, proto) if talk.v6 else ip4(src, dst, l4, proto)
    return eth(l3, src=smac, dst=dmac, etype=0x86DD if talk.v6 else 0x0800, tags=talk.tags)


GAPS = [0.0, 0.001, 0.5, 1.5, 3.0, 50.0, 130.0, 4000.0, -0.25]


@st.composite
def captures(draw: st.DrawFn) -> list[list[tuple[float, bytes]]]:
    """Batches of (time, frame) from a few conversations; times mostly increase (gaps across every
    timeout) and sometimes step back."""
    talks = draw(st.lists(conversations, min_size=1, max_size=4))
    t = 1000.0
    out = []
    for _ in range(draw(st.integers(1, 4))):
        batch = []
        for _ in range(draw(st.integers(1, 25))):
            t += draw(st.sampled_from(GAPS))
            batch.append((t, draw(frames(draw(st.sampled_from(talks))))))
        out.append(batch)
    return out


configs = st.builds(
    CaptureConfig, tcp_budget=st.sampled_from([8, 16384]), udp_budget=st.sampled_from([20, 65536]),
    udp_max_datagrams=st.sampled_from([2, 64]), frame_budget=st.sampled_from([10, 16384]),
    frame_max=st.sampled_from([1, 16]), tcp_timeout=st.sampled_from([100.0, 3600.0]),
    udp_timeout=st.sampled_from([1.0, 120.0]), other_timeout=st.sampled_from([1.0, 120]),
    closed_timeout=st.sampled_from([0.1, 30.0]), max_flows=st.sampled_from([3, 1_000_000]),
)


@settings(max_examples=200, deadline=None)
@given(batches=captures(), cfg=configs)
def test_generated_batches_give_identical_results(batches: list[list[tuple[float, bytes]]],
                                                  cfg: CaptureConfig) -> None:
    both([pcap(b) for b in batches], cfg)


def test_scripted_conversation_splits_the_same_way() -> None:
    """SYN+ACK first, port reuse after FIN and after RST, an idle gap, a budget, all across batches."""
    def c2s(seq: int, flags: int, data: bytes = b"") -> bytes:
        return eth(ip4("10.0.0.1", "10.0.0.2", tcp(40000, 80, seq, flags, data), 6))

    def s2c(seq: int, flags: int, data: bytes = b"") -> bytes:
        return eth(ip4("10.0.0.2", "10.0.0.1", tcp(80, 40000, seq, flags, data), 6))

    first = [s2c(5000, SYN | ACK), c2s(1001, ACK, b"hello"), s2c(5001, ACK, b"world"), c2s(1006, FIN | ACK)]
    second = [s2c(5006, FIN | ACK), c2s(9000, SYN), s2c(7000, SYN | ACK), c2s(9001, ACK, b"again"),
              s2c(7001, RST), c2s(3000, SYN), c2s(3001, ACK, b"x" * 40)]
    third = [c2s(3041, ACK, b"late")]
    parts = [pcap([(100.0 + i, f) for i, f in enumerate(first)]),
             pcap([(200.0 + i, f) for i, f in enumerate(second)]),
             pcap([(9000.0, third[0])])]
    c, _ref = both(parts, CaptureConfig(tcp_budget=16, tcp_timeout=3600.0))
    assert [r.packets for r in c.records] == [5, 4, 2, 1]  # reuse after FIN, after RST; then the idle gap


def test_address_assignment_datagrams_pass_the_budget_alike() -> None:
    frames_ = [(float(i), eth(ip6("2001:db8::1", "2001:db8::2", udp(sport, dport, b"d" * 10), 17), etype=0x86DD))
               for sport, dport in ((68, 67), (546, 547), (547, 40000), (5353, 53)) for i in range(5)]
    c, _ref = both([pcap(frames_)], CaptureConfig(udp_max_datagrams=2))
    assert len(c.sink.calls) == 5 + 5 + 5 + 2


def test_many_flows_evicted_and_compacted_the_same_way() -> None:
    frames_ = [(float(i), eth(ip4("10.0.0.1", "10.0.0.2", udp(10000 + i % 7000, 53, b"q"), 17)))
               for i in range(9000)]
    c, _ref = both([pcap(frames_)], CaptureConfig(udp_timeout=1.0), chunk=4096)
    assert len(c.records) == 9000


# -- crafted 64-bit hash collisions -----------------------------------------------------------------------

_K = 0x9E3779B97F4A7C15
_M = (1 << 64) - 1


def _mix(h: int, v: int) -> int:
    h = ((h ^ v) * _K) & _M
    return h ^ (h >> 29)


def _unmix(after: int, v: int) -> int:
    """The h with ``_mix(h, v) == after``."""
    x = after
    for _ in range(3):  # invert x ^= x >> 29
        x = after ^ (x >> 29)
    return ((x * pow(_K, -1, 1 << 64)) & _M) ^ v


def _v6(text: str) -> tuple[int, int]:
    n = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    return n >> 64, n & _M


def _key_hash(seed: int, a: tuple[int, int], b: tuple[int, int], misc: int) -> int:
    h = seed
    for v in (a[0], a[1], b[0], b[1], misc):
        h = _mix(h, v)
    return h


def _colliding_pair() -> tuple[bytes, bytes]:
    """Two UDP/IPv6 packets of different flows whose keys hash alike (seed 0)."""
    misc = (1000 << 32) | (53 << 16) | (17 << 8)  # ports 1000 → 53, UDP, no VLAN
    target = _key_hash(0, _v6("2001:db8::1"), _v6("2001:db8::2"), misc)
    a_hi, a_lo = _v6("2001:db8::5")
    b_hi = _v6("2001:db8:0:1::")[0]
    h3 = _mix(_mix(_mix(0, a_hi), a_lo), b_hi)
    b_lo = _unmix(_unmix(target, misc), h3)
    dst = socket.inet_ntop(socket.AF_INET6, ((b_hi << 64) | b_lo).to_bytes(16, "big"))
    assert _key_hash(0, (a_hi, a_lo), (b_hi, b_lo), misc) == target
    one = eth(ip6("2001:db8::1", "2001:db8::2", udp(1000, 53, b"one"), 17), etype=0x86DD)
    two = eth(ip6("2001:db8::5", dst, udp(1000, 53, b"two"), 17), etype=0x86DD)
    return one, two


def test_hash_collision_across_batches_is_handled_alike() -> None:
    one, two = _colliding_pair()
    parts = [pcap([(1.0, one)]), pcap([(2.0, two)]), pcap([(3.0, one)])]
    c, _ref = both(parts, CaptureConfig())
    assert len(set(c.table.fc.hash[: c.table.fc.n].tolist())) == 1  # the pair did collide
    assert [r.packets for r in c.records] == [1, 1, 1]  # the index named the other key each time


def test_hash_collision_inside_a_batch_falls_back_to_the_reference() -> None:
    one, two = _colliding_pair()
    c, _ref = both([pcap([(1.0, one), (2.0, two), (3.0, one)])], CaptureConfig())
    assert int(c.table._seed) != 0  # rehashed
    assert sorted(r.packets for r in c.records) == [1, 2]


# -- the index alone --------------------------------------------------------------------------------------

def _scramble(x: int) -> int:
    """The C index's slot finalizer (SplitMix64)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _M
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _M
    return x ^ (x >> 31)


#: Keys whose home slots (salt 0, 1024 slots) crowd the end and the start of the table: long probe chains
#: that wrap around, where deletion must shift entries back across the end.
_CROWDED = np.array([h for h in range(6000) if not 4 < _scramble(h) & 1023 < 1017][:48], dtype=np.uint64)


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["assign", "discard", "discard", "remap"]),
                              st.lists(st.tuples(st.integers(0, 47), st.integers(0, 3)), max_size=40))))
def test_compiled_index_behaves_like_the_dict(ops: list[tuple[str, list[tuple[int, int]]]]) -> None:
    ref, c = DictIndex(), CompiledIndex(kernel, salt=0)
    assert len(_CROWDED) == 48
    for op, pairs in ops:
        h = _CROWDED[np.array([p[0] for p in pairs], dtype=np.int64)]
        f = np.array([p[1] for p in pairs], dtype=np.int64)
        if op == "remap":
            kept = np.unique(f)
            ref.remap(kept)
            c.remap(kept)
        else:
            getattr(ref, op)(h, f)
            getattr(c, op)(h, f)
        assert len(ref) == len(c)
        assert np.array_equal(ref.lookup(_CROWDED), c.lookup(_CROWDED))


def test_compiled_index_grows_shrinks_and_remaps() -> None:
    ref, c = DictIndex(), CompiledIndex(kernel)
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 1 << 63, 20000, dtype=np.int64).astype(np.uint64)
    hashes[:500] = np.arange(500, dtype=np.uint64)  # a dense run of small keys as well
    fids = np.arange(20000, dtype=np.int64)
    for idx in (ref, c):
        idx.assign(hashes, fids)
        idx.discard(hashes[::2], fids[::2])
        idx.discard(hashes[1::4], fids[1::4] + 1)  # names another flow: kept
        idx.remap(np.flatnonzero(fids % 3 != 0))
    assert len(ref) == len(c) > 1000
    assert np.array_equal(ref.lookup(hashes), c.lookup(hashes))

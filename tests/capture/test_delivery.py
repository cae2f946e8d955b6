"""Payload delivery: batched datagrams are the same datagrams, in the same order, as one call each."""

from __future__ import annotations

import gc
import struct
from pathlib import Path
from typing import Any

from tests.capture.builders import MAC_A, MAC_B, eth, ip4, pcap, tcp, udp
from wardwatch.capture import CaptureConfig, FlowTable, NullSink, process_capture
from wardwatch.capture.gctune import relaxed_gc
from wardwatch.capture.sink import DatagramBatch, FlowSlot, timed_context
from wardwatch.dissect.interface import FlowContext

SYN, ACK, PSH = 0x02, 0x10, 0x08
LLDP_DST = b"\x01\x80\xc2\x00\x00\x0e"


class OneByOne:
    """Records every sink call in order (datagrams one call each)."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        self.events.append(("datagram", ctx, payload))

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        self.events.append(("stream", ctx, client, server))

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        self.events.append(("frame", ctx, frame))


class Batched(OneByOne):
    """The same, taking datagrams as batches (and noting how many batches came)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0
        self.slots: set[int] = set()

    def datagram_batch(self, batch: DatagramBatch) -> None:
        self.batches += 1
        self.slots.update(id(s) for s in batch.flows)
        for ctx, payload in batch:
            self.datagram(ctx, payload)

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        self.events.append(("datagram", ctx, payload))


def lldp_frame(name: bytes) -> bytes:
    tlv = struct.pack("!H", (5 << 9) | len(name)) + name  # system name TLV (IEEE 802.1AB §8.5.6)
    return LLDP_DST + MAC_A + b"\x88\xcc" + tlv + b"\x00\x00"


def mixed_capture() -> list[bytes]:
    """DNS-like datagrams of several flows, a TCP flow that fills both budgets mid-way, LLDP frames."""
    frames: list[bytes] = []
    for i in range(6):
        frames.append(eth(ip4("10.0.0.1", "10.0.0.53", udp(5000 + i % 3, 53, b"q%d" % i), 17)))
        if i == 2:
            frames += [eth(ip4("10.0.0.1", "10.0.0.2", tcp(40000, 80, 100, SYN), 6)),
                       eth(ip4("10.0.0.2", "10.0.0.1", tcp(80, 40000, 900, SYN | ACK), 6), src=MAC_B, dst=MAC_A),
                       eth(ip4("10.0.0.1", "10.0.0.2", tcp(40000, 80, 101, PSH | ACK, b"A" * 40), 6))]
        if i == 3:
            frames.append(lldp_frame(b"switch-1"))
            frames.append(eth(ip4("10.0.0.2", "10.0.0.1", tcp(80, 40000, 901, PSH | ACK, b"B" * 40), 6),
                              src=MAC_B, dst=MAC_A))
        frames.append(eth(ip4("10.0.0.53", "10.0.0.1", udp(53, 5000 + i % 3, b"r%d" % i), 17), src=MAC_B, dst=MAC_A))
    frames.append(lldp_frame(b"switch-1"))
    return frames


def run(tmp_path: Path, sink: Any) -> None:
    path = tmp_path / "mixed.pcap"
    frames = mixed_capture()
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(frames)]))
    process_capture(path, sink, config=CaptureConfig(tcp_budget=32))


def test_batches_carry_the_same_calls_in_the_same_order(tmp_path: Path) -> None:
    single, batched = OneByOne(), Batched()
    run(tmp_path, single)
    run(tmp_path, batched)
    kinds = [e[0] for e in single.events]
    assert kinds.count("datagram") == 12 and kinds.count("stream") == 1 and kinds.count("frame") == 2
    # The stream completes (both 32-byte budgets full) between datagrams: it is not moved to the end.
    assert 0 < kinds.index("stream") < len(kinds) - 1 and kinds[-1] == "frame"
    assert batched.events == single.events
    # Datagrams before and after the first frame come as two runs (the stream follows that frame);
    # each UDP flow has one slot.
    assert batched.batches == 2 and len(batched.slots) == 3


def test_datagram_contexts_name_the_sender(tmp_path: Path) -> None:
    single = OneByOne()
    run(tmp_path, single)
    grams = [e for e in single.events if e[0] == "datagram"]
    query, answer = grams[0], grams[1]
    assert (query[1].src_ip, query[1].dst_port, query[2]) == ("10.0.0.1", 53, b"q0")
    assert (answer[1].src_ip, answer[1].src_port, answer[2]) == ("10.0.0.53", 53, b"r0")
    assert answer[1].src_mac == "02:00:00:00:00:0b" and answer[1].ts > query[1].ts


def test_slots_are_dropped_with_their_flows(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pcap"
    frames = mixed_capture()
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(frames)]))
    from wardwatch.capture.decode import decode
    from wardwatch.capture.gather import Gatherer
    from wardwatch.capture.pcap import PcapReader

    data = path.read_bytes()
    table = FlowTable(Batched())
    reader = PcapReader(data, len(data))
    for rec in reader.batches(1 << 20):
        table.feed(decode(Gatherer(data, len(data)), rec), data)
    assert table.delivery.slots  # live flows keep theirs
    table.flush()
    assert not table.delivery.slots and not table.delivery.streams


def test_timed_context_equals_a_constructed_one() -> None:
    slot = FlowSlot(("10.0.0.1", "10.0.0.2", 1000, 53, "02:00:00:00:00:0a", None, 17, 7), 5.0, "s1")
    back = slot.context(1, 6.5, True)
    assert back == FlowContext(6.5, "s1", 17, None, "02:00:00:00:00:0a", "10.0.0.2", "10.0.0.1", 53, 1000, 7, True)
    assert slot.base(0) == FlowContext(5.0, "s1", 17, "02:00:00:00:00:0a", None, "10.0.0.1", "10.0.0.2", 1000, 53, 7)
    assert timed_context(slot.base(0), 9.0, False) == FlowContext(9.0, "s1", 17, "02:00:00:00:00:0a", None,
                                                                   "10.0.0.1", "10.0.0.2", 1000, 53, 7, False)
    assert slot.base(0) is slot.base(0)  # built once


def test_null_sink_takes_batches_without_copying(tmp_path: Path) -> None:
    sink = NullSink()
    run(tmp_path, sink)  # nothing to assert beyond "no per-datagram call was needed": it has none to make
    assert callable(getattr(sink, "datagram_batch", None))


def test_relaxed_gc_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with relaxed_gc(young=before[0] + 1000):
        assert gc.get_threshold()[0] == before[0] + 1000
        with relaxed_gc(young=before[0] + 10):  # nested: never lowered
            assert gc.get_threshold()[0] == before[0] + 1000
    assert gc.get_threshold() == before


def test_flow_records_filled_through_slots_equal_constructed_ones(tmp_path: Path) -> None:
    from wardwatch.capture import flowstate
    from wardwatch.domain.flow import FlowRecord

    assert flowstate._RECORD_DESCRIPTORS is not None  # the fast path is in use
    path = tmp_path / "mixed.pcap"
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(mixed_capture())]))
    flows = process_capture(path, NullSink()).flows
    assert len(flows) == 5  # three UDP flows, one TCP flow, one LLDP source
    for r in flows:
        assert type(r) is FlowRecord
        rebuilt = FlowRecord(r.src_ip, r.dst_ip, r.proto, r.src_port, r.dst_port, r.src_mac, r.dst_mac,
                             r.first_seen, r.last_seen, r.packets_fwd, r.packets_rev, r.bytes_fwd, r.bytes_rev,
                             r.vlan, sensor=r.sensor)
        assert r == rebuilt and repr(r) == repr(rebuilt) and r.app is None

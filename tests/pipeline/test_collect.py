"""The dissecting sink: batched datagrams give exactly the facts, labels and counts of one call each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.capture.builders import MAC_A, MAC_B, eth, ip4, pcap, udp
from tests.conftest import require_shared
from tests.dissect.test_dns import GOLDEN_COMPRESSED

from wardwatch.capture import process_capture
from wardwatch.capture.config import CaptureConfig
from wardwatch.capture.sink import DatagramBatch, FlowSlot
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.registry import Registry
from wardwatch.domain.observation import Observation
from wardwatch.pipeline.collect import DissectingSink


class OneByOne:
    """A DissectingSink seen through the plain three-call interface (no ``datagram_batch``)."""

    def __init__(self, sink: DissectingSink) -> None:
        self.sink = sink

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        self.sink.datagram(ctx, payload)

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        self.sink.stream(ctx, client, server)

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        self.sink.frame(ctx, frame)


def outcome(sink: DissectingSink) -> tuple[Any, ...]:
    return (sink.observations, sink.apps, sink.registry.stats.parsed, sink.registry.stats.errors)


@pytest.mark.parametrize("capture", [("iot-sentinel", "WeMoSwitch2", "Setup-C-1-STA.pcap"),
                                     ("iot-sentinel", "D-LinkHomeHub", "Setup-A-1-STA.pcap"),
                                     ("zeek-traces", "dns_mdns.pcap")])
def test_batched_sink_equals_one_call_per_datagram(capture: tuple[str, ...]) -> None:
    path = require_shared(*capture)
    batched = DissectingSink(Registry.from_entry_points())
    process_capture(path, batched)
    single = DissectingSink(Registry.from_entry_points())
    process_capture(path, OneByOne(single))
    assert batched.observations  # the capture says something
    assert outcome(batched) == outcome(single)


def mdns_batch(times: list[float], payloads: list[bytes]) -> DatagramBatch:
    slot = FlowSlot(("192.168.1.20", "224.0.0.251", 5353, 5353, "02:00:00:00:00:14", None, 17, None),
                    times[0], "t")
    offsets, buf = [], b""
    for p in payloads:
        offsets.append(len(buf))
        buf += p
    n = len(payloads)
    return DatagramBatch(buf, [slot] * n, [0] * n, offsets, [len(p) for p in payloads], times, [False] * n)


def test_repeated_payload_is_counted_and_timed_like_a_fresh_dissection() -> None:
    """The same announcement three times, a drain between: the replayed results must match."""
    times = [10.0, 20.0, 30.0]
    batch = mdns_batch(times, [GOLDEN_COMPRESSED] * 3)
    batched = DissectingSink(Registry.from_entry_points(["dns"]))
    single = DissectingSink(Registry.from_entry_points(["dns"]))
    first = DatagramBatch(batch.buf, batch.flows[:2], batch.direction[:2], batch.offset[:2], batch.length[:2],
                          times[:2], batch.truncated[:2])
    last = DatagramBatch(batch.buf, batch.flows[2:], batch.direction[2:], batch.offset[2:], batch.length[2:],
                         times[2:], batch.truncated[2:])
    batched.datagram_batch(first)
    for ctx, payload in first:
        single.datagram(ctx, payload)
    drained = batched.drain()
    assert drained == single.drain()
    assert {o.ts for o in drained} == {10.0, 20.0} and max(o.count for o in drained) == 1
    batched.datagram_batch(last)  # replayed from the memo, the facts start again at 30.0
    for ctx, payload in last:
        single.datagram(ctx, payload)
    assert outcome(batched) == outcome(single)
    assert batched.registry.stats.parsed == {"dns": 3}
    assert {o.ts for o in batched.observations} == {30.0}


def test_unicast_dns_is_read_without_a_context_per_datagram(monkeypatch: pytest.MonkeyPatch) -> None:
    query = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    answer = bytes([0x12, 0x34, 0x81, 0x80]) + query[4:]
    slot = FlowSlot(("10.0.0.1", "10.0.0.53", 40000, 53, None, None, 17, None), 1.0, "t")
    buf = query + answer
    batch = DatagramBatch(buf, [slot, slot], [0, 1], [0, len(query)], [len(query), len(answer)], [1.0, 1.5],
                          [False, False])
    built: list[float] = []
    real = FlowSlot.context

    def counting(self: FlowSlot, direction: int, ts: float, truncated: bool = False) -> FlowContext:
        built.append(ts)
        return real(self, direction, ts, truncated)

    monkeypatch.setattr(FlowSlot, "context", counting)
    sink = DissectingSink(Registry.from_entry_points(["dns"]))
    sink.datagram_batch(batch)
    assert built == []  # the answer is skipped by the prefilter, the query read through the DNS lane
    assert [o.value for o in sink.observations] == ["www.example.com"]
    assert sink.registry.stats.parsed == {"dns": 2}
    assert sink.apps == {(17, "10.0.0.1", 40000, "10.0.0.53", 53): "dns",
                         (17, "10.0.0.53", 53, "10.0.0.1", 40000): "dns"}


def test_memo_is_bounded(tmp_path: Path) -> None:
    payloads = [GOLDEN_COMPRESSED[:-1] + bytes([i]) for i in range(40)]
    sink = DissectingSink(Registry.from_entry_points(["dns"]))
    batch = mdns_batch([float(i) for i in range(40)], payloads)
    sink.datagram_batch(batch)
    state = batch.flows[0].state
    assert len(state.ways[0].memo) == 16


def resolver_capture(path: Path) -> None:
    """Two clients asking a resolver, each query answered, over many small batches; one odd answer."""
    query = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    frames: list[tuple[float, bytes]] = []
    for i in range(40):
        client, port = (f"10.0.0.{1 + i % 2}", 40000 + i % 2)
        q = bytes([0x12, i]) + query[2:13] + bytes([ord("a") + i % 26]) + query[14:]  # "[a-z]ww.example.com"
        frames.append((100.0 + i, eth(ip4(client, "10.0.0.53", udp(port, 53, q), 17))))
        answer = q[:2] + bytes([0x81, 0x80]) + q[4:] if i != 30 else b"\x00"  # an answer too short to test
        frames.append((100.5 + i, eth(ip4("10.0.0.53", client, udp(53, port, answer), 17), src=MAC_B, dst=MAC_A)))
    path.write_bytes(pcap(frames))


class Spy(DissectingSink):
    """Counts what the flow table withheld."""

    withheld = 0

    def datagram_batch(self, batch: DatagramBatch) -> None:
        self.withheld += sum(n for _slot, _d, n in batch.skipped)
        super().datagram_batch(batch)


@pytest.mark.parametrize("chunk", [600, 1 << 20])  # many batches; one batch
def test_answers_withheld_by_the_flow_table_are_counted_as_if_dissected(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "resolver.pcap"
    resolver_capture(path)
    config = CaptureConfig(chunk_bytes=chunk)
    spied = Spy(Registry.from_entry_points(["dns"]))
    process_capture(path, spied, config=config)
    single = DissectingSink(Registry.from_entry_points(["dns"]))
    process_capture(path, OneByOne(single), config=config)
    assert spied.withheld == 39  # every answer but the odd one never reached the sink's loop
    assert outcome(spied) == outcome(single)
    assert spied.registry.stats.parsed == {"dns": 79} and spied.registry.stats.errors == {"dns": 1}  # the odd one
    assert {(o.ip, o.value) for o in spied.observations} == {
        (f"10.0.0.{1 + i % 2}", chr(ord("a") + i % 26) + "ww.example.com") for i in range(40)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datagrams=st.lists(st.tuples(st.integers(0, 3), st.sampled_from([53, 5353, 9999]), st.booleans(),
                                    st.integers(0, 0xFF), st.binary(max_size=24)), min_size=1, max_size=40),
       chunk=st.sampled_from([300, 1200, 1 << 20]))
def test_withholding_never_changes_facts_counts_or_labels(tmp_path: Path, datagrams: list[tuple[int, int, bool, int,
                                                                                              bytes]],
                                                          chunk: int) -> None:
    """Random DNS-like traffic (queries, answers, mangled flags, other ports) over small batches: the sink
    with skip rules and ``prepare`` gives exactly what one call per datagram gives."""
    query = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    frames: list[tuple[float, bytes]] = []
    for i, (client, port, answer, flags, tail) in enumerate(datagrams):
        body = bytearray(query + tail)
        body[2] = flags  # QR and opcode bits at random: answers, queries, odd messages
        src, dst = f"10.0.0.{1 + client}", "10.0.0.53"
        sport, dport = 40000 + client, port
        if answer:
            src, dst, sport, dport = dst, src, dport, sport
        frames.append((100.0 + i, eth(ip4(src, dst, udp(sport, dport, bytes(body)), 17))))
    path = tmp_path / "random.pcap"
    path.write_bytes(pcap(frames))
    config = CaptureConfig(chunk_bytes=chunk)
    batched = DissectingSink(Registry.from_entry_points(["dns"]))
    process_capture(path, batched, config=config)
    single = DissectingSink(Registry.from_entry_points(["dns"]))
    process_capture(path, OneByOne(single), config=config)
    assert outcome(batched) == outcome(single)


def test_facts_are_kept_by_the_observations_identity() -> None:
    """The sink spells out ``Observation.identity()`` on its hot path: the two must not drift apart."""
    sink = DissectingSink(Registry([]))
    first = Observation(1.0, "s", "dns.query", "a.example", "02:00:00:00:00:01", "10.0.0.1")
    again = Observation(2.0, "s", "dns.query", "a.example", "02:00:00:00:00:01", "10.0.0.1", excerpt="other")
    other = Observation(3.0, "s", "dns.query", "a.example", "02:00:00:00:00:01", "10.0.0.2")
    sink._facts_of([first, again, other])
    assert list(sink._facts) == [first.identity(), other.identity()]
    assert [(o.ts, o.count) for o in sink.observations] == [(1.0, 1), (2.0, 1), (3.0, 1)]

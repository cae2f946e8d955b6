"""The flow table: merged directions, originator, timeouts, FIN/RST, budgets, incremental feeding."""

from __future__ import annotations

from pathlib import Path

from tests.capture.builders import MAC_A, MAC_B, eth, ip4, pcap, tcp, udp
from wardwatch.capture import CaptureConfig, CollectingSink, FlowTable, process_capture
from wardwatch.capture.decode import decode
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.pcap import PcapReader

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
C, S = "10.0.0.1", "10.0.0.2"


def c2s(seq: int, flags: int, data: bytes = b"", sport: int = 40000) -> bytes:
    return eth(ip4(C, S, tcp(sport, 80, seq, flags, data), 6), src=MAC_A, dst=MAC_B)


def s2c(seq: int, flags: int, data: bytes = b"", dport: int = 40000) -> bytes:
    return eth(ip4(S, C, tcp(80, dport, seq, flags, data), 6), src=MAC_B, dst=MAC_A)


def run(tmp_path: Path, frames: list[bytes], cfg: CaptureConfig | None = None,
        times: list[float] | None = None) -> tuple[CollectingSink, list]:  # type: ignore[type-arg]
    ts = times or [100.0 + i * 0.01 for i in range(len(frames))]
    path = tmp_path / "f.pcap"
    path.write_bytes(pcap(list(zip(ts, frames, strict=True))))
    sink = CollectingSink()
    return sink, process_capture(path, sink, config=cfg).flows


def handshake(isn_c: int = 1000, isn_s: int = 5000) -> list[bytes]:
    return [c2s(isn_c, SYN), s2c(isn_s, SYN | ACK), c2s(isn_c + 1, ACK)]


def test_both_directions_merge_with_counters(tmp_path: Path) -> None:
    frames = [*handshake(), c2s(1001, PSH | ACK, b"GET / HTTP/1.0\r\n\r\n"),
              s2c(5001, PSH | ACK, b"HTTP/1.0 200 OK\r\n")]
    sink, flows = run(tmp_path, frames)
    assert len(flows) == 1
    f = flows[0]
    assert (f.src_ip, f.dst_ip, f.src_port, f.dst_port, f.proto) == (C, S, 40000, 80, 6)
    assert (f.packets_fwd, f.packets_rev) == (3, 2)
    assert f.bytes_fwd == sum(len(x) for x in (frames[0], frames[2], frames[3]))
    assert f.src_mac == "02:00:00:00:00:0a" and f.dst_mac == "02:00:00:00:00:0b"
    ctx, client, server = sink.streams[0]
    assert (ctx.src_ip, client, server) == (C, b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n")


def test_syn_ack_first_makes_its_receiver_the_originator(tmp_path: Path) -> None:
    _sink, flows = run(tmp_path, [s2c(5000, SYN | ACK), c2s(1001, ACK)])
    assert flows[0].src_ip == C and flows[0].packets_fwd == 1 and flows[0].packets_rev == 1


def test_out_of_order_and_retransmitted_segments(tmp_path: Path) -> None:
    frames = [*handshake(), c2s(1006, ACK, b"world"), c2s(1001, ACK, b"hello"), c2s(1001, ACK, b"hello"),
              c2s(1004, ACK, b"lowo"), c2s(1011, ACK | FIN, b"!"), s2c(5001, ACK | FIN)]
    sink, _flows = run(tmp_path, frames)
    assert sink.streams[0][1] == b"helloworld!"
    assert not sink.streams[0][0].truncated


def test_missing_syn_starts_at_first_seen_sequence(tmp_path: Path) -> None:
    sink, _ = run(tmp_path, [c2s(777, ACK, b"abc"), c2s(780, ACK, b"def"), s2c(9, ACK, b"ok")])
    assert sink.streams[0][1:] == (b"abcdef", b"ok")


def test_gap_ends_the_usable_prefix(tmp_path: Path) -> None:
    sink, _ = run(tmp_path, [*handshake(), c2s(1001, ACK, b"abc"), c2s(1010, ACK, b"later")])
    ctx, client, _server = sink.streams[0]
    assert client == b"abc" and ctx.truncated


def test_budget_cuts_the_stream_and_later_packets_stay_out(tmp_path: Path) -> None:
    cfg = CaptureConfig(tcp_budget=10)
    frames = [*handshake(), *(c2s(1001 + 4 * i, ACK, b"%04d" % i) for i in range(100)),
              *(s2c(5001 + 4 * i, ACK, b"r%03d" % i) for i in range(5))]
    sink, flows = run(tmp_path, frames, cfg)
    assert len(sink.streams) == 1
    ctx, client, server = sink.streams[0]
    assert client == b"0000000100" and server == b"r000r001r0" and ctx.truncated
    assert flows[0].packets_fwd == 102  # counters still see every packet


def test_udp_budget_by_count_and_bytes(tmp_path: Path) -> None:
    cfg = CaptureConfig(udp_max_datagrams=3, udp_budget=1000)
    frames = [eth(ip4(C, S, udp(5353, 53, b"x" * 10), 17)) for _ in range(10)]
    frames += [eth(ip4(S, C, udp(53, 5353, b"y" * 600), 17)) for _ in range(3)]
    sink, flows = run(tmp_path, frames, cfg)
    assert len(flows) == 1 and flows[0].packets == 13
    assert [len(p) for _c, p in sink.datagrams] == [10, 10, 10, 600, 600]
    assert sink.datagrams[3][0].src_ip == S  # a datagram's ctx names its own sender


def test_idle_timeout_splits_flows(tmp_path: Path) -> None:
    cfg = CaptureConfig(udp_timeout=60)
    frames = [eth(ip4(C, S, udp(1, 2, b"a"), 17)) for _ in range(3)]
    _sink, flows = run(tmp_path, frames, cfg, times=[0.0, 30.0, 200.0])
    assert sorted(f.packets for f in flows) == [1, 2]


def test_fin_then_new_syn_is_a_new_flow(tmp_path: Path) -> None:
    frames = [*handshake(), c2s(1001, FIN | ACK), s2c(5001, FIN | ACK), c2s(1002, ACK),
              *handshake(9000, 3000), c2s(9001, ACK, b"second")]
    sink, flows = run(tmp_path, frames)
    assert sorted(f.packets for f in flows) == [4, 6]
    assert [s[1] for s in sink.streams] == [b"second"]


def test_rst_ends_flow_and_delivers_stream(tmp_path: Path) -> None:
    sink, flows = run(tmp_path, [*handshake(), c2s(1001, ACK, b"hi"), s2c(5001, RST)])
    assert sink.streams[0][1] == b"hi" and len(flows) == 1


def test_flow_table_is_incremental_across_batches(tmp_path: Path) -> None:
    frames = [*handshake(), c2s(1001, ACK, b"one"), s2c(5001, ACK, b"two"), c2s(1004, ACK, b"three")]
    path = tmp_path / "f.pcap"
    path.write_bytes(pcap([(100.0 + i, f) for i, f in enumerate(frames)]))
    data = path.read_bytes()
    reader = PcapReader(data, len(data))
    g = Gatherer(data, len(data))
    sink = CollectingSink()
    table = FlowTable(sink)
    ended = []
    for rec in reader.batches(120):  # tiny chunks: about one packet per batch
        ended += table.feed(decode(g, rec), data)
    ended += table.flush()
    assert len(ended) == 1 and ended[0].packets == 6
    assert sink.streams[0][1:] == (b"onethree", b"two")


def test_many_flows_evicted_and_compacted(tmp_path: Path) -> None:
    cfg = CaptureConfig(udp_timeout=1.0, chunk_bytes=4096)
    frames = [eth(ip4(C, S, udp(10000 + i, 53, b"q"), 17)) for i in range(6000)]
    _sink, flows = run(tmp_path, frames, cfg, times=[float(i) for i in range(6000)])
    assert len(flows) == 6000 and all(f.packets == 1 for f in flows)

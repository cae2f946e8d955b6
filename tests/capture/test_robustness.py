"""Untrusted input: mutated real captures give counted skips only; memory stays bounded."""

from __future__ import annotations

import os
import random
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.capture.builders import pcap
from tests.conftest import SHARED_DATA
from wardwatch.capture import CaptureConfig, CollectingSink, process_capture
from wardwatch.errors import CaptureError

SEEDS = ["zeek-traces/http_methods.pcap", "zeek-traces/dhcp_dhcp.pcap", "zeek-traces/snmp_leak_test.pcapng",
         "zeek-traces/cdp-v1.pcap", "zeek-traces/radius_radius_localhost.pcap", "zeek-traces/tls_ssl.v3.pcap",
         "poct1a/dca_basic_conversation_flow.pcapng", "iot-sentinel/Aria/Setup-A-1-STA.pcap"]


def _seed_bytes() -> list[bytes]:
    found = [(SHARED_DATA / s).read_bytes()[:60000] for s in SEEDS if (SHARED_DATA / s).exists()]
    if not found:
        if os.environ.get("WARDWATCH_REQUIRE_SHARED_DATA") == "1":
            pytest.fail("shared captures missing")
        pytest.skip("shared captures missing")
    return found


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_captures_only_count_skips(tmp_path: Path, data: st.DataObject) -> None:
    seeds = _seed_bytes()
    blob = bytearray(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(0, 40))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    if data.draw(st.booleans()):
        blob = blob[:cut]
    path = tmp_path / "m.pcap"
    path.write_bytes(bytes(blob))
    try:
        res = process_capture(path, CollectingSink(), config=CaptureConfig(chunk_bytes=data.draw(
            st.sampled_from([512, 4096, 1 << 20]))))
    except CaptureError:
        return  # unusable as a whole (e.g. the magic was hit): one clear error
    assert res.stats.packets >= 0
    assert sum(f.packets for f in res.flows) <= res.stats.packets


def _random_capture(path: Path, n: int, rng: random.Random) -> None:
    """40 flows (20 TCP, 20 UDP) of random payloads; headers by hand (RFC 791/793/768 layouts)."""
    frames = []
    seqs = [rng.getrandbits(32) for _ in range(20)]
    for i in range(n):
        k = i % 40
        payload = rng.randbytes(rng.randint(0, 300))
        if k < 20:
            l4 = struct.pack("!HHIIBBHHH", 30000 + k, 443, seqs[k], 0, 0x50, 0x18, 65535, 0, 0) + payload
            seqs[k] = (seqs[k] + len(payload)) & 0xFFFFFFFF
            proto = 6
        else:
            l4 = struct.pack("!HHHH", 40000 + k, 53, 8 + len(payload), 0) + payload
            proto = 17
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                         bytes([10, 1, 0, k]), bytes([10, 2, 0, 1])) + l4
        frames.append((i * 0.001, b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip))
    path.write_bytes(pcap(frames))


def _peak(path: Path) -> int:
    tracemalloc.start()
    process_capture(path, CollectingSink.__new__(_Counting), config=CaptureConfig(chunk_bytes=1 << 20))
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


class _Counting(CollectingSink):
    """Counts instead of keeping (the sink must not be what grows)."""

    def datagram(self, ctx: object, payload: bytes) -> None:  # type: ignore[override]
        pass

    def stream(self, ctx: object, client: bytes, server: bytes) -> None:  # type: ignore[override]
        assert len(client) <= 16384 and len(server) <= 16384

    def frame(self, ctx: object, frame: bytes) -> None:  # type: ignore[override]
        pass


@pytest.mark.slow
def test_random_payloads_bounded_memory(tmp_path: Path) -> None:
    rng = random.Random(7)
    small, large = tmp_path / "s.pcap", tmp_path / "l.pcap"
    _random_capture(small, 10_000, rng)
    _random_capture(large, 100_000, rng)
    peak_small, peak_large = _peak(small), _peak(large)
    # Ten times the packets must not cost ten times the memory: state is bounded by budgets and chunks.
    assert peak_large < 2 * peak_small + (4 << 20), (peak_small, peak_large)

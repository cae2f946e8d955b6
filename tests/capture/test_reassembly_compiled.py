"""The compiled TCP placement (``capture._reassembly``) against its Python reference (``capture.reassembly``).

Both paths place the same segments: generated sequences (out of order, overlapping, retransmitted, before
the stream origin, cut by the budget, more waiting segments than ``MAX_PENDING``, hostile offsets and
lengths outside the capture buffer) and every shared capture through the whole engine. Streams, truncation
flags, the ``full`` marks, the stopping points and the internal state of every direction must agree.
"""

from __future__ import annotations

import dataclasses
import mmap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.test_delivery import OneByOne, mixed_capture
from tests.conftest import require_shared
from wardwatch.capture import CaptureConfig, process_capture, reassembly
from wardwatch.capture import delivery as delivery_module
from wardwatch.capture.reassembly import MAX_PENDING, place_segments

C = pytest.importorskip("wardwatch.capture._reassembly")

FLOWS = 4
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
Segment = tuple[int, int, int, int, int]  # fid, direction, offset, length, rel

# -- stream buffers, one operation at a time ---------------------------------------------------------------


def same_buffers(c: Any, ref: reassembly.StreamBuffers) -> None:
    """Every observable of the two stream buffers agrees."""
    for d in (0, 1):
        assert c.state(d) == ref.state(d)
    assert c.truncated == ref.truncated
    assert c.budget == ref.budget


rels = st.one_of(st.integers(-80, 400), st.sampled_from([I64_MIN, -(2**40), 2**40, 2**62, I64_MAX]))
Op = tuple[int, int, bytes, bool]  # direction, rel, payload, take a result after it
anywhere = st.lists(st.tuples(st.integers(0, 1), rels, st.binary(max_size=70), st.booleans()), max_size=60)


@st.composite
def pieces(draw: st.DrawFn, length: int, most: int) -> list[tuple[int, int]]:
    """(rel, length) pieces of a stream of ``length`` bytes, in some order: a cover of it cut anywhere (up to
    ``most`` cuts), plus retransmitted, overlapping and early-starting pieces, minus a few (holes)."""
    rnd = draw(st.randoms(use_true_random=False))
    cuts = sorted(rnd.randint(0, length) for _ in range(draw(st.integers(0, most))))
    out = [(a, b - a) for a, b in zip([0, *cuts], [*cuts, length], strict=True)]
    out += [(rnd.randint(-8, length), rnd.randint(0, 40)) for _ in range(draw(st.integers(0, most // 4)))]
    for _ in range(min(draw(st.integers(0, 2)), len(out))):
        out.pop(rnd.randrange(len(out)))
    order = draw(st.sampled_from(["in order", "shuffled", "reversed", "nearly in order"]))
    if order == "in order":
        out.sort()
    elif order == "shuffled":
        rnd.shuffle(out)
    elif order == "reversed":
        out.sort(reverse=True)
    else:
        out.sort()
        for _ in range(len(out) // 4):
            i = rnd.randrange(len(out))
            j = min(len(out) - 1, i + rnd.randint(1, 3))
            out[i], out[j] = out[j], out[i]
    return out


@st.composite
def stream_ops(draw: st.DrawFn) -> list[Op]:
    """The two directions of a stream, each cut in pieces, the directions interleaved."""
    rnd = draw(st.randoms(use_true_random=False))
    per_dir: list[list[Op]] = []
    for d in (0, 1):
        data = rnd.randbytes(draw(st.integers(0, 300)))
        early = rnd.randbytes(8)  # the bytes before the origin
        per_dir.append([(d, rel, (early + data)[8 + rel : 8 + rel + n] if rel < 0 else data[rel : rel + n],
                         rnd.randrange(10) == 0) for rel, n in draw(pieces(len(data), 100))])
    found: list[Op] = []
    while per_dir[0] or per_dir[1]:
        side = per_dir[rnd.randrange(2)] or per_dir[0] or per_dir[1]
        found.append(side.pop(0))
    return found


@settings(max_examples=400, deadline=None)
@given(budget=st.sampled_from([-1, 0, 1, 7, 64, 100, 300, 5000]), ops=st.one_of(stream_ops(), anywhere))
def test_stream_buffers_equal_the_reference(budget: int, ops: list[Op]) -> None:
    c, ref = C.StreamBuffers(budget), reassembly.StreamBuffers(budget)
    handed: list[tuple[tuple[bytes, bytes], tuple[bytes, bytes]]] = []
    for d, rel, payload, take in ops:
        c.add(d, rel, payload)
        ref.add(d, rel, payload)
        same_buffers(c, ref)
        if take:  # a result taken mid-way is not changed by later placements
            got = c.result()
            assert got == ref.result()
            handed.append((got, (bytes(bytearray(got[0])), bytes(bytearray(got[1])))))  # real copies
    assert c.result() == ref.result()
    for got, copy in handed:
        assert got == copy


def test_stream_buffers_cases() -> None:
    """Named cases of the reference's rules, each checked on both implementations."""
    for sb in (C.StreamBuffers(10), reassembly.StreamBuffers(10)):
        sb.add(0, 3, b"def")  # waits for the gap before it
        assert sb.state(0) == (b"", [(3, b"def")], 3, False) and sb.truncated
        sb.add(0, 3, b"DEFG")  # a longer copy at the same offset replaces it
        sb.add(0, -2, b"xxabc")  # starts before the origin: the part from the origin on is kept
        assert sb.state(0) == (b"abcDEFG", [], 0, False) and not sb.truncated
        sb.add(0, 1, b"BCD")  # retransmission: first copy wins
        sb.add(0, 7, b"hijklmn")  # cut by the budget
        assert sb.result() == (b"abcDEFGhij", b"") and sb.truncated
        sb.add(0, 12, b"k")  # the budget is full: nothing more waits
        assert sb.state(0) == (b"abcDEFGhij", [], 0, False)
        sb.add(1, 5, b"z" * 11)  # more waiting bytes than the budget: the prefix ends at the gap
        assert sb.state(1) == (b"", [], 0, True)
    for sb in (C.StreamBuffers(20), reassembly.StreamBuffers(20)):
        sb.add(0, 5, b"f")
        sb.add(0, 0, b"abcd")  # one byte short of the waiting segment: it keeps waiting
        assert sb.state(0) == (b"abcd", [(5, b"f")], 1, False)
        sb.add(0, 3, b"de")
        assert sb.state(0) == (b"abcdef", [], 0, False)
    for sb in (C.StreamBuffers(1000), reassembly.StreamBuffers(1000)):
        for i in range(MAX_PENDING + 1, 0, -1):  # one more waiting segment than kept
            sb.add(0, i, bytes([i]))
        data, waiting, count, gap = sb.state(0)
        assert data == b"" and len(waiting) == MAX_PENDING and count == MAX_PENDING and gap
        sb.add(0, 0, b"\x00\x01")  # closes the gap: every waiting segment joins the prefix (the flag stays)
        assert sb.state(0) == (bytes(range(MAX_PENDING + 2)), [], 0, True)


def test_the_limit_is_shared() -> None:
    assert MAX_PENDING == C.MAX_PENDING
    if reassembly.COMPILED:
        assert reassembly.place is C.place_segments and reassembly.Streams is C.StreamBuffers
    else:
        assert reassembly.place is place_segments and reassembly.Streams is reassembly.StreamBuffers


# -- the placement loop ------------------------------------------------------------------------------------

Place = Callable[..., int]


def drive(place: Place, budget: int, buf: Any, segs: list[Segment], arrays: bool = False) -> tuple[Any, ...]:
    """Place ``segs`` as ``Delivery._segments`` does: hand over each flow whose two budgets fill."""
    cols: list[list[int]] = [[s[k] for s in segs] for k in range(5)]
    args: list[Any] = [np.array(c, dtype=np.int64) for c in cols] if arrays else cols
    streams: dict[int, Any] = {}
    finished: set[int] = set()
    full = np.zeros((FLOWS, 2), dtype=np.bool_)
    handed = []
    k = place(streams, finished, full, budget, buf, *args, 0)
    while k < len(segs):
        f = cols[0][k]
        sb = streams.pop(f)
        handed.append((k, f, sb.result(), sb.truncated))
        finished.add(f)
        k = place(streams, finished, full, budget, buf, *args, k + 1)
    assert k == len(segs)
    left = {f: (sb.result(), sb.truncated, sb.state(0), sb.state(1)) for f, sb in streams.items()}
    return handed, left, full.tolist(), sorted(finished)


def same_placement(budget: int, buf: Any, segs: list[Segment]) -> tuple[Any, ...]:
    ref = drive(place_segments, budget, buf, segs)
    assert drive(C.place_segments, budget, buf, segs) == ref
    assert drive(C.place_segments, budget, buf, segs, arrays=True) == ref
    return ref


@st.composite
def segment_runs(draw: st.DrawFn) -> tuple[int, bytes, list[Segment]]:
    """A capture buffer and TCP segments of a few flows in it: each direction's stream sits at its own place
    in the buffer; segments are pieces of it (any order, overlapping, repeated, partly before the origin;
    sometimes many short ones, more than MAX_PENDING can wait) and some are hostile (offset, length or rel
    anywhere)."""
    buf = draw(st.binary(min_size=1, max_size=700))
    budget = draw(st.sampled_from([0, 1, 5, 16, 40, 100, 250, 1000]))
    segs: list[Segment] = []
    for f in range(draw(st.integers(1, FLOWS))):
        for d in (0, 1):
            origin = draw(st.integers(0, len(buf)))
            most = 150 if draw(st.integers(0, 3)) == 0 else 20
            segs += [(f, d, origin + rel, n, rel) for rel, n in draw(pieces(draw(st.integers(0, 300)), most))]
    for _ in range(draw(st.integers(0, 6))):
        off = draw(st.one_of(st.integers(-800, 1500), st.integers(I64_MIN // 2, I64_MAX // 2)))
        n = draw(st.one_of(st.integers(-50, 2000), st.integers(0, I64_MAX // 2)))
        rel = draw(st.one_of(rels, st.integers(-(2**40), 2**40)))
        segs.append((draw(st.integers(0, FLOWS - 1)), draw(st.integers(0, 1)), off, n, rel))
    if draw(st.booleans()):  # flows interleaved at random, else one after the other
        draw(st.randoms(use_true_random=False)).shuffle(segs)
    return budget, buf, segs


@settings(max_examples=500, deadline=None)
@given(run=segment_runs(), kind=st.sampled_from([bytes, bytearray, memoryview]))
def test_placement_equals_the_reference(run: tuple[int, bytes, list[Segment]], kind: type) -> None:
    budget, buf, segs = run
    same_placement(budget, kind(buf), segs)


def test_placement_stops_where_a_stream_completes() -> None:
    buf = bytes(range(256)) * 4
    segs: list[Segment] = [(0, 0, 0, 10, 0), (1, 0, 100, 10, 0), (0, 1, 500, 10, 0),  # flow 0 done here
                           (0, 0, 10, 10, 10), (1, 1, 600, 5, 5), (1, 1, 595, 5, 0), (2, 0, 0, 3, 0)]
    handed, left, full, finished = same_placement(10, buf, segs)
    assert [h[:2] for h in handed] == [(2, 0), (5, 1)]
    assert handed[0][2] == (buf[0:10], buf[500:510]) and handed[0][3]
    assert handed[1][2] == (buf[100:110], buf[595:605]) and handed[1][3]
    assert set(left) == {2} and full[0] == [True, True] and finished == [0, 1]


def test_hostile_segments_read_nothing_outside_the_buffer() -> None:
    buf = b"0123456789"
    segs: list[Segment] = [(0, 0, -3, 5, 0), (0, 1, 8, 1 << 40, 0), (1, 0, I64_MAX, 5, 0), (1, 1, I64_MIN, I64_MAX, 0),
                           (2, 0, 5, -3, 0), (2, 1, 3, 4, I64_MAX), (3, 0, 1, 4, I64_MIN), (3, 1, 1 << 62, 9, -5)]
    same_placement(8, buf, segs)
    same_placement(8, memoryview(buf)[2:7], segs)


def test_bad_arguments_are_refused() -> None:
    full = np.zeros((2, 2), dtype=np.bool_)
    one = [[0], [0], [0], [4], [0]]

    def call(*, streams: Any = None, f: Any = full, cols: Any = one, budget: int = 4) -> int:
        return int(C.place_segments({} if streams is None else streams, set(), f, budget, b"abcd", *cols, 0))

    assert call() == 1
    with pytest.raises(IndexError):
        call(cols=[[5], [0], [0], [4], [0]])  # flow id outside `full`
    with pytest.raises(ValueError, match="direction"):
        call(cols=[[0], [2], [0], [4], [0]])
    with pytest.raises(ValueError, match="length"):
        call(cols=[[0, 1], [0], [0], [4], [0]])
    with pytest.raises(TypeError):
        call(cols=[np.zeros(1, dtype=np.int32), [0], [0], [4], [0]])
    with pytest.raises(TypeError):
        call(f=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError):
        call(streams={0: reassembly.StreamBuffers(4)})
    with pytest.raises(ValueError, match="budget"):
        call(budget=(1 << 62) + 1)
    with pytest.raises(ValueError, match="direction"):
        C.StreamBuffers(4).add(-1, 0, b"x")


# -- the engine on real captures --------------------------------------------------------------------------


class Recorder(OneByOne):
    """Every sink call in order (``events``), and the statistics of the run."""


def engine(path: Path, place: Place, cfg: CaptureConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    monkeypatch.setattr(delivery_module, "place", place)
    sink = Recorder()
    result = process_capture(path, sink, config=cfg)
    return sink.events, result.flows, dataclasses.asdict(result.stats)


CONFIGS = (CaptureConfig(), CaptureConfig(tcp_budget=64), CaptureConfig(tcp_budget=1000, chunk_bytes=4096))


def same_engine(path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    streams = 0
    for cfg in CONFIGS:
        ref = engine(path, place_segments, cfg, monkeypatch)
        assert engine(path, C.place_segments, cfg, monkeypatch) == ref, (path, cfg)
        streams += sum(1 for e in ref[0] if e[0] == "stream")
    return streams


def test_every_shared_capture_gives_identical_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    root = require_shared()
    captures = sorted(p for p in root.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap") and p.is_file())
    assert captures
    streams = sum(same_engine(path, monkeypatch) for path in captures)
    assert streams > 100


def test_the_delivery_capture_gives_identical_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.capture.builders import pcap

    path = tmp_path / "mixed.pcap"
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(mixed_capture())]))
    ref = engine(path, place_segments, CaptureConfig(tcp_budget=32), monkeypatch)
    assert engine(path, C.place_segments, CaptureConfig(tcp_budget=32), monkeypatch) == ref
    assert [e[0] for e in ref[0]].count("stream") == 1
    assert same_engine(path, monkeypatch) == 3


def test_the_capture_buffer_may_be_an_mmap(tmp_path: Path) -> None:
    path = tmp_path / "buf"
    path.write_bytes(bytes(range(256)))
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        segs: list[Segment] = [(0, 0, 250, 20, 0), (0, 1, 10, 3, 1), (0, 1, 9, 1, 0)]
        same_placement(16, buf, segs)

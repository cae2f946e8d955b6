"""The C record walks and header walk against their Python references, on every shared capture and on
arbitrary bytes: the same records, the same columns, the same stopping points."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from wardwatch.capture import decode, kernels
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.pcapng import BT_EPB, MAX_BLOCK
from wardwatch.capture.records import open_reader
from wardwatch.capture.source import CaptureSource


def _extension(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not built (no C compiler at install time); the Python reference runs")


def _captures() -> list[Path]:
    root = require_shared()
    found = sorted(p for p in root.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap") and p.is_file())
    assert found, f"no captures under {root}"
    return found


def _columns(walk: object, g: Gatherer, off: np.ndarray, cap: np.ndarray, link: np.ndarray) -> list[np.ndarray]:
    n = off.shape[0]
    out = [np.full((12, n), -99, dtype=np.int64), np.zeros((4, n), dtype=np.uint64), np.zeros(n, dtype=np.bool_)]
    walk(g.raw, off, cap, link, *out)  # type: ignore[operator]
    return out


def test_header_walk_equals_the_reference_on_every_shared_capture() -> None:
    compiled = _extension("wardwatch.capture._decode")
    packets = 0
    for path in _captures():
        with CaptureSource(path) as src:
            g = Gatherer(src.buf, src.size)
            for rec in open_reader(src.buf, src.size).batches(4 << 20):
                args = (kernels.as_i64(rec.off), kernels.as_i64(rec.caplen), kernels.as_i64(rec.link))
                fast = _columns(compiled.packet_walk, g, *args)
                slow = _columns(decode.packet_walk, g, *args)
                assert all(np.array_equal(a, b) for a, b in zip(fast, slow, strict=True)), path
                packets += len(rec)
            del g
    assert packets > 10_000


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=600), records=st.lists(st.tuples(st.integers(-40, 640), st.integers(0, 700),
       st.sampled_from([0, 1, 12, 101, 108, 113, 228, 229, 276, 9])), max_size=8))
def test_header_walk_equals_the_reference_on_arbitrary_bytes(body: bytes, records: list[tuple[int, int, int]]) -> None:
    compiled = _extension("wardwatch.capture._decode")
    g = Gatherer(body, len(body))
    off, cap, link = (np.array([r[k] for r in records], dtype=np.int64) for k in range(3))
    fast = _columns(compiled.packet_walk, g, off, cap, link)
    slow = _columns(decode.packet_walk, g, off, cap, link)
    assert all(np.array_equal(a, b) for a, b in zip(fast, slow, strict=True))
    rows, ok = np.zeros((6, len(records)), dtype=np.int64), np.zeros(len(records), dtype=np.bool_)
    ref_rows, ref_ok = np.ones((6, len(records)), dtype=np.int64), np.ones(len(records), dtype=np.bool_)
    compiled.link_walk(g.raw, off, cap, link, rows, ok)
    decode.link_walk(g.raw, off, cap, link, ref_rows, ref_ok)
    assert np.array_equal(rows, ref_rows) and np.array_equal(ok, ref_ok)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), pos=st.integers(-8, 420), stop=st.integers(0, 420), big=st.booleans(),
       limit=st.sampled_from([0, 64, 262144]), rows=st.integers(1, 6))
def test_record_walks_equal_the_reference(data: bytes, pos: int, stop: int, big: bool, limit: int,
                                           rows: int) -> None:
    compiled = _extension("wardwatch.capture._kernels")
    fast, slow = np.full((rows, 5), -1, dtype=np.int64), np.full((rows, 5), -1, dtype=np.int64)
    got = compiled.pcap_walk(data, pos, stop, limit, big, fast)
    want = kernels.pcap_walk(data, pos, stop, limit, big, slow)
    assert got == want
    assert np.array_equal(fast[: got[0]], slow[: want[0]])
    fast1, slow1 = np.full(rows, -1, dtype=np.int64), np.full(rows, -1, dtype=np.int64)
    got2 = compiled.pcapng_epb_walk(data, pos, stop, MAX_BLOCK, big, BT_EPB, fast1)
    want2 = kernels.pcapng_epb_walk(data, pos, stop, MAX_BLOCK, big, BT_EPB, slow1)
    assert got2 == want2 and np.array_equal(fast1[: got2[0]], slow1[: want2[0]])


def test_record_walk_rejects_a_wrong_output_array() -> None:
    compiled = _extension("wardwatch.capture._kernels")
    with pytest.raises(TypeError):
        compiled.pcap_walk(b"\0" * 64, 0, 64, 100, False, np.zeros((4, 5), dtype=np.float64))


I64_RANGE = st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), pairs=st.lists(st.tuples(st.one_of(st.integers(-20, 320), I64_RANGE),
                                                              st.one_of(st.integers(-5, 320), I64_RANGE)),
                                                    max_size=20))
def test_payload_slices_equal_the_reference(data: bytes, pairs: list[tuple[int, int]]) -> None:
    """The batch payload copies: clamped to the buffer the same way, from bytes, memoryview and bytearray."""
    walks = _extension("wardwatch.capture._kernels")
    offs, lens = [p[0] for p in pairs], [p[1] for p in pairs]
    want = kernels.slices(data, offs, lens)
    assert all(0 <= len(w) <= len(data) for w in want)
    assert walks.slices(data, offs, lens) == want
    assert walks.slices(memoryview(data), offs, lens) == want
    assert walks.slices(bytearray(data), offs, lens) == want


def test_payload_slices_refuse_columns_of_different_lengths() -> None:
    walks = _extension("wardwatch.capture._kernels")
    for slices in (kernels.slices, walks.slices):
        with pytest.raises(ValueError):
            slices(b"abc", [0, 1], [1])

"""Batches on the wire and in the spool: round trips, hostile bytes, torn records, bounded size, ids."""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.pipeline.batch import Batch, BatchError, BatchId, decode, encode
from wardwatch.pipeline.bus.sender import frame, unframe
from wardwatch.pipeline.spool import SEQ_BLOCK, IdSource, Spool

OBS = Observation(ts=1.5, sensor="s1", kind="dhcp.hostname", value="infusion-7", mac="00:1b:63:84:45:e6",
                  ip="10.0.0.7", excerpt="option 12", confidence=0.9)
FLOW = FlowRecord("10.0.0.7", "10.0.0.1", 17, 68, 67, "00:1b:63:84:45:e6", None, 1.0, 2.0, 1, 1, 342, 342)
BATCH = Batch(id=BatchId("s1", 7, 3), site="icu", created=10.0, observations=(OBS,), flows=(FLOW,),
              counters={"packets": 2, "drops": 0}, source="pcap")


def test_round_trip() -> None:
    assert decode(encode(BATCH)) == BATCH
    assert str(BATCH.id) == "s1.7.3"


@given(st.binary(max_size=512))
@settings(max_examples=200)
def test_arbitrary_bytes_raise_batch_error_only(data: bytes) -> None:
    with contextlib.suppress(BatchError):
        decode(data)


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=255))
@settings(max_examples=200)
def test_mutated_batches_raise_batch_error_or_decode(position: int, value: int) -> None:
    text = bytearray(zlib.decompress(encode(BATCH)[1:]))  # seeded from a real batch
    text[position % len(text)] = value
    with contextlib.suppress(BatchError):
        decode(b"\x01" + zlib.compress(bytes(text)))


def test_decompression_bomb_is_refused() -> None:
    bomb = b"\x01" + zlib.compress(b"[" * (80 << 20), 9)
    with pytest.raises(BatchError):
        decode(bomb)


def test_site_names_are_subject_tokens() -> None:
    good = encode(Batch(id=BatchId("s1", 1, 1), site="icu", created=1.0))
    text = zlib.decompress(good[1:]).replace(b'"icu"', b'"icu.>"')
    with pytest.raises(BatchError):
        decode(b"\x01" + zlib.compress(text))


def test_spool_fifo_commit_and_resume(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=64)
    for i in range(10):
        assert spool.append(frame(f"id{i}", b"x" * i))
    first = spool.peek(4)
    assert [unframe(r)[0] for _, r in first] == ["id0", "id1", "id2", "id3"]
    spool.commit(first[-1][0])
    spool.close()
    again = Spool(tmp_path, segment_bytes=64)  # a restart resumes after the acknowledged records
    rest = again.peek(100)
    assert [unframe(r) for _, r in rest] == [(f"id{i}", b"x" * i) for i in range(4, 10)]
    again.commit(rest[-1][0])
    assert again.peek(10) == []
    assert len(list(tmp_path.glob("*.seg"))) == 1  # acknowledged segments are deleted


def test_torn_tail_is_cut_and_appends_continue(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(b"complete")
    spool.close()
    seg = next(tmp_path.glob("*.seg"))
    with seg.open("ab") as handle:  # a crash in the middle of the next append
        handle.write(b"\x20\x00\x00\x00\x00\x00\x00\x00half")
    spool = Spool(tmp_path)
    spool.append(b"after")
    assert [r for _, r in spool.peek(10)] == [b"complete", b"after"]


def test_full_spool_refuses_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    assert spool.append(b"a" * 60)
    assert not spool.append(b"b" * 60)
    assert spool.refused == 1


def test_ids_are_unique_across_restarts(tmp_path: Path) -> None:
    ids = IdSource("s1", tmp_path)
    first = [ids.next() for _ in range(3)]
    again = IdSource("s1", tmp_path)
    nxt = again.next()
    assert nxt.epoch == first[0].epoch
    assert nxt.seq >= SEQ_BLOCK > first[-1].seq  # the reserved block is skipped, never reused
    assert len({*first, nxt}) == 4

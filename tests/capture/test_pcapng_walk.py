"""pcapng: runs of Enhanced Packet Blocks indexed by the compiled walk, every other block in Python."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.builders import eth, ip4, pcapng, udp
from wardwatch.capture.kernels import pcapng_epb_walk
from wardwatch.capture.pcapng import BT_EPB, MAX_BLOCK, PcapngReader
from wardwatch.capture.records import RecordIndex


def _frame(i: int) -> bytes:
    return eth(ip4("10.0.0.1", "10.0.0.2", udp(1000 + i, 53, b"p%d" % i), 17))


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def _epb(iface: int, i: int) -> bytes:
    frame = _frame(i)
    return _block(BT_EPB, struct.pack("<IIIII", iface, 0, 1000 + i, len(frame), len(frame)) + frame)


def _read(data: bytes, chunk: int) -> tuple[RecordIndex | None, PcapngReader]:
    reader = PcapngReader(data, len(data))
    parts = list(reader.batches(chunk))
    return (RecordIndex.concat(parts) if parts else None), reader


def _mixed() -> bytes:
    """Two sections; EPB runs broken by an IDB, an unknown block, an SPB and a too short EPB."""
    first = pcapng([(1, None)], [(0, 1000 + i, _frame(i)) for i in range(5)])
    idb = _block(1, struct.pack("<HHI", 101, 0, 65535))  # interface 1: raw IP
    spb = _block(3, struct.pack("<I", len(_frame(50))) + _frame(50))
    short = struct.pack("<II", BT_EPB, 12) + struct.pack("<I", 12)
    unknown = _block(0x0BAD, b"\1\2\3\4")
    body = b"".join([_epb(0, 5), idb, _epb(1, 6), _epb(0, 7), unknown, spb, short, _epb(0, 8)])
    second = pcapng([(1, None)], [(0, 2000 + i, _frame(20 + i)) for i in range(3)], endian=">")
    return first + body + second


def test_epb_runs_and_other_blocks_in_file_order() -> None:
    data = _mixed()
    rec, reader = _read(data, 1 << 20)
    assert rec is not None
    assert len(rec) == 13  # 5 + 4 EPBs + the SPB in the first section, 3 in the second
    assert rec.link.tolist() == [1] * 6 + [101] + [1] * 6
    assert rec.off.tolist() == sorted(rec.off.tolist())
    assert reader.stats.skipped == {"bad_packet_block": 1}  # the 12-byte EPB
    assert not reader.stats.truncated and reader.position == len(data)


@pytest.mark.parametrize("chunk", [1, 60, 200, 4096])
def test_chunk_size_changes_batches_not_records(chunk: int) -> None:
    data = _mixed()
    whole, ref = _read(data, 1 << 20)
    rec, reader = _read(data, chunk)
    assert whole is not None and rec is not None
    for field in ("off", "caplen", "wirelen", "ts", "link"):
        assert np.array_equal(getattr(rec, field), getattr(whole, field))
    assert reader.stats == ref.stats


def test_short_epb_ending_the_file_is_a_counted_skip() -> None:
    data = pcapng([(1, None)], [(0, 5, _frame(0))]) + struct.pack("<III", BT_EPB, 12, 12)
    rec, reader = _read(data, 1 << 20)
    assert rec is not None and len(rec) == 1
    assert reader.stats.skipped == {"bad_packet_block": 1}


def test_walk_stops_where_python_takes_over() -> None:
    data = b"".join(_epb(0, i) for i in range(4)) + _block(0x0BAD, b"") + _epb(0, 9)
    raw = np.frombuffer(data, dtype=np.uint8)
    size = len(_epb(0, 0))
    out = np.zeros(8, dtype=np.int64)
    n, pos = pcapng_epb_walk(raw, 0, len(data), MAX_BLOCK, False, BT_EPB, out)
    assert (n, pos) == (4, 4 * size) and out[:4].tolist() == [0, size, 2 * size, 3 * size]  # other block type
    assert pcapng_epb_walk(raw, 0, size + 1, MAX_BLOCK, False, BT_EPB, out) == (2, 2 * size)  # chunk end
    assert pcapng_epb_walk(raw, 0, len(data), MAX_BLOCK, False, BT_EPB, out[:3]) == (3, 3 * size)  # out full
    cut = raw[: 2 * size - 4]
    assert pcapng_epb_walk(cut, 0, len(cut), MAX_BLOCK, False, BT_EPB, out) == (1, size)  # past the end


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_files_give_counted_skips_only(data: st.DataObject) -> None:
    blob = bytearray(_mixed())
    for _ in range(data.draw(st.integers(1, 12))):
        at = data.draw(st.integers(0, len(blob) - 4))
        if data.draw(st.booleans()):  # a plausible block type or length word
            word = data.draw(st.sampled_from([BT_EPB, 12, 16, 32, 1, 0x0A0D0D0A, 0xFFFFFFFF, 13]))
            struct.pack_into("<I", blob, at, word)
        else:
            blob[at] = data.draw(st.integers(0, 255))
    blob = blob[: data.draw(st.integers(0, len(blob)))]
    whole, ref = _read(bytes(blob), 1 << 20)
    rec, reader = _read(bytes(blob), data.draw(st.sampled_from([1, 64, 512])))
    assert (whole is None) == (rec is None) and reader.stats == ref.stats
    if rec is not None and whole is not None:
        assert np.array_equal(rec.off, whole.off) and np.array_equal(rec.caplen, whole.caplen)
        assert int((rec.off + rec.caplen).max(initial=0)) <= len(blob)

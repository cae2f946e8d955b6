"""The capture hot path's sequential record walks, in Python: the reference of ``capture._kernels`` (C).

Everything else on the hot path is vectorized with numpy; what cannot be is a walk whose next step depends
on the bytes just read, such as the offset chain of capture-file records. The C extension does these walks
where it was built (see :mod:`.compiled`, which chooses); the functions here do exactly the same, are
used where it was not, and are what tests compare the C code with. Neither reads a byte outside the
buffer it was given, whatever the bytes say.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

#: Bytes of a classic pcap record header (draft-ietf-opsawg-pcap §5: seconds, fraction, caplen, wirelen).
PCAP_RECORD_HEADER = 16
_RECORD = {False: struct.Struct("<IIII").unpack_from, True: struct.Struct(">IIII").unpack_from}
_BLOCK = {False: struct.Struct("<II").unpack_from, True: struct.Struct(">II").unpack_from}


def pcap_walk(raw: Any, pos: int, stop: int, limit: int, big: bool, out: I64) -> tuple[int, int, bool]:
    """Follow classic pcap records of buffer ``raw`` from ``pos`` while a record header starts before ``stop``.

    Fills ``out[i] = (record offset, seconds, fraction, caplen, wirelen)`` (``out`` has shape (cap, 5))
    and returns ``(count, next position, bad)``: ``bad`` when a caplen beyond ``limit`` stopped the walk
    (the caller resynchronises at the returned position). The walk also stops when ``out`` is full. A
    record whose body runs past the end of ``raw`` is listed; the caller sees ``next position > len``.
    """
    n = 0
    size = len(raw)
    cap = out.shape[0]
    record = _RECORD[big]
    stop = min(stop, size - PCAP_RECORD_HEADER + 1)
    pos = max(pos, 0)
    while pos < stop and n < cap:
        sec, frac, caplen, wire = record(raw, pos)
        if caplen > limit:
            return n, pos, True
        out[n] = (pos, sec, frac, caplen, wire)
        n += 1
        pos += PCAP_RECORD_HEADER + caplen
    return n, pos, False


def pcapng_epb_walk(
    raw: Any, pos: int, stop: int, max_block: int, big: bool, epb: int, out: I64,
) -> tuple[int, int]:
    """Follow consecutive pcapng blocks of type ``epb`` (Enhanced Packet Block) from ``pos``.

    Lists each block's offset in ``out`` and returns ``(count, position of the first block not taken)``.
    The walk stops at ``stop``, before any other block type, before a block whose length is not a multiple
    of four from 12 (the smallest block) to ``max_block`` or that runs past the end of ``raw``, and when
    ``out`` is full: whatever stopped it is the caller's (Python's) to handle (pcapng §3.1, §4.3). A block
    too short for an EPB's fields is listed all the same; the caller rejects it with its other checks.
    """
    n = 0
    size = len(raw)
    cap = out.shape[0]
    block = _BLOCK[big]
    pos = max(pos, 0)
    while pos < stop and n < cap and pos + 12 <= size:
        btype, blen = block(raw, pos)
        if btype != epb or blen < 12 or blen % 4 != 0 or blen > max_block or pos + blen > size:
            break
        out[n] = pos
        n += 1
        pos += blen
    return n, pos


def slices(raw: Any, offsets: Sequence[int], lengths: Sequence[int]) -> list[bytes]:
    """``bytes(raw[off : off + length])`` for each pair, with ``off`` and ``length`` first clamped to
    ``[0, len(raw)]`` and ``[0, len(raw) - off]`` (never Python's negative-index meaning): the payload
    copies of a batch of datagrams. Raises ValueError when the two sequences differ in length."""
    if len(offsets) != len(lengths):
        raise ValueError("offsets and lengths differ in length")
    size = len(raw)
    out = []
    for off, length in zip(offsets, lengths, strict=True):
        start = min(max(off, 0), size)
        out.append(bytes(raw[start : start + min(max(length, 0), size - start)]))
    return out


def as_i64(a: Any) -> I64:
    """``a`` as a contiguous int64 array (no copy when it is one), the form the walks take."""
    return np.ascontiguousarray(a, dtype=np.int64)

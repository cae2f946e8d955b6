"""Vectorized byte gathering from the mapped capture.

Per-field gathers at unaligned offsets are slow in numpy; gathering fixed-width *rows* of bytes (one
fancy index over a stride-1 two-dimensional view) copies each packet's header into a compact array in
one pass, after which every field is a cheap column operation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


class Gatherer:
    """Row and column gathers over one buffer; offsets past the end are clipped (callers mask them)."""

    def __init__(self, buf: Any, size: int, pad: int = 256) -> None:
        raw = np.frombuffer(buf, dtype=np.uint8, count=size)
        if size < pad:  # tiny buffers: a padded copy so every row view has a valid shape
            padded = np.zeros(pad, dtype=np.uint8)
            padded[:size] = raw
            raw = padded
        self.raw: U8 = raw
        self.size = int(raw.shape[0])
        self._views: dict[int, U8] = {}

    def rows(self, off: I64, width: int) -> U8:
        """A (len(off), width) array: the bytes at ``off .. off+width`` for each offset."""
        view = self._views.get(width)
        if view is None:
            view = as_strided(self.raw, shape=(self.size - width + 1, width), strides=(1, 1))
            self._views[width] = view
        limit = self.size - width
        out = np.asarray(view[np.clip(off, 0, limit)])
        near_end = np.flatnonzero(off > limit)
        if near_end.shape[0]:  # rows running past the end: zero-padded copy of the tail
            start = max(0, limit)
            tail = np.zeros(self.size - start + width, dtype=np.uint8)
            tail[: self.size - start] = self.raw[start:]
            tview = as_strided(tail, shape=(tail.shape[0] - width + 1, width), strides=(1, 1))
            out[near_end] = tview[np.clip(off[near_end] - start, 0, tail.shape[0] - width)]
        return out

    def u8(self, off: I64) -> I64:
        """One byte at each offset."""
        return self.raw[np.clip(off, 0, self.size - 1)].astype(np.int64)

    def be16(self, off: I64) -> I64:
        """Big-endian 16-bit word at each offset."""
        return (self.u8(off) << 8) | self.u8(off + 1)


def be16(rows: U8, col: int) -> I64:
    """Big-endian 16-bit column of a row array."""
    return (rows[:, col].astype(np.int64) << 8) | rows[:, col + 1]


def be32(rows: U8, col: int) -> I64:
    """Big-endian 32-bit column of a row array."""
    return np.ascontiguousarray(rows[:, col : col + 4]).view(">u4").reshape(-1).astype(np.int64)


def be48(rows: U8, col: int) -> I64:
    """Big-endian 48-bit column (a MAC address) as int64."""
    return (be16(rows, col) << 32) | be32(rows, col + 2)


def be64(rows: U8, col: int) -> U64:
    """Big-endian 64-bit column (half an IPv6 address)."""
    return np.ascontiguousarray(rows[:, col : col + 8]).view(">u8").reshape(-1).astype(np.uint64)


def cols(rows: U8, start: I64, width: int) -> U8:
    """Per-row sub-rows: for row i the bytes ``start[i] .. start[i]+width`` (clipped to the row)."""
    idx = np.clip(start[:, None] + np.arange(width, dtype=np.int64)[None, :], 0, rows.shape[1] - 1)
    return np.take_along_axis(rows, idx, axis=1)

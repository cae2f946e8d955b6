"""The mapped capture as a byte array, and fixed-width row gathers from it.

The header walk (:mod:`.decode`) reads :attr:`Gatherer.raw` directly; :meth:`Gatherer.rows` copies a
fixed-width window at each of many offsets in one fancy index over a stride-1 two-dimensional view, for
the few vectorized callers left (live capture's wire lengths).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


class Gatherer:
    """Read-only bytes of one buffer (tiny buffers zero-padded to ``pad`` bytes); row gathers over it."""

    def __init__(self, buf: Any, size: int, pad: int = 256) -> None:
        raw = np.frombuffer(buf, dtype=np.uint8, count=size)
        if size < pad:  # tiny buffers: a padded copy so every row view has a valid shape
            padded = np.zeros(pad, dtype=np.uint8)
            padded[:size] = raw
            raw = padded
        raw.flags.writeable = False  # always read-only: one compiled signature of the header walk
        self.raw: U8 = raw
        self.size = int(raw.shape[0])
        self._views: dict[int, U8] = {}

    def rows(self, off: I64, width: int) -> U8:
        """A (len(off), width) array: the bytes at ``off .. off+width`` for each offset (zero past the end)."""
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

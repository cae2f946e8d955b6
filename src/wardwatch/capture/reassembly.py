"""Bounded TCP stream reassembly for one flow direction (RFC 9293 §3.4 sequence space).

Only the first ``budget`` bytes of a direction are kept. Segments are placed by their offset from the
initial sequence number (ISN + 1 when the SYN was seen, else the first sequence number seen); overlaps
and retransmissions are de-duplicated (first copy wins, as most stacks do for overlapping data);
out-of-order segments wait in a bounded buffer until the gap before them closes. A gap that never
closes ends the usable prefix.

:func:`place_segments` is the capture engine's per-segment loop (a batch of TCP segments into the flows'
:class:`StreamBuffers`). Both it and :class:`StreamBuffers` have a C implementation
(``wardwatch.capture._reassembly``) with identical results; :data:`Streams` and :data:`place` are the pair
in use (:func:`wardwatch.native.extension` chooses, ``WARDWATCH_PURE_PYTHON_KERNELS=1`` forces this module).
The code here is the reference: tests compare the two on generated segment sequences and real captures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.native import extension

#: Out-of-order segments kept per direction while waiting for a gap to close.
MAX_PENDING = 64


class DirectionBuffer:
    """The in-order prefix of one direction, cut at ``budget`` bytes."""

    __slots__ = ("budget", "data", "gap", "pending", "pending_bytes")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.data = bytearray()
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.gap = False

    @property
    def full(self) -> bool:
        """True once the prefix holds the whole budget."""
        return len(self.data) >= self.budget

    @property
    def truncated(self) -> bool:
        """True when the budget cut the stream or a gap ended the prefix."""
        return self.full or self.gap or bool(self.pending)

    def add(self, rel: int, payload: bytes) -> None:
        """Place ``payload`` starting ``rel`` bytes after the stream start (``rel`` may be negative)."""
        have = len(self.data)
        if have >= self.budget:
            return
        if rel < 0:  # starts before the stream origin: keep the part at or after it
            payload = payload[-rel:]
            rel = 0
        end = min(rel + len(payload), self.budget)
        if end <= have:
            return  # pure retransmission
        if rel > have:
            if len(self.pending) < MAX_PENDING and self.pending_bytes + len(payload) <= self.budget:
                old = self.pending.get(rel)
                if old is None or len(old) < len(payload):
                    self.pending_bytes += len(payload) - (len(old) if old else 0)
                    self.pending[rel] = payload[: end - rel]
            else:
                self.gap = True
            return
        self.data += payload[have - rel : end - rel]
        if self.pending:
            self._drain()

    def _drain(self) -> None:
        progressed = True
        while progressed and self.pending and len(self.data) < self.budget:
            progressed = False
            have = len(self.data)
            for rel in sorted(self.pending):
                if rel > have:
                    break
                chunk = self.pending.pop(rel)
                self.pending_bytes -= len(chunk)
                end = min(rel + len(chunk), self.budget)
                if end > have:
                    self.data += chunk[have - rel : end - rel]
                    have = len(self.data)
                progressed = True
        if len(self.data) >= self.budget:
            self.pending.clear()
            self.pending_bytes = 0

    def result(self) -> bytes:
        """The usable in-order prefix."""
        return bytes(self.data)


class StreamBuffers:
    """Both directions of one TCP flow: index 0 = originator (client), 1 = responder (server)."""

    __slots__ = ("dirs",)

    def __init__(self, budget: int) -> None:
        self.dirs = (DirectionBuffer(budget), DirectionBuffer(budget))

    @property
    def budget(self) -> int:
        """Bytes kept per direction."""
        return self.dirs[0].budget

    @property
    def truncated(self) -> bool:
        """True when a budget cut either direction or a gap ended its prefix."""
        return self.dirs[0].truncated or self.dirs[1].truncated

    def add(self, d: int, rel: int, payload: bytes) -> None:
        """Place ``payload`` in direction ``d`` (see :meth:`DirectionBuffer.add`)."""
        self.dirs[d].add(rel, payload)

    def result(self) -> tuple[bytes, bytes]:
        """The usable in-order prefixes (client, server)."""
        return self.dirs[0].result(), self.dirs[1].result()

    def state(self, d: int) -> tuple[bytes, list[tuple[int, bytes]], int, bool]:
        """Direction ``d`` as (prefix, waiting chunks sorted by offset, pending byte count, gap): for tests."""
        db = self.dirs[d]
        return bytes(db.data), sorted(db.pending.items()), db.pending_bytes, db.gap


def place_segments(streams: dict[int, StreamBuffers], finished: set[int], full: npt.NDArray[np.bool_],
                   budget: int, buf: Any, fids: Sequence[int], dirs: Sequence[int], offs: Sequence[int],
                   lens: Sequence[int], rels: Sequence[int], start: int) -> int:
    """Place TCP segments ``start, start + 1, ...`` (capture order) into their flows' stream buffers.

    Segment ``i`` carries ``buf[offs[i] : offs[i] + lens[i]]`` at offset ``rels[i]`` of direction
    ``dirs[i]`` (0 = client, 1 = server) of flow ``fids[i]``; a flow not in ``streams`` gets buffers of
    ``budget`` bytes per direction, unless it is in ``finished`` (its stream was handed over earlier in the
    batch: its segments are ignored). ``full[fid, d]`` is set when direction ``d`` holds its budget.

    Returns the index of the first segment after which both directions of its flow are full (the caller
    hands that stream over, adds the flow to ``finished`` and calls again from the next index), or
    ``len(fids)`` when every segment is placed.
    """
    for i in range(start, len(fids)):
        f = fids[i]
        sb = streams.get(f)
        if sb is None:
            if f in finished:
                continue
            sb = streams[f] = StreamBuffers(budget)
        dd = dirs[i]
        db = sb.dirs[dd]
        data = db.data
        have = len(data)
        if have >= budget:
            continue
        off, n, r = offs[i], lens[i], rels[i]
        if r == have and not db.pending:  # in order, nothing waiting: the common case
            data += buf[off : off + min(n, budget - have)]
        else:
            db.add(r, buf[off : off + n])
        if len(data) >= budget:
            full[f, dd] = True
            if full[f, 1 - dd]:
                return i
    return len(fids)


#: Signature of :func:`place_segments` (the C function has the same).
PlaceSegments = Callable[[dict[int, StreamBuffers], set[int], npt.NDArray[np.bool_], int, Any, Sequence[int],
                          Sequence[int], Sequence[int], Sequence[int], Sequence[int], int], int]

_compiled = extension("wardwatch.capture._reassembly")
#: True when the C placement and stream buffers are in use.
COMPILED = _compiled is not None
#: The stream buffers type in use (same methods and results as :class:`StreamBuffers`, without ``dirs``).
Streams: type[StreamBuffers] = StreamBuffers if _compiled is None else _compiled.StreamBuffers
#: The placement function in use (:func:`place_segments` or its C implementation).
place: PlaceSegments = place_segments if _compiled is None else _compiled.place_segments

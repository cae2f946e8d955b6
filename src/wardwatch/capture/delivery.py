"""Payload delivery: the packets inside their direction's budget go to the sink, in capture order.

The flow table (:mod:`.flows`) decides vectorially which packets carry payload worth handing over; this
module does the per-packet remainder. TCP segments are placed into bounded per-direction buffers
(:mod:`.reassembly`, in C where built, with a fast path for the common in-order segment) and a flow's stream goes to
the sink once both budgets are full or the flow ends. UDP datagrams go to the sink a run at a time as a
:class:`~wardwatch.capture.sink.DatagramBatch` when the sink takes batches (no context object and no
payload copy per datagram here), else one ``datagram`` call each; non-IP frames one ``frame`` call each.
Sink calls keep capture order across the three shapes: datagrams and frames that precede a stream's
completing segment are handed over before that stream.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.capture.compiled import slices
from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import KIND_L2, PacketBatch
from wardwatch.capture.flowstate import FlowColumns, Namer
from wardwatch.capture.reassembly import StreamBuffers, place
from wardwatch.capture.sink import DatagramBatch, FlowSlot, PayloadSink
from wardwatch.domain.flow import PROTO_TCP

I64 = npt.NDArray[np.int64]


class Delivery:
    """Per-flow payload state (stream buffers, sink slots) and the sink calls; see the module docstring."""

    def __init__(self, sink: PayloadSink, fc: FlowColumns, *, sensor: str, config: CaptureConfig,
                 stats: CaptureStats) -> None:
        self.sink = sink
        batch = getattr(sink, "datagram_batch", None)
        self._batch: Callable[[DatagramBatch], None] | None = batch if callable(batch) else None
        prepare = getattr(sink, "prepare", None) if self._batch is not None else None
        self._prepare: Callable[[FlowSlot, int, bytes], None] | None = prepare if callable(prepare) else None
        self.fc = fc
        self.sensor = sensor
        self.cfg = config
        self.stats = stats
        self.streams: dict[int, StreamBuffers] = {}
        self.slots: dict[int, FlowSlot] = {}
        self.namer = Namer()

    # -- per batch ----------------------------------------------------------------------------------
    def deliver(self, pb: PacketBatch, buf: Any, src: I64, fid: I64, d: I64, interest: Any, rel: I64,
                ts: Any) -> None:
        """Hand over the packets of ``interest`` (sorted-batch positions), in capture order."""
        idx = np.flatnonzero(interest)
        if idx.shape[0] == 0:
            return
        idx = idx[np.argsort(src[idx], kind="stable")]  # capture order
        s = src[idx]
        f_all = fid[idx]
        self._name(f_all)
        is_tcp = (pb.proto[s] == PROTO_TCP) & (pb.kind[s] != KIND_L2)
        other = np.flatnonzero(~is_tcp)
        pending = _Others(self, buf, other, f_all[other], d[idx][other], s[other], pb, ts[idx][other])
        tcp = np.flatnonzero(is_tcp)
        if tcp.shape[0]:
            st = s[tcp]
            self._segments(buf, pending, tcp.tolist(), f_all[tcp].tolist(), d[idx][tcp].tolist(),
                           pb.poff[st].tolist(), pb.plen[st].tolist(), rel[idx][tcp].tolist())
        pending.finish(len(idx))

    def _segments(self, buf: Any, pending: _Others, pos: list[int], fids: list[int], dirs: list[int],
                  offs: list[int], lens: list[int], rels: list[int]) -> None:
        """Place TCP segments (capture order); emit a stream as soon as both its budgets are full.

        The placement (:data:`wardwatch.capture.reassembly.place`, C or its Python reference) stops at each
        segment that fills a flow's second budget: the datagrams before it go out, then that stream.
        """
        budget = self.cfg.tcp_budget
        full = self.fc.full
        streams = self.streams
        finished: set[int] = set()
        n = len(fids)
        k = place(streams, finished, full, budget, buf, fids, dirs, offs, lens, rels, 0)
        while k < n:
            f = fids[k]
            pending.flush(pos[k])
            self.emit(f)
            finished.add(f)
            k = place(streams, finished, full, budget, buf, fids, dirs, offs, lens, rels, k + 1)

    def _name(self, fids: I64) -> None:
        """Make sure these flows have a slot (endpoint texts and contexts), added in flow id order."""
        self.namer.make_slots(self.fc, fids, self.sensor, self.slots)

    # -- per flow -----------------------------------------------------------------------------------
    def emit(self, fid: int) -> None:
        """Deliver the stream of a TCP flow once (if it carried payload) and stop collecting."""
        self.fc.col["done"][fid] = True  # the column itself: cheaper than FlowColumns.__getattr__ per flow
        sb = self.streams.pop(fid, None)
        if sb is None:
            return
        client, server = sb.result()
        if not client and not server:
            return
        slot = self.slots.get(fid)
        if slot is None:
            self._name(np.array([fid], dtype=np.int64))
            slot = self.slots[fid]
        # The context at the flow's first time (slot.first is fc.first[fid], written once, when the flow
        # is created): the slot's base context itself unless the stream was cut.
        cut = sb.truncated
        ctx = slot.context(0, slot.first, True) if cut else slot.base(0)
        self.stats.streams += 1
        self.sink.stream(ctx, client, server)

    def forget(self, fids: list[int]) -> None:
        """Drop the state of ended flows."""
        slots, streams = self.slots, self.streams
        for f in fids:
            slots.pop(f, None)
            streams.pop(f, None)

    def remap(self, remap: dict[int, int]) -> None:
        """Follow a compaction of the flow columns (old id → new id)."""
        self.streams = {remap[f]: s for f, s in self.streams.items() if f in remap}
        self.slots = {remap[f]: s for f, s in self.slots.items() if f in remap}


class _Others:
    """The datagrams and frames of one batch, handed to the sink up to a capture position on demand."""

    def __init__(self, dv: Delivery, buf: Any, pos: I64, fids: I64, dirs: I64, s: I64, pb: PacketBatch,
                 ts: Any) -> None:
        self.dv = dv
        self.buf = buf
        self.done = 0
        #: Datagrams their slots' skip rules withheld, counted per flow direction; handed over at the end.
        self.skipped: list[tuple[FlowSlot, int, int]] = []
        if pos.shape[0] and dv._prepare is not None:
            withheld = _withheld(dv, buf, fids, dirs, pb.poff[s], pb.plen[s], pb.kind[s] == KIND_L2)
            if withheld is not None:
                self.skipped = _counts(dv.slots, fids[withheld] * 2 + dirs[withheld])
                dv.stats.datagrams += int(np.count_nonzero(withheld))
                keep = np.flatnonzero(~withheld)
                pos, fids, dirs, s, ts = pos[keep], fids[keep], dirs[keep], s[keep], ts[keep]
        self.pos: list[int] = pos.tolist()
        if not self.pos:
            return
        self.fids: list[int] = fids.tolist()
        self.dirs: list[int] = dirs.tolist()
        self.offs: list[int] = pb.poff[s].tolist()
        self.lens: list[int] = pb.plen[s].tolist()
        self.ts: list[float] = ts.tolist()
        self.cut: list[bool] = pb.cut[s].tolist()
        self.frames: list[int] = np.flatnonzero(pb.kind[s] == KIND_L2).tolist()  # indexes of frames
        self.ftype: list[int] = pb.sport[s].tolist()

    def flush(self, upto: int) -> None:
        """Deliver everything before capture position ``upto`` (a position in the interest order)."""
        end = bisect_left(self.pos, upto, self.done)
        start = self.done
        if end <= start:
            return
        self.done = end
        frames = self.frames
        lo = bisect_left(frames, start)
        hi = bisect_left(frames, end)
        cuts = [*frames[lo:hi], end]
        for k in cuts:
            if k > start:
                self._datagrams(start, k)
            if k < end:
                self._frame(k)
            start = k + 1

    def finish(self, upto: int) -> None:
        """:meth:`flush` up to ``upto``, then hand over the counts of the withheld datagrams.

        A withheld datagram yields nothing and changes no state (the skip rule's promise): only its count
        and its flow direction's label reach the sink, once per batch instead of at its own position.
        """
        self.flush(upto)
        if self.skipped:
            assert self.dv._batch is not None  # skip rules exist only for batch sinks
            self.dv._batch(DatagramBatch(self.buf, [], [], [], [], [], [], self.skipped))
            self.skipped = []

    def _datagrams(self, a: int, b: int) -> None:
        dv = self.dv
        dv.stats.datagrams += b - a
        slots = dv.slots
        batch = DatagramBatch(self.buf, [slots[f] for f in self.fids[a:b]], self.dirs[a:b], self.offs[a:b],
                              self.lens[a:b], self.ts[a:b], self.cut[a:b])
        if dv._batch is not None:
            dv._batch(batch)
            return
        datagram = dv.sink.datagram
        for ctx, payload in batch:
            datagram(ctx, payload)

    def _frame(self, k: int) -> None:
        dv = self.dv
        dv.stats.frames += 1
        off, n = self.offs[k], self.lens[k]
        ctx = dv.slots[self.fids[k]].context(self.dirs[k], self.ts[k], self.cut[k])
        dv.sink.frame(ctx, (self.ftype[k] & 0xFFFF).to_bytes(2, "big") + bytes(self.buf[off : off + n]))


def _counts(slots: dict[int, FlowSlot], keys: I64) -> list[tuple[FlowSlot, int, int]]:
    """``(slot, direction, count)`` of datagrams keyed ``flow id * 2 + direction``."""
    found, counts = np.unique(keys, return_counts=True)
    return [(slots[k >> 1], k & 1, n) for k, n in zip(found.tolist(), counts.tolist(), strict=True)]


def _withheld(dv: Delivery, buf: Any, fids: I64, dirs: I64, poff: I64, plen: I64,
              l2: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_] | None:
    """Which of these datagrams (and frames) their slots' skip rules withhold (``None``: none).

    Each flow direction not seen before is first shown to the sink's ``prepare`` hook with its first
    datagram, in capture order, so a rule it sets applies from that datagram on.
    """
    slots, prepare = dv.slots, dv._prepare
    assert prepare is not None
    udp = ~l2
    key = fids * 2 + dirs
    keys, first = np.unique(key[udp], return_index=True)
    at_first = np.flatnonzero(udp)[first]
    order = np.argsort(at_first, kind="stable")  # the directions in capture order of their first datagram
    ks = keys[order].tolist()
    seen = [slots[k >> 1] for k in ks]
    new = [i for i, (k, slot) in enumerate(zip(ks, seen, strict=True)) if not slot.asked & (1 << (k & 1))]
    if new:  # each prepare sets its own direction's rule only: all of them first, then read the rules
        at = at_first[order[new]]
        for i, payload in zip(new, slices(buf, poff[at].tolist(), plen[at].tolist()), strict=True):
            slot, d = seen[i], ks[i] & 1
            slot.asked |= 1 << d
            prepare(slot, d, payload)
    ruled: list[int] = []  # positions (in ``keys``) of directions with a rule, and the rule
    rules: list[tuple[int, int]] = []
    for j, k, slot in zip(order.tolist(), ks, seen, strict=True):
        skips = slot.skips
        if skips is not None:
            rule = skips[k & 1]
            if rule is not None:
                ruled.append(j)
                rules.append(rule)
    found = bool(ruled)
    offset = np.full(keys.shape[0], -1, dtype=np.int64)
    mask = np.zeros(keys.shape[0], dtype=np.int64)
    if found:
        offset[ruled] = [r[0] for r in rules]
        mask[ruled] = [r[1] for r in rules]
    if not found:
        return None
    pos = np.searchsorted(keys, key)
    pos[~udp] = 0
    at = np.where(udp, offset[pos], -1)
    bits = mask[pos]
    tested = (at >= 0) & ~l2 & (plen > at)
    byte = np.zeros(fids.shape[0], dtype=np.int64)
    byte[tested] = np.frombuffer(buf, dtype=np.uint8)[poff[tested] + at[tested]]
    out: npt.NDArray[np.bool_] = tested & ((byte & bits) != 0)
    return out

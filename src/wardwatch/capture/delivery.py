"""Payload delivery: the packets inside their direction's budget go to the sink, in capture order.

The flow table (:mod:`.flows`) decides vectorially which packets carry payload worth handing over; this
module does the per-packet remainder. TCP segments are placed into bounded per-direction buffers
(:mod:`.reassembly`, with an inline fast path for the common in-order segment) and a flow's stream goes to
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

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import KIND_L2, PacketBatch
from wardwatch.capture.flowstate import FlowColumns, Namer
from wardwatch.capture.reassembly import StreamBuffers
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
        pending.flush(len(idx))

    def _segments(self, buf: Any, pending: _Others, pos: list[int], fids: list[int], dirs: list[int],
                  offs: list[int], lens: list[int], rels: list[int]) -> None:
        """Place TCP segments (capture order); emit a stream as soon as both its budgets are full."""
        budget = self.cfg.tcp_budget
        full = self.fc.full
        streams = self.streams
        finished: set[int] = set()
        for j, f, dd, off, n, r in zip(pos, fids, dirs, offs, lens, rels, strict=True):
            sb = streams.get(f)
            if sb is None:
                if f in finished:
                    continue
                sb = streams[f] = StreamBuffers(budget)
            db = sb.dirs[dd]
            data = db.data
            have = len(data)
            if have >= budget:
                continue
            if r == have and not db.pending:  # in order, nothing waiting: the common case
                data += buf[off : off + min(n, budget - have)]
            else:
                db.add(r, buf[off : off + n])
            if len(data) >= budget:
                full[f, dd] = True
                if full[f, 1 - dd]:
                    pending.flush(j)
                    self.emit(f)
                    finished.add(f)

    def _name(self, fids: I64) -> None:
        """Make sure these flows have a slot (endpoint texts and contexts)."""
        u = np.unique(fids)
        slots = self.slots
        missing = u[[f not in slots for f in u.tolist()]] if u.shape[0] else u
        if missing.shape[0]:
            ends = self.namer.endpoints(self.fc, missing)
            first = self.fc.first[missing].tolist()
            sensor = self.sensor
            for f, e, t in zip(missing.tolist(), ends, first, strict=True):
                slots[f] = FlowSlot(e, t, sensor)

    # -- per flow -----------------------------------------------------------------------------------
    def emit(self, fid: int) -> None:
        """Deliver the stream of a TCP flow once (if it carried payload) and stop collecting."""
        fc = self.fc
        fc.done[fid] = True
        sb = self.streams.pop(fid, None)
        if sb is None:
            return
        client, server = sb.dirs
        if not client.data and not server.data:
            return
        if fid not in self.slots:
            self._name(np.array([fid], dtype=np.int64))
        cut = client.truncated or server.truncated
        ctx = self.slots[fid].context(0, float(fc.first[fid]), cut)
        self.stats.streams += 1
        self.sink.stream(ctx, client.result(), server.result())

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
        self.pos: list[int] = pos.tolist()
        self.done = 0
        if not self.pos:
            return
        self.fids: list[int] = fids.tolist()
        self.dirs: list[int] = dirs.tolist()
        self.offs: list[int] = pb.poff[s].tolist()
        self.lens: list[int] = pb.plen[s].tolist()
        self.ts: list[float] = ts.tolist()
        self.cut: list[bool] = pb.cut[s].tolist()
        l2 = pb.kind[s] == KIND_L2
        self.frames: list[int] = np.flatnonzero(l2).tolist()  # indexes (into these lists) of frames
        self.ftype: list[int] = pb.sport[s].tolist()
        withheld = _withheld(dv, buf, fids, dirs, pb.poff[s], pb.plen[s], l2) if dv._prepare else None
        self.withheld: list[bool] | None = None if withheld is None else withheld.tolist()

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

    def _datagrams(self, a: int, b: int) -> None:
        dv = self.dv
        dv.stats.datagrams += b - a
        slots = dv.slots
        withheld = self.withheld
        if withheld is not None and any(withheld[a:b]):
            batch = self._kept(a, b, withheld)
        else:
            flows = [slots[f] for f in self.fids[a:b]]
            batch = DatagramBatch(self.buf, flows, self.dirs[a:b], self.offs[a:b], self.lens[a:b], self.ts[a:b],
                                  self.cut[a:b])
        if dv._batch is not None:
            dv._batch(batch)
            return
        datagram = dv.sink.datagram
        for ctx, payload in batch:
            datagram(ctx, payload)

    def _kept(self, a: int, b: int, withheld: list[bool]) -> DatagramBatch:
        """The datagrams of ``[a, b)`` that their slots' skip rules let through, and counts of the others."""
        slots, fids, dirs = self.dv.slots, self.fids, self.dirs
        keep = [i for i in range(a, b) if not withheld[i]]
        counts: dict[tuple[int, int], int] = {}
        for i in range(a, b):
            if withheld[i]:
                key = (fids[i], dirs[i])
                counts[key] = counts.get(key, 0) + 1
        offs, lens, ts, cut = self.offs, self.lens, self.ts, self.cut
        return DatagramBatch(self.buf, [slots[fids[i]] for i in keep], [dirs[i] for i in keep],
                             [offs[i] for i in keep], [lens[i] for i in keep], [ts[i] for i in keep],
                             [cut[i] for i in keep], [(slots[f], d, n) for (f, d), n in counts.items()])

    def _frame(self, k: int) -> None:
        dv = self.dv
        dv.stats.frames += 1
        off, n = self.offs[k], self.lens[k]
        ctx = dv.slots[self.fids[k]].context(self.dirs[k], self.ts[k], self.cut[k])
        dv.sink.frame(ctx, (self.ftype[k] & 0xFFFF).to_bytes(2, "big") + bytes(self.buf[off : off + n]))


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
    start, length = poff[at_first[order]].tolist(), plen[at_first[order]].tolist()
    ruled: list[int] = []  # positions (in ``keys``) of directions with a rule, and the rule
    rules: list[tuple[int, int]] = []
    for j, k, at, n in zip(order.tolist(), keys[order].tolist(), start, length, strict=True):
        slot = slots[k >> 1]
        d = k & 1
        if not slot.asked & (1 << d):
            slot.asked |= 1 << d
            prepare(slot, d, bytes(buf[at : at + n]))
        skips = slot.skips
        if skips is not None:
            rule = skips[d]
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

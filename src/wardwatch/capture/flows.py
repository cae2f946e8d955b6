"""The flow table: bidirectional flows, counters, timeouts and the per-direction payload budget.

Fed batch by batch (:meth:`FlowTable.feed`), so a file reader and a live capture share it. Per batch,
all per-packet work is vectorized: the canonical bidirectional key is hashed, packets are grouped by a
stable sort, flows are split where an idle gap exceeds the timeout or a new SYN follows a FIN/RST
(port reuse), and counters are added with ``bincount``. Where the C extension is built, a compiled pass
(:mod:`.flowpath`) does the same per-packet work in capture order with identical results; this numpy
code stays the reference. Only packets that carry payload inside their direction's budget reach
Python, which reassembles TCP (:mod:`.reassembly`) and calls the
:class:`~wardwatch.capture.sink.PayloadSink`.

Originator: the sender of the first packet seen, except that a first packet which is a SYN+ACK makes
its receiver the originator (the SYN sender, RFC 9293 §3.5).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import KIND_FRAGMENT, KIND_IP, KIND_L2, KIND_NONIP, REASONS, PacketBatch
from wardwatch.capture.delivery import Delivery
from wardwatch.capture.flowpath import Accounted, new_index
from wardwatch.capture.flowstate import FlowColumns
from wardwatch.capture.gctune import paused_gc
from wardwatch.capture.sink import PayloadSink
from wardwatch.domain.flow import PROTO_L2, PROTO_TCP, PROTO_UDP, FlowRecord

I64 = npt.NDArray[np.int64]
_SEQ_MASK = 0xFFFFFFFF
_K = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: npt.NDArray[np.uint64], v: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = (h ^ v) * _K
    return h ^ (h >> np.uint64(29))


def _excl_segment_cumsum(values: I64, starts: I64, seg: I64) -> I64:
    """Exclusive running sum of ``values`` restarted at each segment start (segments contiguous)."""
    cs = np.cumsum(values)
    excl = cs - values
    out: I64 = excl - excl[starts][seg]
    return out


#: UDP ports of address assignment (DHCP 67/68, DHCPv6 546/547): exempt from the datagram budget.
_ASSIGNMENT_PORTS = np.array([67, 68, 546, 547], dtype=np.int64)


class FlowTable:
    """Bidirectional flow table with bounded state; see the module docstring."""

    def __init__(
        self, sink: PayloadSink, *, sensor: str = "local", config: CaptureConfig | None = None,
        stats: CaptureStats | None = None,
    ) -> None:
        self.sink = sink
        self.sensor = sensor
        self.cfg = config or CaptureConfig()
        self.stats = stats or CaptureStats()
        self.fc = FlowColumns()
        self.index = new_index()
        self.delivery = Delivery(sink, self.fc, sensor=sensor, config=self.cfg, stats=self.stats)
        self.namer = self.delivery.namer
        self.now = 0.0
        self._seed = np.uint64(0)

    # -- public API ---------------------------------------------------------------------------------
    def feed(self, pb: PacketBatch, buf: Any) -> list[FlowRecord]:
        """Account a decoded batch whose payload bytes live in ``buf``; returns flows that ended."""
        with paused_gc():
            return self._account(pb, buf)

    def flush(self) -> list[FlowRecord]:
        """End every flow (end of capture): deliver pending streams, return all remaining records."""
        with paused_gc():
            ids = np.flatnonzero(self.fc.active[: self.fc.n])
            return self._finish(ids)

    # -- batch work ---------------------------------------------------------------------------------
    def _account(self, pb: PacketBatch, buf: Any) -> list[FlowRecord]:
        st = self.stats
        st.packets += len(pb)
        st.bytes += int(pb.wirelen.sum())
        st.fragments += int(np.count_nonzero(pb.kind == KIND_FRAGMENT))
        st.non_ip += int(np.count_nonzero((pb.kind == KIND_NONIP) | (pb.kind == KIND_L2)))
        reasons = np.bincount(pb.reason, minlength=len(REASONS))
        for code in np.flatnonzero(reasons[1:]) + 1:
            st.count(REASONS[code], int(reasons[code]))
        st.unsupported_link_types += int(reasons[1])
        st.undecoded_packets += int(reasons[1:].sum())
        sel = np.flatnonzero((pb.kind == KIND_IP) | (pb.kind == KIND_L2))
        closed: list[FlowRecord] = []
        if sel.shape[0]:
            self.now = max(self.now, float(pb.ts[sel].max()))
            acc = self.index.account(pb, self.fc, self.cfg, int(self._seed))
            closed = self._feed(pb, sel, buf) if acc is None else self._accounted(pb, buf, acc)
        closed += self._sweep()
        return closed

    def _feed(self, pb: PacketBatch, sel: I64, buf: Any) -> list[FlowRecord]:
        cfg, fc = self.cfg, self.fc
        l2 = pb.kind[sel] == KIND_L2
        sh, slo, dh, dlo = pb.src_hi[sel], pb.src_lo[sel], pb.dst_hi[sel], pb.dst_lo[sel]
        sp, dp = pb.sport[sel], pb.dport[sel]
        proto = np.where(l2, PROTO_L2, pb.proto[sel])
        vlan = pb.vlan[sel]
        smac = pb.smac[sel]
        # L2 flows are keyed by the source MAC and the ethertype: a = (0, mac, ethertype), b = 0.
        sh = np.where(l2, np.uint64(0), sh)
        slo = np.where(l2, smac.astype(np.uint64), slo)
        sp = np.where(l2, dp, sp)
        zero = np.uint64(0)
        dh, dlo, dp = np.where(l2, zero, dh), np.where(l2, zero, dlo), np.where(l2, 0, dp)
        is_a = l2 | (sh < dh) | ((sh == dh) & ((slo < dlo) | ((slo == dlo) & (sp <= dp))))
        a_hi, a_lo, a_p = np.where(is_a, sh, dh), np.where(is_a, slo, dlo), np.where(is_a, sp, dp)
        b_hi, b_lo, b_p = np.where(is_a, dh, sh), np.where(is_a, dlo, slo), np.where(is_a, dp, sp)
        misc = (a_p.astype(np.uint64) << np.uint64(32)) | (b_p.astype(np.uint64) << np.uint64(16))
        misc |= (proto.astype(np.uint64) << np.uint64(8)) ^ ((vlan + 1).astype(np.uint64) << np.uint64(48))
        for _attempt in range(4):
            h = _mix(np.full(sel.shape[0], self._seed, dtype=np.uint64), a_hi)
            for v in (a_lo, b_hi, b_lo, misc):
                h = _mix(h, v)
            order = np.argsort(h, kind="stable")
            hs = h[order]
            gstart = np.ones(hs.shape[0], dtype=bool)
            gstart[1:] = hs[1:] != hs[:-1]
            gfirst = np.flatnonzero(gstart)
            gidx = np.cumsum(gstart) - 1
            rep = order[gfirst][gidx]  # the group's first packet, for each sorted packet
            same = (a_hi[order] == a_hi[rep]) & (a_lo[order] == a_lo[rep]) & (b_hi[order] == b_hi[rep])
            same &= (b_lo[order] == b_lo[rep]) & (misc[order] == misc[rep])
            if same.all():
                break
            self._seed = np.uint64(int(self._seed) + 0x5BD1E995)  # a 64-bit collision: rehash
        # Sorted views of everything the batch needs.
        src = sel[order]
        ts = pb.ts[src]
        is_a_s = is_a[order]
        proto_s = proto[order]
        flags = pb.flags[src]
        tcp = proto_s == PROTO_TCP
        syn = tcp & ((flags & 0x12) == 0x02)
        finr = tcp & ((flags & 0x05) != 0)
        known = self.index.lookup(hs[gfirst])
        exist = known >= 0
        if exist.any():  # verify the stored key (guards against a cross-batch hash collision)
            kk = np.flatnonzero(exist)
            fid, first = known[kk], order[gfirst[kk]]
            okk = (fc.a_hi[fid] == a_hi[first]) & (fc.a_lo[fid] == a_lo[first])
            okk &= (fc.b_hi[fid] == b_hi[first]) & (fc.b_lo[fid] == b_lo[first])
            okk &= (fc.a_port[fid] == a_p[first]) & (fc.b_port[fid] == b_p[first])
            okk &= (fc.proto[fid] == proto[first]) & (fc.vlan[fid] == vlan[first])
            exist[kk[~okk]] = False
            known[kk[~okk]] = -1
        kfid = np.maximum(known, 0)
        # Flow boundaries: idle gap longer than the timeout; a SYN after a FIN/RST (port reuse).
        udp_t = np.where(proto_s == PROTO_UDP, cfg.udp_timeout, cfg.other_timeout)
        tmo = np.where(tcp, cfg.tcp_timeout, udp_t)
        prev = np.empty_like(ts)
        prev[1:] = ts[:-1]
        prev[gfirst] = np.where(exist, fc.last[kfid], ts[gfirst])
        split = (ts - prev) > tmo
        base_fin = np.where(exist, fc.since_syn[kfid], 0)
        cf = _excl_segment_cumsum(finr.astype(np.int64), gfirst, gidx) + base_fin[gidx]
        sidx = np.flatnonzero(syn)
        if sidx.shape[0]:
            prev_cf = np.zeros(sidx.shape[0], dtype=np.int64)
            same_g = np.zeros(sidx.shape[0], dtype=bool)
            same_g[1:] = gidx[sidx[1:]] == gidx[sidx[:-1]]
            prev_cf[1:] = np.where(same_g[1:], cf[sidx[:-1]], 0)
            split[sidx] |= cf[sidx] > prev_cf
        split[gfirst] &= exist
        sstart = gstart | split
        sfirst = np.flatnonzero(sstart)
        seg = np.cumsum(sstart) - 1
        nseg = sfirst.shape[0]
        sg = gidx[sfirst]
        cont = gstart[sfirst] & exist[sg] & ~split[sfirst]
        seg_fid = np.where(cont, kfid[sg], -1)
        superseded = list(kfid[np.flatnonzero(exist & split[gfirst])].tolist())
        new = np.flatnonzero(~cont)
        if new.shape[0]:
            seg_fid[new] = self._create(new, sfirst, order, locals_=(
                a_hi, a_lo, b_hi, b_lo, a_p, b_p, proto, vlan, is_a, l2, pb, src, flags, ts))
            fc.hash[seg_fid[new]] = hs[sfirst[new]]
        last_seg = np.ones(nseg, dtype=bool)
        last_seg[:-1] = sg[1:] != sg[:-1]
        superseded += seg_fid[~last_seg].tolist()
        self.index.assign(hs[sfirst[last_seg]], seg_fid[last_seg])
        fid = seg_fid[seg]
        d = (is_a_s != fc.orig_a[fid]).astype(np.int64)
        # Counters.
        loc = seg * 2 + d
        fc.pk[seg_fid] += np.bincount(loc, minlength=2 * nseg).reshape(nseg, 2)
        fc.by[seg_fid] += np.bincount(loc, weights=pb.wirelen[src], minlength=2 * nseg).astype(
            np.int64).reshape(nseg, 2)
        fc.last[seg_fid] = np.maximum(fc.last[seg_fid], np.maximum.reduceat(ts, sfirst))
        fin_a = np.logical_or.reduceat(tcp & ((flags & 1) != 0) & is_a_s, sfirst)
        fin_b = np.logical_or.reduceat(tcp & ((flags & 1) != 0) & ~is_a_s, sfirst)
        fc.fin_a[seg_fid] |= fin_a
        fc.fin_b[seg_fid] |= fin_b
        fc.rst[seg_fid] |= np.logical_or.reduceat(tcp & ((flags & 4) != 0), sfirst)
        nfin = np.add.reduceat(finr.astype(np.int64), sfirst)
        lastsyn = np.maximum.reduceat(np.where(syn, np.arange(syn.shape[0]), -1), sfirst)
        cf_end = np.add.reduceat(finr.astype(np.int64), sfirst) + cf[sfirst]
        after = cf_end - cf[np.maximum(lastsyn, 0)]
        fc.since_syn[seg_fid] = np.where(lastsyn >= 0, after, np.where(cont, fc.since_syn[seg_fid], 0) + nfin)
        interest, rel = self._interest(pb, src, seg, sfirst, fid, d, tcp, proto_s, flags)
        self._note_answers(pb, src, fid, d)
        self.delivery.deliver(pb, buf, src, fid, d, interest, rel, ts)
        return self._close(seg_fid, np.asarray(superseded, dtype=np.int64))

    def _accounted(self, pb: PacketBatch, buf: Any, acc: Accounted) -> list[FlowRecord]:
        """Deliver and close after the compiled pass (which already updated the columns and the index)."""
        self.stats.flows += acc.created
        self._note_answers(pb, acc.src, acc.fid, acc.d)
        self.delivery.deliver(pb, buf, acc.src, acc.fid, acc.d, acc.interest, acc.rel, pb.ts)
        return self._close(acc.segments, acc.superseded)

    def _note_answers(self, pb: PacketBatch, src: I64, fid: I64, d: I64) -> None:
        """Mark flows whose responder sent a packet other than a TCP reset (both paths share this step).

        A closed TCP port answers a SYN with RST and nothing else (RFC 9293 §3.10.7.1); such a flow's record
        says ``refused``, and its responder is not taken to offer a service on that port.
        """
        reset = (pb.proto[src] == PROTO_TCP) & (pb.kind[src] != KIND_L2) & ((pb.flags[src] & 0x04) != 0)
        answers = fid[(d == 1) & ~reset]
        if answers.shape[0]:
            self.fc.answered[answers] = True

    def _close(self, seg_fid: I64, superseded: I64) -> list[FlowRecord]:
        """Emit the streams of the batch's flows that FINs from both sides or a RST ended (in segment
        order), then finish the superseded flows."""
        fc = self.fc
        touched = seg_fid[~fc.done[seg_fid]]
        ended = touched[fc.rst[touched] | (fc.fin_a[touched] & fc.fin_b[touched])]
        for f in ended.tolist():
            self.delivery.emit(f)
        return self._finish(superseded)

    def _create(self, new: I64, sfirst: I64, order: I64, locals_: tuple[Any, ...]) -> I64:
        (a_hi, a_lo, b_hi, b_lo, a_p, b_p, proto, vlan, is_a, l2, pb, src, flags, ts) = locals_
        fc = self.fc
        ids = fc.allocate(new.shape[0])
        p = order[sfirst[new]]  # first packet (unsorted index into the selection)
        s = src[sfirst[new]]  # same packet, index into the batch
        for name, val in (("a_hi", a_hi), ("a_lo", a_lo), ("b_hi", b_hi), ("b_lo", b_lo),
                          ("a_port", a_p), ("b_port", b_p), ("proto", proto), ("vlan", vlan),
                          ("l2", l2)):
            fc.col[name][ids] = val[p]
        synack = (proto[p] == PROTO_TCP) & ((flags[sfirst[new]] & 0x12) == 0x12)
        fc.orig_a[ids] = is_a[p] != synack
        fc.mac_a[ids] = np.where(is_a[p], pb.smac[s], pb.dmac[s])
        fc.mac_b[ids] = np.where(is_a[p], pb.dmac[s], pb.smac[s])
        fc.first[ids] = ts[sfirst[new]]
        fc.last[ids] = ts[sfirst[new]]
        fc.active[ids] = True
        self.stats.flows += int(new.shape[0])
        return ids

    def _interest(
        self, pb: PacketBatch, src: I64, seg: I64, sfirst: I64, fid: I64, d: I64, tcp: Any, proto_s: I64,
        flags: I64,
    ) -> tuple[Any, I64]:
        """Mask of (sorted) packets whose payload lies within their direction's budget."""
        fc, cfg = self.fc, self.cfg
        plen = pb.plen[src]
        has = (plen > 0) & ~fc.done[fid]
        seq = pb.seq[src]
        interest = np.zeros(src.shape[0], dtype=bool)
        rel = np.zeros(src.shape[0], dtype=np.int64)
        # TCP: offset from the direction's initial sequence number (ISN+1 after a SYN).
        if tcp.any():
            for dd in (0, 1):
                m = (tcp & (d == dd)).astype(np.int64)
                first = (m == 1) & (_excl_segment_cumsum(m, sfirst, seg) == 0)
                setb = first & ~fc.base_ok[fid, dd]
                f = fid[setb]
                fc.base[f, dd] = (seq[setb] + ((flags[setb] & 0x02) != 0)) & _SEQ_MASK
                fc.base_ok[f, dd] = True
            rel = (seq - fc.base[fid, d]) & _SEQ_MASK
            interest |= tcp & has & ~fc.full[fid, d] & (rel < cfg.tcp_budget)
        # UDP datagrams and L2 frames: running bytes and count per direction against the budget.
        for kind, budget, most in ((PROTO_UDP, cfg.udp_budget, cfg.udp_max_datagrams),
                                   (PROTO_L2, cfg.frame_budget, cfg.frame_max)):
            km = proto_s == kind
            if not km.any():
                continue
            for dd in (0, 1):
                m = km & (d == dd)
                mb = np.where(m, plen, 0)
                before_b = _excl_segment_cumsum(mb, sfirst, seg) + fc.ubytes[fid, dd]
                before_n = _excl_segment_cumsum(m.astype(np.int64), sfirst, seg) + fc.ucnt[fid, dd]
                within = (before_b < budget) & (before_n < most)
                if kind == PROTO_UDP:
                    # Address assignment is shared by every client of a segment (0.0.0.0:68 → 255.255.255.255:67
                    # is one flow): DHCP and DHCPv6 datagrams are never cut by the budget (RFC 2131, RFC 8415).
                    ports = np.minimum(pb.sport[src], pb.dport[src])
                    within |= np.isin(ports, _ASSIGNMENT_PORTS)
                interest |= m & has & within
                segs = np.flatnonzero(np.add.reduceat(m.astype(np.int64), sfirst))
                if segs.shape[0]:
                    f = fid[sfirst[segs]]
                    fc.ubytes[f, dd] += np.add.reduceat(mb, sfirst)[segs]
                    fc.ucnt[f, dd] += np.add.reduceat(m.astype(np.int64), sfirst)[segs]
        return interest, rel

    def _finish(self, ids: I64) -> list[FlowRecord]:
        """End flows: emit pending streams, build records, free their slots."""
        fc = self.fc
        ids = ids[fc.active[ids]]
        if ids.shape[0] == 0:
            return []
        ids = np.unique(ids)
        pending = ids[~fc.done[ids] & (fc.proto[ids] == PROTO_TCP) & ~fc.l2[ids]]
        for f in pending.tolist():
            self.delivery.emit(f)
        slots = self.delivery.slots
        out = self.namer.records(fc, ids, self.sensor, {f: slots[f].ends for f in ids.tolist() if f in slots})
        fc.active[ids] = False
        fc.done[ids] = True
        self.index.discard(fc.hash[ids], ids)
        self.delivery.forget(ids.tolist())
        return out

    def _sweep(self) -> list[FlowRecord]:
        """Evict idle flows (and ended TCP flows after a short linger); keep at most ``max_flows``."""
        fc, cfg = self.fc, self.cfg
        n = fc.n
        act = fc.active[:n]
        proto, last = fc.proto[:n], fc.last[:n]
        tmo = np.where(proto == PROTO_TCP, cfg.tcp_timeout, np.where(proto == PROTO_UDP, cfg.udp_timeout,
                                                                    cfg.other_timeout))
        ended = fc.rst[:n] | (fc.fin_a[:n] & fc.fin_b[:n])
        tmo = np.where(ended, np.minimum(tmo, cfg.closed_timeout), tmo)
        idle = act & (last < self.now - tmo)
        out = self._finish(np.flatnonzero(idle))
        live = np.flatnonzero(fc.active[:n])
        if live.shape[0] > cfg.max_flows:
            over = live.shape[0] - cfg.max_flows
            oldest = live[np.argpartition(fc.last[live], over - 1)[:over]]
            out += self._finish(oldest)
        if fc.n > 4096 and np.count_nonzero(fc.active[: fc.n]) < fc.n // 2:
            self._compact()
        return out

    def _compact(self) -> None:
        old = self.fc.compact()
        self.index.remap(old)
        self.delivery.remap({int(o): i for i, o in enumerate(old.tolist())})

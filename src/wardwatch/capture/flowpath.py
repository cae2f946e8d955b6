"""The flow index (flow-key hash → flow id) and the compiled per-packet accounting that comes with it.

``wardwatch.capture._flowkernel`` (C, built at install time where a compiler is available) accounts a
whole batch in one pass in capture order: flow lookup, splits, new flows, counters, FIN/RST, payload
budgets. The numpy code of :class:`~wardwatch.capture.flows.FlowTable` (``_feed``) is the readable
reference with identical results; tests run both over the same captures. Which one runs is chosen by
:func:`wardwatch.native.extension`: the C pass when the extension is built, unless
``WARDWATCH_PURE_PYTHON_KERNELS`` is set.

Both indexes are keyed by the 64-bit hash alone, like a dict, and verified against the flow's stored key
by their users, so a hash collision has the same consequence on both paths.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from wardwatch.capture.config import CaptureConfig
from wardwatch.capture.decode import PacketBatch
from wardwatch.capture.flowstate import FlowColumns
from wardwatch.capture.kernels import as_i64
from wardwatch.native import extension

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


#: The compiled module, or None: flow tables created while it is None run the numpy reference.
KERNEL: ModuleType | None = extension("wardwatch.capture._flowkernel")


@dataclass
class Accounted:
    """What the compiled pass hands back for delivery and closing (arrays over the whole batch)."""

    src: I64  #: packet positions (the identity: outputs are in capture order)
    fid: I64  #: flow id per packet (-1: not accounted)
    d: I64  #: direction per packet (0: from the originator)
    interest: npt.NDArray[np.bool_]  #: payload within its direction's budget
    rel: I64  #: TCP offset from the direction's initial sequence number
    segments: I64  #: flow ids touched, in the reference's order (by key hash, then time)
    superseded: I64  #: flows a later flow of the same key replaced in this batch
    created: int  #: new flows


class FlowIndex(Protocol):
    """Flow-key hash → flow id, kept across batches."""

    def __len__(self) -> int: ...

    def lookup(self, hashes: U64) -> I64:
        """The flow id of each hash, -1 where none."""
        ...

    def assign(self, hashes: U64, fids: I64) -> None:
        """Point each hash at its flow (in order, like ``dict.update``)."""
        ...

    def discard(self, hashes: U64, fids: I64) -> None:
        """Forget each hash that still points at its flow."""
        ...

    def remap(self, kept: I64) -> None:
        """Follow a compaction of the flow columns: ``kept[new id] = old id``; other flows are dropped."""
        ...

    def account(self, pb: PacketBatch, fc: FlowColumns, cfg: CaptureConfig, seed: int) -> Accounted | None:
        """Account a batch in one pass, or None: the caller runs the reference (always None without C)."""
        ...


class DictIndex:
    """The reference index: a dict."""

    def __init__(self) -> None:
        self.map: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.map)

    def lookup(self, hashes: U64) -> I64:
        """See :class:`FlowIndex`."""
        get = self.map.get
        return np.array([get(k, -1) for k in hashes.tolist()], dtype=np.int64)

    def assign(self, hashes: U64, fids: I64) -> None:
        """See :class:`FlowIndex`."""
        self.map.update(zip(hashes.tolist(), fids.tolist(), strict=True))

    def discard(self, hashes: U64, fids: I64) -> None:
        """See :class:`FlowIndex`."""
        index = self.map
        for h, f in zip(hashes.tolist(), fids.tolist(), strict=True):
            if index.get(h) == f:
                del index[h]

    def remap(self, kept: I64) -> None:
        """See :class:`FlowIndex`."""
        new = {int(o): i for i, o in enumerate(kept.tolist())}
        self.map = {h: new[f] for h, f in self.map.items() if f in new}

    def account(self, pb: PacketBatch, fc: FlowColumns, cfg: CaptureConfig, seed: int) -> Accounted | None:
        """See :class:`FlowIndex`."""
        return None


def _u64(a: Any) -> U64:
    return np.ascontiguousarray(a, dtype=np.uint64)


class CompiledIndex:
    """The C index (open addressing, salted slots) and its one-pass batch accounting."""

    def __init__(self, kernel: ModuleType, salt: int | None = None) -> None:
        """``salt`` picks the slots (tests fix it); by default a secret one, so that crafted traffic cannot
        aim its keys at one probe chain."""
        self.table: Any = kernel.FlowIndex(secrets.randbits(64) if salt is None else salt)

    def __len__(self) -> int:
        return len(self.table)

    def lookup(self, hashes: U64) -> I64:
        """See :class:`FlowIndex`."""
        hashes = _u64(hashes)
        out = np.empty(hashes.shape[0], dtype=np.int64)
        self.table.lookup(hashes, out)
        return out

    def assign(self, hashes: U64, fids: I64) -> None:
        """See :class:`FlowIndex`."""
        self.table.assign(_u64(hashes), as_i64(fids))

    def discard(self, hashes: U64, fids: I64) -> None:
        """See :class:`FlowIndex`."""
        self.table.discard(_u64(hashes), as_i64(fids))

    def remap(self, kept: I64) -> None:
        """See :class:`FlowIndex`."""
        self.table.remap(as_i64(kept))

    def account(self, pb: PacketBatch, fc: FlowColumns, cfg: CaptureConfig, seed: int) -> Accounted | None:
        """See :class:`FlowIndex`."""
        n = len(pb)
        f64, i64 = np.ascontiguousarray, as_i64
        batch = (f64(pb.ts, dtype=np.float64), i64(pb.wirelen), i64(pb.kind), i64(pb.vlan), i64(pb.smac),
                 i64(pb.dmac), _u64(pb.src_hi), _u64(pb.src_lo), _u64(pb.dst_hi), _u64(pb.dst_lo),
                 i64(pb.proto), i64(pb.sport), i64(pb.dport), i64(pb.flags), i64(pb.seq), i64(pb.plen))
        fid, d, rel, seg, sup = (np.empty(n, dtype=np.int64) for _ in range(5))
        interest = np.empty(n, dtype=np.bool_)
        limits = (cfg.tcp_budget, cfg.udp_budget, cfg.udp_max_datagrams, cfg.frame_budget, cfg.frame_max,
                  cfg.tcp_timeout, cfg.udp_timeout, cfg.other_timeout)
        got = self.table.account(batch, fc.col, fc.n, fc.allocate, seed, limits, (fid, d, interest, rel, seg, sup))
        if got is None:  # two keys of the batch share a hash: the reference rehashes
            return None
        nseg, nsup, created = got
        return Accounted(np.arange(n, dtype=np.int64), fid, d, interest, rel, seg[:nseg], sup[:nsup], created)


def new_index() -> FlowIndex:
    """The index of a new flow table: the compiled one when :data:`KERNEL` is set, else the dict."""
    return DictIndex() if KERNEL is None else CompiledIndex(KERNEL)

"""Live capture on an interface (SPAN port, TAP), batch by batch into the same vectorized path as files.

libpcap through pcapy-ng (a maintained binding): ``next_batch`` hands over many packets per call as one
flat buffer plus a table of ``(sec, usec, offset, caplen)``; that table becomes a
:class:`~wardwatch.capture.records.RecordIndex` over the buffer, so :func:`~wardwatch.capture.decode.decode`
and :meth:`FlowTable.feed <wardwatch.capture.flows.FlowTable.feed>` run unchanged: no per-packet Python.

The handle is non-blocking and waited on with ``select`` (with TPACKET_V3 a blocking read may not return
before the first packet arrives), so a stop request is seen within ``poll_interval`` seconds. When the
wire is quiet the flow table's clock is moved to the wall clock and idle flows are swept, so memory stays
bounded by the flow timeouts and ``max_flows`` however long the capture runs.

Drops are never silent: :meth:`LiveCapture.counters` reports libpcap's ``ps_recv``/``ps_drop``/
``ps_ifdrop`` (pcap_stats(3PCAP): on Linux ``ps_recv`` counts the packets the kernel accepted, dropped
ones included) beside the packets actually processed. Several capture processes can share one interface
through a Linux ``PACKET_FANOUT`` group in hash mode: the kernel spreads packets by a symmetric flow hash
(``__skb_get_hash_symmetric``), so both directions of a flow reach the same process.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import decode
from wardwatch.capture.flows import FlowTable
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.linklayer import ETH_IPV4, ETH_IPV6, decode_link
from wardwatch.capture.records import RecordIndex
from wardwatch.capture.sink import PayloadSink
from wardwatch.domain.flow import FlowRecord
from wardwatch.errors import CaptureError

#: Linux PACKET_FANOUT_HASH (linux/if_packet.h).
FANOUT_HASH = 0


@dataclass(frozen=True)
class LiveOptions:
    """How to open the interface."""

    interface: str
    bpf: str = ""
    snaplen: int = 65535
    promisc: bool = True
    #: Kernel ring size in bytes (pcap_set_buffer_size): larger rides out bursts, smaller drops sooner.
    buffer_bytes: int = 32 << 20
    #: libpcap read timeout in milliseconds (how long the kernel holds a partly filled block).
    timeout_ms: int = 100
    #: Most packets taken per read.
    batch_packets: int = 16384
    #: Join this PACKET_FANOUT group (several processes on one interface); None: capture alone.
    fanout_group: int | None = None
    #: Longest wait for packets before the caller gets control back (stop checks, idle sweeps).
    poll_interval: float = 0.2


@dataclass
class LiveCounters:
    """Packets processed by us and the capture's own statistics (pcap_stats)."""

    processed: int = 0
    received: int = 0
    dropped: int = 0
    if_dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        """For batch headers."""
        return {"packets": self.processed, "kernel_received": self.received, "drops": self.dropped,
                "if_drops": self.if_dropped}


class LiveCapture:
    """An open libpcap handle that yields batches of packets as (buffer, RecordIndex)."""

    def __init__(self, options: LiveOptions) -> None:
        self.options = options
        self._handle: Any = None
        self._fd = -1
        self.link = 1
        self.processed = 0

    def open(self) -> LiveCapture:
        """Open, configure and activate the handle; :class:`CaptureError` when that is refused."""
        try:
            import pcapy
        except ImportError as exc:  # pragma: no cover - a hard dependency
            raise CaptureError("live capture needs the pcapy-ng package") from exc
        o = self.options
        try:
            handle = pcapy.create(o.interface)
            handle.set_snaplen(o.snaplen)
            handle.set_promisc(o.promisc)
            handle.set_timeout(o.timeout_ms)
            handle.set_buffer_size(o.buffer_bytes)
            handle.activate()
            if o.bpf:
                handle.setfilter(o.bpf)
            if o.fanout_group is not None:
                handle.set_fanout(o.fanout_group, FANOUT_HASH)
            handle.setnonblock(1)
        except (pcapy.PcapError, pcapy.BPFError, OSError, ValueError) as exc:
            raise CaptureError(f"cannot capture on {o.interface}: {exc}") from exc
        self._handle = handle
        self._fd = handle.getfd()
        self.link = int(handle.datalink())
        return self

    def read(self, wait: float | None = None) -> tuple[bytes, RecordIndex] | None:
        """The packets available now, after waiting up to ``wait`` (default ``poll_interval``); None if none."""
        if self._handle is None:
            raise CaptureError("capture is not open")
        select.select([self._fd], [], [], self.options.poll_interval if wait is None else wait)
        packets, meta = self._handle.next_batch(self.options.batch_packets)
        if not meta:
            return None
        table = np.frombuffer(meta, dtype=np.uint32).reshape(-1, 4).astype(np.int64)
        off, caplen = table[:, 2], table[:, 3]
        ts = table[:, 0].astype(np.float64) + table[:, 1].astype(np.float64) / 1e6
        link = np.full(off.shape[0], self.link, dtype=np.int64)
        rec = RecordIndex(off, caplen, caplen.copy(), ts, link)
        rec.wirelen = _wire_lengths(Gatherer(packets, len(packets)), rec)
        self.processed += len(rec)
        return packets, rec

    def counters(self) -> LiveCounters:
        """Packets processed here and libpcap's cumulative received/dropped/interface-dropped counts."""
        recv = drop = ifdrop = 0
        if self._handle is not None:
            recv, drop, ifdrop = (int(v) for v in self._handle.stats())
        return LiveCounters(self.processed, recv, drop, ifdrop)

    def close(self) -> None:
        """Close the handle (idempotent)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _wire_lengths(g: Gatherer, rec: RecordIndex) -> Any:
    """Wire lengths: next_batch gives only caplen; a packet cut by the snap length gets its IP length.

    IPv4 total length (RFC 791 §3.1) or 40 + IPv6 payload length (RFC 8200 §3), plus the link header.
    """
    li = decode_link(g, rec.off, rec.caplen, rec.link)
    rows = g.rows(li.l3, 6)
    v4 = (rows[:, 2].astype(np.int64) << 8) | rows[:, 3]
    v6 = ((rows[:, 4].astype(np.int64) << 8) | rows[:, 5]) + 40
    ip_len = np.where(li.etype == ETH_IPV4, v4, np.where(li.etype == ETH_IPV6, v6, 0))
    ok = li.supported & (li.l3 + 6 <= rec.off + rec.caplen)
    est = np.where(ok, li.l3 - rec.off + ip_len, 0)
    return np.maximum(rec.caplen, est)


#: Longest a graceful stop waits for packets the kernel received but has not handed over yet (seconds).
FINISH_DEADLINE = 2.0


class LiveEngine:
    """A live capture wired to a flow table: call :meth:`step` until told to stop, then :meth:`finish`."""

    def __init__(self, capture: LiveCapture, sink: PayloadSink, *, sensor: str = "local",
                 config: CaptureConfig | None = None, clock: Callable[[], float] | None = None) -> None:
        import time

        self.capture = capture
        self.stats = CaptureStats()
        self.table = FlowTable(sink, sensor=sensor, config=config, stats=self.stats)
        self._clock = clock or time.time
        self._empty = _empty_batch()

    def step(self) -> list[FlowRecord]:
        """Process what the interface has now; returns the flows that ended (idle ones included)."""
        got = self.capture.read()
        if got is None:
            # Quiet wire: advance the table's clock so idle flows expire (bounded memory).
            self.table.now = max(self.table.now, self._clock())
            return self.table.feed(self._empty[1], self._empty[0])
        buf, rec = got
        return self.table.feed(decode(Gatherer(buf, len(buf)), rec), buf)

    def finish(self, deadline: float = FINISH_DEADLINE) -> list[FlowRecord]:
        """Graceful stop: process what is still in the kernel ring, then end every flow (pending streams go
        to the sink) and return the remaining records.

        The ring hands over a block of packets only when the block is full or its retire timeout passes, so
        an empty read does not prove the ring empty: reading goes on until every packet the kernel counted
        as received is processed or counted dropped, or ``deadline`` seconds have passed.
        """
        import time

        out: list[FlowRecord] = []
        end = time.monotonic() + deadline
        while True:
            got = self.capture.read(wait=0.05)
            if got is not None:
                buf, rec = got
                out += self.table.feed(decode(Gatherer(buf, len(buf)), rec), buf)
                continue
            c = self.capture.counters()
            if c.processed + c.dropped + c.if_dropped >= c.received or time.monotonic() >= end:
                break
        return out + self.table.flush()


def _empty_batch() -> tuple[bytes, Any]:
    empty = np.zeros(0, dtype=np.int64)
    rec = RecordIndex(empty, empty.copy(), empty.copy(), np.zeros(0, dtype=np.float64), empty.copy())
    return b"", decode(Gatherer(b"", 0), rec)

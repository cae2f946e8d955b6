"""The output contract of the capture engine: where payload bytes go.

The integrator wires a :class:`PayloadSink` to the dissector registry. Three callbacks, one per
:class:`~wardwatch.dissect.interface.InputShape`:

* ``datagram``: one UDP payload, in capture order, within the per-direction UDP budget; ``ctx.src_*``
  is the sender of this datagram.
* ``stream``: once per TCP flow, at flow end (FIN from both sides or RST), idle timeout, end of capture,
  or as soon as both directions' budgets are full; ``client``/``server`` are the in-order prefixes of
  each direction (``ctx.src_*`` is the client = originator). Not called for flows without payload.
* ``frame``: a non-IP frame (LLDP, CDP, ARP ...), *from the ethertype on* as ``dissect/interface.py``
  says: the two bytes of the Ethernet type/length field (0x88cc for LLDP; for CDP the IEEE 802.3
  length), then the rest of the frame (LLDP: the TLVs; CDP: the 8-byte LLC/SNAP header
  ``aa aa 03 00 00 0c 20 00``, then the CDP PDU). VLAN tags are removed. ``ctx.dst_port`` is the
  ethertype (0x2000 for CDP).

A sink that also has a ``datagram_batch(batch)`` method (:class:`BatchSink`) receives the UDP datagrams as
:class:`DatagramBatch` columns instead of one ``datagram`` call each: no context object, no payload copy
is made for a datagram the sink does not look at. Each datagram names its flow's :class:`FlowSlot`,
which carries the flow's two contexts and a ``state`` attribute the sink may use to remember per-flow
decisions (the dissector chosen for the flow) until the flow ends. Sink calls stay in capture order
across the three shapes.

A batch sink may also tell the flow table which datagrams of a flow direction it has no use for
(:meth:`FlowSlot.skip_when`: a byte test, such as "the QR bit of a DNS message is set"): such datagrams
are then withheld, vectorially, and only counted in :attr:`DatagramBatch.skipped`. A sink with a
``prepare(slot, direction, first_payload)`` method is shown each new flow direction's first datagram
before the batch is handed over, so that its rule applies from the direction's first datagram on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from wardwatch.capture.compiled import slices
from wardwatch.dissect.interface import FlowContext
from wardwatch.fastobj import build, slot_descriptors

__all__ = [
    "BatchSink",
    "CollectingSink",
    "DatagramBatch",
    "Endpoints",
    "FlowSlot",
    "NullSink",
    "PayloadSink",
    "SkipRule",
    "timed_context",
]


_CONTEXT_FIELDS = ("ts", "sensor", "proto", "src_mac", "dst_mac", "src_ip", "dst_ip", "src_port", "dst_port", "vlan",
                   "truncated")
_DESCRIPTORS = slot_descriptors(FlowContext, _CONTEXT_FIELDS)


def new_context(ts: float, sensor: str, proto: int, src_mac: str | None, dst_mac: str | None,
                src_ip: str | None, dst_ip: str | None, src_port: int, dst_port: int, vlan: int | None,
                truncated: bool = False) -> FlowContext:
    """``FlowContext(...)`` with these fields, filled through its slots (:func:`wardwatch.fastobj.build`).

    FlowContext is a frozen slotted dataclass; its ``__init__`` routes each field through the frozen
    ``__setattr__`` guard, which costs several times as much per datagram.
    """
    if _DESCRIPTORS is None:
        return FlowContext(ts, sensor, proto, src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port, vlan,
                           truncated)
    ctx: FlowContext = build(FlowContext, _DESCRIPTORS, ts, sensor, proto, src_mac, dst_mac, src_ip, dst_ip,
                             src_port, dst_port, vlan, truncated)
    return ctx


def timed_context(base: FlowContext, ts: float, truncated: bool) -> FlowContext:
    """``base`` with another time and truncation flag (equal to ``dataclasses.replace``, without its cost)."""
    return new_context(ts, base.sensor, base.proto, base.src_mac, base.dst_mac, base.src_ip, base.dst_ip,
                       base.src_port, base.dst_port, base.vlan, truncated)


#: ``(offset, mask)``: a datagram whose payload byte at ``offset`` has a bit of ``mask`` set (payloads of
#: ``offset`` bytes or fewer never match). See :meth:`FlowSlot.skip_when`.
SkipRule = tuple[int, int]

#: A flow's endpoints, client (originator) first: (client ip, server ip, client port, server port,
#: client mac, server mac, proto, vlan).
Endpoints = tuple[str | None, str | None, int, int, str | None, str | None, int, int | None]


class FlowSlot:
    """One flow as a sink sees it: a context per direction, and ``state`` for the sink's own use.

    :meth:`base` is the context of one direction (0 = from the originator (client) to the responder,
    1 = the reverse) at the time of the flow's first packet; :meth:`context` the same at a packet's own
    time. The slot lives as long as the flow; ``state`` starts as ``None`` and is dropped with it.
    """

    __slots__ = ("_base0", "_base1", "asked", "ends", "first", "sensor", "skips", "state")

    def __init__(self, ends: Endpoints, first: float, sensor: str) -> None:
        self.ends = ends
        self.first = first
        self.sensor = sensor
        self._base0: FlowContext | None = None
        self._base1: FlowContext | None = None
        self.state: Any = None
        #: Per direction, a :data:`SkipRule` the sink set (``None``: every datagram is handed over).
        self.skips: tuple[SkipRule | None, SkipRule | None] | None = None
        #: Bit ``d`` set once direction ``d`` was shown to the sink's ``prepare`` hook.
        self.asked = 0

    def skip_when(self, direction: int, rule: SkipRule | None) -> None:
        """From now on, withhold this direction's datagrams that match ``rule`` (``None``: none)."""
        skips = self.skips
        if skips is None:
            if rule is None:
                return
            skips = (None, None)
        self.skips = (rule, skips[1]) if direction == 0 else (skips[0], rule)

    def base(self, direction: int) -> FlowContext:
        """The context of one direction at the flow's first time (built once, on first use)."""
        ctx = self._base1 if direction else self._base0
        if ctx is None:
            cip, sip, cport, sport, cmac, smac, proto, vlan = self.ends
            if direction:  # sent by the responder (server)
                cip, sip, cport, sport, cmac, smac = sip, cip, sport, cport, smac, cmac
            ctx = new_context(self.first, self.sensor, proto, cmac, smac, cip, sip, cport, sport, vlan)
            if direction:
                self._base1 = ctx
            else:
                self._base0 = ctx
        return ctx

    def context(self, direction: int, ts: float, truncated: bool = False) -> FlowContext:
        """The context of one packet of this flow: sender side by ``direction`` (0 = originator)."""
        return timed_context(self.base(direction), ts, truncated)


@dataclass(slots=True)
class DatagramBatch:
    """Consecutive UDP datagrams (capture order) as parallel columns; payloads stay in ``buf``.

    Datagram ``i`` is ``buf[offset[i] : offset[i] + length[i]]``, sent at ``ts[i]`` in ``direction[i]``
    (0 = by the flow's originator) of the flow ``flows[i]``; ``truncated[i]`` says the snap length cut it.
    """

    buf: Any
    flows: list[FlowSlot]
    direction: list[int]
    offset: list[int]
    length: list[int]
    ts: list[float]
    truncated: list[bool]
    #: ``(slot, direction, count)``: datagrams of this span withheld by their slot's skip rule.
    skipped: list[tuple[FlowSlot, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.flows)

    def payloads(self) -> list[bytes]:
        """Every datagram's payload as bytes, in order (one compiled call for the batch where built)."""
        return slices(self.buf, self.offset, self.length)

    def __iter__(self) -> Iterator[tuple[FlowContext, bytes]]:
        """Each datagram as (context, payload), the shape of :meth:`PayloadSink.datagram`."""
        buf = self.buf
        for slot, d, off, n, ts, cut in zip(self.flows, self.direction, self.offset, self.length, self.ts,
                                            self.truncated, strict=True):
            yield slot.context(d, ts, cut), bytes(buf[off : off + n])


class PayloadSink(Protocol):
    """Receives the first bytes of each flow direction from the flow table."""

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """One UDP payload (capture order)."""
        ...

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        """Both directions of one TCP flow, reassembled and cut at the budget."""
        ...

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        """One non-IP frame, from the type/length field on."""
        ...


class BatchSink(PayloadSink, Protocol):
    """A sink that takes UDP datagrams a batch at a time (the flow table prefers this when offered)."""

    def datagram_batch(self, batch: DatagramBatch) -> None:
        """Consecutive datagrams, in capture order."""
        ...


class NullSink:
    """Discards everything (flow accounting only)."""

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """Ignore a datagram."""

    def datagram_batch(self, batch: DatagramBatch) -> None:
        """Ignore a batch of datagrams (nothing is copied or built for them)."""

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        """Ignore a stream."""

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        """Ignore a frame."""


@dataclass
class CollectingSink:
    """Keeps every call (tests, small captures)."""

    datagrams: list[tuple[FlowContext, bytes]] = field(default_factory=list)
    streams: list[tuple[FlowContext, bytes, bytes]] = field(default_factory=list)
    frames: list[tuple[FlowContext, bytes]] = field(default_factory=list)

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """Keep a datagram."""
        self.datagrams.append((ctx, payload))

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        """Keep a stream."""
        self.streams.append((ctx, client, server))

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        """Keep a frame."""
        self.frames.append((ctx, frame))

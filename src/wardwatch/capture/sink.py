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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from wardwatch.dissect.interface import FlowContext


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


class NullSink:
    """Discards everything (flow accounting only)."""

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """Ignore a datagram."""

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

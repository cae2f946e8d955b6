"""The dissector interface (ARCHITECTURE.md: ``dissect/``; shaped after pip-audit's ``interface.py``).

A dissector is sans-I/O: it takes bytes of one flow (never a socket or a file) and yields
:class:`~wardwatch.domain.observation.Observation` objects. Three shapes of input exist:

* ``DATAGRAM``: one UDP payload at a time (DHCP, DNS/mDNS, SSDP, SNMP, NTP, NetBIOS-NS, WS-Discovery).
* ``STREAM``: the first bytes of both directions of one TCP connection, reassembled in order and cut at
  the per-direction byte budget (HTTP, TLS, SMB, banners, DICOM, HL7/MLLP, POCT1-A, ASTM).
* ``FRAME``: one link-layer frame of a non-IP ethertype, from the ethertype on (LLDP, CDP).

The registry (``dissect.registry``) offers each flow to the dissectors whose :meth:`Dissector.detect`
accepts its first bytes (content signature first), then to those whose well-known ports match.

Errors: a dissector raises :class:`~wardwatch.errors.ParseError` (or returns nothing) on bytes it cannot
parse; any other exception is a bug, and the hypothesis tests in ``tests/dissect`` look for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from wardwatch.domain.observation import Observation


class InputShape(StrEnum):
    """What a dissector consumes."""

    DATAGRAM = "datagram"
    STREAM = "stream"
    FRAME = "frame"


@dataclass(frozen=True, slots=True)
class FlowContext:
    """Where the bytes came from. For streams, ``src`` is the client (originator), ``dst`` the server.

    For frames, ``src_ip``/``dst_ip`` are ``None`` and ``dst_port`` holds the ethertype.
    ``truncated`` is true when the budget cut the stream (the dissector must not expect a whole message).
    """

    ts: float
    sensor: str
    proto: int
    src_mac: str | None
    dst_mac: str | None
    src_ip: str | None
    dst_ip: str | None
    src_port: int
    dst_port: int
    vlan: int | None = None
    truncated: bool = False

    def observation(
        self,
        kind: str,
        value: str,
        *,
        about_server: bool = False,
        excerpt: str = "",
        confidence: float | None = None,
        ts: float | None = None,
    ) -> Observation:
        """An Observation about the source (client), or about the destination (server) when asked."""
        from wardwatch.domain.observation import MAX_EXCERPT, clip

        if about_server:
            mac, ip, peer = self.dst_mac, self.dst_ip, self.src_ip
        else:
            mac, ip, peer = self.src_mac, self.src_ip, self.dst_ip
        return Observation(
            ts=self.ts if ts is None else ts,
            sensor=self.sensor,
            kind=kind,
            value=clip(value),
            mac=mac,
            ip=ip,
            excerpt=clip(excerpt, MAX_EXCERPT),
            confidence=confidence,
            peer_ip=peer,
        )


@dataclass(frozen=True, slots=True)
class ByteTest:
    """A pre-filter of one shape: nothing to find when the byte at ``offset`` has a bit of ``mask`` set.

    A dissector's ``prefilter`` may return one instead of a function; being data, it can also be
    applied by the capture engine to a whole batch of datagrams at once.
    """

    offset: int
    mask: int

    def __call__(self, data: bytes) -> bool:
        """True when ``data`` is worth dissecting."""
        return len(data) <= self.offset or not data[self.offset] & self.mask


@runtime_checkable
class Dissector(Protocol):
    """What every dissector module exposes as its ``DISSECTOR`` object."""

    #: Short protocol name, also the ``app`` label of flows it recognises (``"dhcp"``, ``"dicom"``).
    name: ClassVar[str]
    #: The input shape it consumes.
    shape: ClassVar[InputShape]
    #: Well-known ports (UDP/TCP) or ethertypes (frames) used when no content signature matched.
    ports: ClassVar[frozenset[int]]

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """True when ``data`` (first bytes of the client direction, or a datagram/frame) is this protocol.

        Must be cheap and must not raise: it runs on every new flow.
        """
        ...

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield Observations. For datagrams and frames ``server`` is ``b""`` and ``client`` the payload.

        Raises :class:`~wardwatch.errors.ParseError` on malformed input; never another exception.
        """
        ...

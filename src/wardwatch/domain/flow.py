"""Flows: aggregated traffic between two endpoints (ARCHITECTURE.md, data model).

Raw packets are not stored; a :class:`FlowRecord` keeps the 5-tuple, the MACs seen on each side,
counters per direction and first/last seen. The *originator* is the side that sent the first packet
seen (for TCP, the SYN sender where the handshake was captured).
"""

from __future__ import annotations

from dataclasses import dataclass

#: IP protocol numbers used across wardwatch (IANA "Assigned Internet Protocol Numbers").
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
#: Pseudo protocol number for non-IP link-layer frames (LLDP, CDP, ARP); ports hold the ethertype.
PROTO_L2 = 0


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """Traffic between an originator and a responder for one transport 5-tuple and time span.

    For non-IP frames (``proto == PROTO_L2``) the IP fields are empty strings and ``dst_port`` holds the
    ethertype (0x88cc LLDP, 0x2000 CDP over SNAP, 0x0806 ARP).
    """

    src_ip: str
    dst_ip: str
    proto: int
    src_port: int
    dst_port: int
    src_mac: str | None
    dst_mac: str | None
    first_seen: float
    last_seen: float
    packets_fwd: int
    packets_rev: int
    bytes_fwd: int
    bytes_rev: int
    vlan: int | None = None
    app: str | None = None
    sensor: str = "local"
    #: TCP only: the responder answered with nothing but resets (RFC 9293 §3.10.7.1: a closed port answers
    #: a SYN with RST): the port was refused, the responder offers no service there.
    refused: bool = False

    @property
    def packets(self) -> int:
        """Packets in both directions."""
        return self.packets_fwd + self.packets_rev

    @property
    def bytes(self) -> int:
        """Bytes (frame lengths on the wire) in both directions."""
        return self.bytes_fwd + self.bytes_rev

"""ARP (RFC 826): the strongest passive evidence that a MAC owns an IPv4 address.

Shape FRAME, ethertype 0x0806. The bytes handed over start at the ethertype (``08 06``) or right after it;
both are accepted. Each request or reply states the sender's hardware and protocol address, so it yields
``arp.ip`` about the sender (mac + ip set together). Gratuitous ARP and probes (sender IP 0.0.0.0) are
handled: a probe claims nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

ETHERTYPE_ARP = 0x0806
#: htype 1 (Ethernet), ptype 0x0800 (IPv4), hlen 6, plen 4, high byte of the operation (RFC 826).
_HEADER = bytes.fromhex("00010800060400")


def _body(data: bytes) -> bytes:
    if data[:2] == b"\x08\x06":
        data = data[2:]
    if len(data) < 28 or data[:7] != _HEADER:
        raise ParseError("not an Ethernet/IPv4 ARP packet")
    return data


class ArpDissector:
    """Sender MAC/IP pairs from ARP requests and replies."""

    name: ClassVar[str] = "arp"
    shape: ClassVar[InputShape] = InputShape.FRAME
    ports: ClassVar[frozenset[int]] = frozenset({ETHERTYPE_ARP})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """ARP by ethertype and fixed header (RFC 826: hardware 1, protocol 0x0800, lengths 6 and 4)."""
        if ctx.dst_port != ETHERTYPE_ARP:
            return False
        try:
            _body(data)
        except ParseError:
            return False
        return True

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """One ``arp.ip`` fact about the sender."""
        body = _body(client)
        op = body[7]
        if op not in (1, 2):
            raise ParseError(f"ARP operation {op} is neither request nor reply")
        sender_mac = ":".join(f"{b:02x}" for b in body[8:14])
        sender_ip = ".".join(str(b) for b in body[14:18])
        if sender_ip == "0.0.0.0":
            return
        yield Observation(ts=ctx.ts, sensor=ctx.sensor, kind="arp.ip", value=sender_ip, mac=sender_mac,
                          ip=sender_ip, excerpt=f"ARP {'request' if op == 1 else 'reply'} from {sender_ip}")


DISSECTOR = ArpDissector()

"""CDP (Cisco Discovery Protocol v1/v2) identity dissector: shape FRAME, SNAP PID 0x2000.

Input: the bytes **after the LLC/SNAP header** (``aa aa 03 00 00 0c 20 00``), i.e. the CDP header
(version, TTL, checksum) first. The capture engine (``capture/sink.py``) hands frames "from the
ethertype on": the 2-byte IEEE 802.3 length, then LLC/SNAP, then CDP; that form is accepted too, as
are the bytes starting at the LLC header or at the SNAP PID (``20 00``). CDP is not an IETF standard;
the layout follows Cisco's "CDP packet format" documentation and Wireshark's ``packet-cdp.c``
(TLV: 2-octet type, 2-octet length that includes the 4-octet TLV header).

Kinds emitted (all about the sender, ``ctx.src_mac``):

* ``cdp.device_id``, ``cdp.port``, ``cdp.platform``, ``cdp.software_version`` (lines joined by spaces)
* ``cdp.address`` (each network address of the Addresses TLV), ``cdp.mgmt_address`` (TLV 0x16)
* ``cdp.capabilities`` (names, comma-joined: ``router,switch,host`` ...)
* ``cdp.native_vlan``, ``cdp.voice_vlan``, ``cdp.vtp_domain``, ``cdp.version`` (protocol version)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.text import Emitter, clean
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

SNAP_PID = 0x2000
LLC_SNAP = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00"

# TLV types (packet-cdp.c).
DEVICE_ID, ADDRESSES, PORT_ID, CAPABILITIES, SOFTWARE, PLATFORM = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
VTP_DOMAIN, NATIVE_VLAN, VOICE_VLAN, MGMT_ADDRESSES = 0x09, 0x0A, 0x0E, 0x16

#: Capability bits → names (packet-cdp.c, "Capabilities").
CAPABILITY_NAMES = (
    "router", "transparent-bridge", "source-route-bridge", "switch", "host", "igmp", "repeater",
    "voip-phone", "remotely-managed", "cvta", "two-port-mac-relay",
)

#: Addresses TLV: IPv6 is announced with an 802.2 protocol id ending in ethertype 0x86dd.
_IPV6_PROTOCOL = b"\xaa\xaa\x03\x00\x00\x00\x86\xdd"
#: The most addresses we read from one TLV (a hostile count must not cost time).
MAX_ADDRESSES = 32


def capability_names(bits: int) -> str:
    """Comma-joined names of the set capability bits."""
    return ",".join(name for i, name in enumerate(CAPABILITY_NAMES) if bits & (1 << i))


def start_offset(data: bytes) -> int | None:
    """Where the CDP header begins (0, 2, 8 or 10), or ``None`` when the bytes are not CDP."""
    if data.startswith(LLC_SNAP):
        return 8
    if data[2:10] == LLC_SNAP:  # 802.3 length field first (capture/sink.py)
        return 10
    if data[:2] == b"\x20\x00" and data[2:3] in (b"\x01", b"\x02"):
        return 2
    if data[:1] in (b"\x01", b"\x02") and len(data) >= 4:
        return 0
    return None


def addresses(value: bytes) -> Iterator[str]:
    """Network addresses of an Addresses / Management Addresses TLV value."""
    if len(value) < 4:
        raise ParseError("CDP addresses TLV shorter than its count")
    count = int.from_bytes(value[:4], "big")
    pos = 4
    for _ in range(min(count, MAX_ADDRESSES)):
        if pos + 2 > len(value):
            raise ParseError("CDP address entry truncated")
        proto_type, proto_len = value[pos], value[pos + 1]
        protocol = value[pos + 2 : pos + 2 + proto_len]
        pos += 2 + proto_len
        if pos + 2 > len(value):
            raise ParseError("CDP address entry truncated")
        addr_len = int.from_bytes(value[pos : pos + 2], "big")
        raw = value[pos + 2 : pos + 2 + addr_len]
        pos += 2 + addr_len
        if len(raw) != addr_len:
            raise ParseError("CDP address overruns its TLV")
        if proto_type == 1 and protocol == b"\xcc" and addr_len == 4:  # NLPID IP
            yield str(ipaddress.IPv4Address(raw))
        elif proto_type == 2 and protocol == _IPV6_PROTOCOL and addr_len == 16:
            yield str(ipaddress.IPv6Address(raw))


class CdpDissector:
    """CDP advertisement → identity Observations about the sending device."""

    name: ClassVar[str] = "cdp"
    shape: ClassVar[InputShape] = InputShape.FRAME
    ports: ClassVar[frozenset[int]] = frozenset({SNAP_PID})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """True for LLC/SNAP-framed CDP, or a CDP header when the context names PID 0x2000."""
        offset = start_offset(data)
        if offset == 0:
            return ctx.dst_port == SNAP_PID
        return offset is not None

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the identity facts of one CDP advertisement; ParseError on malformed TLVs."""
        offset = start_offset(client)
        if offset is None or len(client) < offset + 4:
            raise ParseError("not a CDP header")
        data = client
        out = Emitter(ctx)
        out.emit("cdp.version", str(data[offset]))
        pos = offset + 4  # version(1) ttl(1) checksum(2)
        while pos + 4 <= len(data):
            tlv_type = int.from_bytes(data[pos : pos + 2], "big")
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if tlv_type == 0 and length == 0:  # Ethernet padding after the last TLV
                break
            if length < 4 or pos + length > len(data):
                raise ParseError(f"CDP TLV 0x{tlv_type:04x} has a bad length {length}")
            self._tlv(out, tlv_type, data[pos + 4 : pos + length])
            pos += length
        yield from out

    def _tlv(self, out: Emitter, tlv_type: int, value: bytes) -> None:
        if tlv_type == DEVICE_ID:
            out.emit("cdp.device_id", clean(value))
        elif tlv_type == ADDRESSES:
            for address in addresses(value):
                out.emit("cdp.address", address)
        elif tlv_type == PORT_ID:
            out.emit("cdp.port", clean(value))
        elif tlv_type == CAPABILITIES and len(value) >= 4:
            out.emit("cdp.capabilities", capability_names(int.from_bytes(value[:4], "big")))
        elif tlv_type == SOFTWARE:
            out.emit("cdp.software_version", clean(value))
        elif tlv_type == PLATFORM:
            out.emit("cdp.platform", clean(value))
        elif tlv_type == VTP_DOMAIN:
            out.emit("cdp.vtp_domain", clean(value))
        elif tlv_type == NATIVE_VLAN and len(value) >= 2:
            out.emit("cdp.native_vlan", str(int.from_bytes(value[:2], "big")))
        elif tlv_type == VOICE_VLAN and len(value) >= 3:
            # Appliance VLAN-ID TLV: appliance id (1 octet, 1 = phone), then the VLAN (2 octets).
            out.emit("cdp.voice_vlan", str(int.from_bytes(value[1:3], "big")))
        elif tlv_type == MGMT_ADDRESSES:
            for address in addresses(value):
                out.emit("cdp.mgmt_address", address)


DISSECTOR = CdpDissector()

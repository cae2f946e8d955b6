"""DHCPv6 identity dissector (RFC 8415), client messages only.

About the client (the sender; for a Relay-Forward, the client inside it, named by its DUID's MAC and the
relay's ``peer-address``, RFC 8415 §9.1):

* ``dhcpv6.message_type`` (``solicit``, ``request`` ...), ``dhcpv6.duid`` (option 1, hex),
  ``dhcpv6.mac`` (the link-layer address of a DUID-LLT or DUID-LL with hardware type 1, §11.2/§11.4),
* ``dhcpv6.fqdn`` (option 39, RFC 4704 §4), ``dhcpv6.vendor_class`` (option 16, ``enterprise:data``,
  §21.16), ``dhcpv6.user_class`` (option 15), ``dhcpv6.oro`` (option 6, the requested option codes in
  order, the DHCPv6 fingerprint, §21.7).

Relay nesting is followed at most :data:`MAX_RELAY_DEPTH` levels (§19.1 allows 8 hops).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._wire.dnsmsg import name_text, read_name
from wardwatch.dissect._wire.reader import Reader
from wardwatch.dissect._wire.text import hex_bytes, ipv6_text, mac_text, safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

CLIENT_PORT, SERVER_PORT = 546, 547
MAX_RELAY_DEPTH = 8
CLIENT_MESSAGES = {  # RFC 8415 §7.3
    1: "solicit", 3: "request", 4: "confirm", 5: "renew", 6: "rebind", 8: "release", 9: "decline",
    11: "information-request",
}
RELAY_FORW = 12
OPT_CLIENTID, OPT_ORO, OPT_RELAY_MSG, OPT_USER_CLASS, OPT_VENDOR_CLASS, OPT_FQDN = 1, 6, 9, 15, 16, 39


def options(data: bytes, start: int) -> dict[int, bytes]:
    """Code/length/value options (RFC 8415 §21.1); the first of a repeated code wins."""
    rd = Reader(data, start)
    found: dict[int, bytes] = {}
    while rd.remaining:
        code, length = rd.u16(), rd.u16()
        found.setdefault(code, rd.take(length))
    return found


def duid_mac(duid: bytes) -> str | None:
    """The MAC of a DUID-LLT (type 1) or DUID-LL (type 3) with hardware type 1 (Ethernet)."""
    if len(duid) >= 14 and duid[:4] == b"\x00\x01\x00\x01":
        return mac_text(duid[8:14])
    if len(duid) >= 10 and duid[:4] == b"\x00\x03\x00\x01":
        return mac_text(duid[4:10])
    return None


def _length_prefixed(value: bytes) -> list[bytes]:
    """A list of 2-octet-length-prefixed items (user class data, vendor class data)."""
    rd = Reader(value)
    items: list[bytes] = []
    while rd.remaining:
        items.append(rd.take(rd.u16()))
    return items


class Dhcpv6Dissector:
    """DHCPv6 clients: DUID, MAC from the DUID, FQDN, vendor class and the option request list."""

    name: ClassVar[str] = "dhcpv6"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({CLIENT_PORT, SERVER_PORT})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """To port 547 with a client message type or a Relay-Forward."""
        return ctx.dst_port == SERVER_PORT and bool(data) and (data[0] in CLIENT_MESSAGES or data[0] == RELAY_FORW)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one client message (possibly inside relay messages)."""
        data, peer = client, None
        for _ in range(MAX_RELAY_DEPTH + 1):
            if not data:
                raise ParseError("DHCPv6: empty message")
            if data[0] != RELAY_FORW:
                break
            if len(data) < 34:  # msg-type, hop-count, link-address, peer-address (§9)
                raise ParseError("DHCPv6: relay header truncated")
            peer = ipv6_text(data[18:34])
            relay_msg = options(data, 34).get(OPT_RELAY_MSG)
            if relay_msg is None:
                raise ParseError("DHCPv6: Relay-Forward without a relay message")
            data = relay_msg
        else:
            raise ParseError("DHCPv6: relay nesting too deep")
        if data[0] not in CLIENT_MESSAGES:
            return
        if len(data) < 4:
            raise ParseError("DHCPv6: message shorter than its header")
        opts = options(data, 4)
        facts = [("dhcpv6.message_type", CLIENT_MESSAGES[data[0]])]
        duid = opts.get(OPT_CLIENTID, b"")
        mac = duid_mac(duid)
        if duid:
            facts.append(("dhcpv6.duid", hex_bytes(duid, sep="", limit=130)))
        if mac:
            facts.append(("dhcpv6.mac", mac))
        if opts.get(OPT_FQDN):
            raw = opts[OPT_FQDN][1:]  # flags, then a wire-format (possibly partial) name, RFC 4704 §4.2
            labels, _ = read_name(raw if raw.endswith(b"\0") else raw + b"\0", 0)
            facts.append(("dhcpv6.fqdn", name_text(labels)))
        if len(opts.get(OPT_VENDOR_CLASS, b"")) >= 4:
            vendor = opts[OPT_VENDOR_CLASS]
            data_items = ",".join(safe_text(i) for i in _length_prefixed(vendor[4:]))
            facts.append(("dhcpv6.vendor_class", f"{int.from_bytes(vendor[:4], 'big')}:{data_items}"))
        if OPT_USER_CLASS in opts:
            facts.append(("dhcpv6.user_class", ",".join(safe_text(i) for i in _length_prefixed(opts[15]))))
        if OPT_ORO in opts:
            oro = opts[OPT_ORO]
            facts.append(("dhcpv6.oro", ",".join(str(int.from_bytes(oro[i : i + 2], "big"))
                                                 for i in range(0, len(oro) - 1, 2))))
        for kind, value in facts:
            if not value:
                continue
            if peer is None:
                yield ctx.observation(kind, value, excerpt=f"{kind} {value}")
            else:
                yield Observation(ts=ctx.ts, sensor=ctx.sensor, kind=kind, value=value, mac=mac, ip=peer,
                                  excerpt=f"{kind} {value} (relayed by {ctx.src_ip})", peer_ip=ctx.dst_ip)


DISSECTOR = Dhcpv6Dissector()

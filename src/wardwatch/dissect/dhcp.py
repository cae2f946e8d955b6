"""DHCPv4 identity dissector (RFC 2131, options RFC 2132).

The subject of client facts is the client hardware address ``chaddr`` (RFC 2131 §2), not the layer-2
source, because a relay agent (``giaddr`` set) forwards on the client's behalf. When ``chaddr`` is not
an Ethernet address (``htype``/``hlen`` other than 1/6), the layer-2 source stands in for unrelayed
requests; otherwise the fact is tied to the client's IP (``ciaddr``/``yiaddr``) or dropped.

Observation kinds (about the client unless noted):

* ``dhcp.message_type`` (53, lower-case name such as ``discover``), ``dhcp.hostname`` (12),
  ``dhcp.requested_ip`` (50), ``dhcp.param_list`` (55, decimal codes in request order: ``1,3,6,15``,
  the classic fingerprint), ``dhcp.max_size`` (57), ``dhcp.vendor_class`` (60), ``dhcp.client_id``
  (61, hex), ``dhcp.user_class`` (77, RFC 3004 instances comma-joined), ``dhcp.fqdn`` (81, RFC 4702),
  ``dhcp.vendor_specific`` (43, hex, first 32 octets), ``dhcp.mud_url`` (161, RFC 8520 §10) — all from
  client messages (BOOTREQUEST);
* ``dhcp.assigned_ip`` (``yiaddr`` of a DHCPACK);
* ``dhcp.server`` (server identifier, option 54, of an OFFER/ACK/NAK) and ``dhcp.server_vendor_class``
  (option 60 in such a reply): about the server.

Options are read from the options field and, when option 52 says so, from ``file`` then ``sname``
(RFC 2131 §4.1); an option that appears more than once is concatenated (RFC 3396 §7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from wardwatch.dissect._wire.dnsmsg import name_text, read_name
from wardwatch.dissect._wire.reader import Reader
from wardwatch.dissect._wire.text import hex_bytes, ipv4_text, mac_text, safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import MAX_EXCERPT, Observation, clip
from wardwatch.errors import ParseError

MAGIC_COOKIE = b"\x63\x82\x53\x63"  # RFC 2131 §3
FIXED = 236  # op .. file, RFC 2131 §2 figure 1
BOOTREQUEST, BOOTREPLY = 1, 2
PAD, END, OVERLOAD, MSG_TYPE = 0, 255, 52, 53
MESSAGE_TYPES = {  # RFC 2132 §9.6, RFC 4388 §6.1, RFC 6926 §6.2.1
    1: "discover", 2: "offer", 3: "request", 4: "decline", 5: "ack", 6: "nak", 7: "release",
    8: "inform", 9: "forcerenew", 10: "leasequery", 11: "leaseunassigned", 12: "leaseunknown",
    13: "leaseactive", 14: "bulkleasequery", 15: "leasequerydone", 16: "activeleasequery",
    17: "leasequerystatus", 18: "tls",
}
ZERO_IP = b"\x00\x00\x00\x00"
_Make = Callable[[str, str], "Observation | None"]


def parse_options(area: bytes, into: dict[int, bytearray]) -> None:
    """Read code/length/value options from ``area`` (RFC 2132 §2) into ``into`` (concatenating repeats)."""
    rd = Reader(area)
    while rd.remaining:
        code = rd.u8()
        if code == PAD:
            continue
        if code == END:
            return
        if not rd.remaining:
            raise ParseError(f"DHCP option {code} has no length")
        length = rd.u8()
        into.setdefault(code, bytearray()).extend(rd.take(length))


def read_options(data: bytes) -> dict[int, bytes]:
    """All options of a BOOTP/DHCP message, honouring option overload (RFC 2131 §4.1, RFC 2132 §9.3)."""
    if len(data) < FIXED + 4 or data[FIXED : FIXED + 4] != MAGIC_COOKIE:
        raise ParseError("not DHCP: message too short or magic cookie missing")
    found: dict[int, bytearray] = {}
    parse_options(data[FIXED + 4 :], found)
    overload = bytes(found.pop(OVERLOAD, b""))
    if overload:  # only the options field may overload; the spill-over areas cannot overload again
        if overload[0] & 1:
            parse_options(data[108:236], found)  # 'file'
        if overload[0] & 2:
            parse_options(data[44:108], found)  # 'sname'
        found.pop(OVERLOAD, None)
    return {code: bytes(value) for code, value in found.items()}


def _user_class(value: bytes) -> str:
    """RFC 3004 §4 instances (length-prefixed) comma-joined; many clients send a bare string instead."""
    parts: list[str] = []
    pos = 0
    while pos < len(value):
        length = value[pos]
        if length == 0 or pos + 1 + length > len(value):
            return safe_text(value)
        parts.append(safe_text(value[pos + 1 : pos + 1 + length]))
        pos += 1 + length
    return ",".join(parts)


def _fqdn(value: bytes) -> str:
    """Client FQDN (RFC 4702 §2): flags, two obsolete RCODE octets, then the name (wire form if E set)."""
    if len(value) < 3:
        raise ParseError("DHCP option 81 too short")
    flags, name = value[0], value[3:]
    if flags & 0x04:  # E bit: canonical wire format (RFC 4702 §2.3.1), possibly a partial name
        padded = name if name.endswith(b"\x00") else name + b"\x00"
        labels, _ = read_name(padded, 0)
        return name_text(labels)
    return safe_text(name)


class DhcpDissector:
    """DHCPv4 client identity: hostname, vendor class, parameter list fingerprint, FQDN, MUD URL."""

    name: ClassVar[str] = "dhcp"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({67, 68})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """A BOOTP op code, plausible hlen, and the DHCP magic cookie at offset 236."""
        return (
            len(data) >= FIXED + 4
            and data[0] in (BOOTREQUEST, BOOTREPLY)
            and data[2] <= 16
            and data[FIXED : FIXED + 4] == MAGIC_COOKIE
        )

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one DHCP message."""
        data = client
        options = read_options(data)
        op, htype, hlen = data[0], data[1], data[2]
        giaddr = data[24:28]
        relayed = giaddr != ZERO_IP
        mac: str | None = None
        if htype == 1 and hlen == 6:
            mac = mac_text(data[28:34])
        elif op == BOOTREQUEST and not relayed:
            mac = ctx.src_mac
        msg_type = options.get(MSG_TYPE, b"")
        mtype = msg_type[0] if msg_type else 0
        ciaddr, yiaddr = data[12:16], data[16:20]
        ip = ipv4_text(ciaddr) if ciaddr != ZERO_IP else None
        if op == BOOTREPLY and mtype == 5 and yiaddr != ZERO_IP:
            ip = ipv4_text(yiaddr)

        def about_client(kind: str, value: str) -> Observation | None:
            if (mac is None and ip is None) or not value:
                return None
            return Observation(ts=ctx.ts, sensor=ctx.sensor, kind=kind, value=clip(value), mac=mac, ip=ip,
                               excerpt=clip(f"{kind.split('.', 1)[1]}={value}", MAX_EXCERPT),
                               peer_ip=ctx.dst_ip if op == BOOTREQUEST else ctx.src_ip)

        facts: list[Observation | None] = []
        if op == BOOTREQUEST:
            if mtype:
                facts.append(about_client("dhcp.message_type", MESSAGE_TYPES.get(mtype, str(mtype))))
            facts.extend(self._client_options(options, about_client))
        elif op == BOOTREPLY:
            if mtype == 5 and yiaddr != ZERO_IP:
                facts.append(about_client("dhcp.assigned_ip", ipv4_text(yiaddr)))
            server_id = options.get(54, b"")
            if len(server_id) == 4 and mtype in (2, 5, 6):
                sid = ipv4_text(server_id)
                facts.append(Observation(ts=ctx.ts, sensor=ctx.sensor, kind="dhcp.server", value=sid,
                                         mac=None if relayed else ctx.src_mac, ip=sid,
                                         excerpt=f"server identifier {sid}",
                                         peer_ip=ip))
                if options.get(60):
                    # A server may send option 60 too (RFC 2132 §9.13): it names the server's own kind.
                    vendor = safe_text(options[60])
                    facts.append(Observation(ts=ctx.ts, sensor=ctx.sensor, kind="dhcp.server_vendor_class",
                                             value=clip(vendor), mac=None if relayed else ctx.src_mac, ip=sid,
                                             excerpt=clip(f"server vendor class {vendor}", MAX_EXCERPT), peer_ip=ip))
        yield from (f for f in facts if f is not None)

    @staticmethod
    def _client_options(options: dict[int, bytes], make: _Make) -> Iterator[Observation | None]:
        if 12 in options:
            yield make("dhcp.hostname", safe_text(options[12]))
        if len(options.get(50, b"")) == 4:
            yield make("dhcp.requested_ip", ipv4_text(options[50]))
        if 55 in options:
            yield make("dhcp.param_list", ",".join(str(b) for b in options[55][:255]))
        if len(options.get(57, b"")) == 2:
            yield make("dhcp.max_size", str(int.from_bytes(options[57], "big")))
        if 60 in options:
            yield make("dhcp.vendor_class", safe_text(options[60]))
        if 61 in options:
            yield make("dhcp.client_id", hex_bytes(options[61]))
        if 77 in options:
            yield make("dhcp.user_class", _user_class(options[77]))
        if 81 in options:
            yield make("dhcp.fqdn", _fqdn(options[81]))
        if 43 in options:
            yield make("dhcp.vendor_specific", hex_bytes(options[43], sep="", limit=32))
        if 161 in options:
            yield make("dhcp.mud_url", safe_text(options[161]))


DISSECTOR = DhcpDissector()

"""Which MAC owns which IP: the rule that keeps routed traffic from polluting a router's profile.

A frame from a host behind a router carries the *router's* MAC with the *host's* IP, so "seen in the same
frame" is no proof of ownership. wardwatch binds an IP to a MAC only on one of these kinds of evidence:

1. **Address assignment**: a DHCP fact (RFC 2131: ``chaddr`` with ``ciaddr``/``yiaddr``, relayed or
   not), a DHCPv6 fact, or a fact whose value is the address itself (``dhcp.assigned_ip``, ``arp.*``,
   ``ndp.*``: the ARP sender pair, RFC 826, and IPv6 neighbour discovery, RFC 4861 §4.4).
2. **Link-scoped protocols**: mDNS (RFC 6762 §11: link-local, TTL 255), LLMNR, NetBIOS name service
   broadcasts, SSDP (UPnP DA 2.0 §1.1.2: TTL 2 multicast and its unicast answers), WS-Discovery, LLDP and
   CDP (never forwarded by a bridge, IEEE 802.1AB §7.1). Their frames cannot have crossed a router.
3. **Link-local addresses** (169.254/16, RFC 3927 §7; fe80::/10, RFC 4291 §2.5.6): never routed.
4. **An asset register or a person** (``source`` ``import``/``manual``) stating both.
5. **The flow table** (``net.owned_ip``, from ``pipeline/endpoints.py``): over a whole capture, a MAC that
   sourced exactly one local address, which no other MAC sourced, and that is not a gateway.

Any other fact that names both a MAC and an IP (HTTP, TLS, DICOM ...) is attributed to the IP's owner when
one is known, and otherwise to an IP-keyed device (``ip:<sensor>/<ip>``) that is merged into the MAC's
device as soon as ownership evidence arrives. Ownership is time-aware: a fact at time *t* goes to the
latest owner seen at or before *t* (or the earliest one, if ownership was only seen later).
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Kind prefixes whose (mac, ip) pair proves ownership (rule 1 and 2 above).
OWNERSHIP_PREFIXES: tuple[str, ...] = (
    "dhcp.", "dhcpv6.", "arp.", "ndp.", "mdns.", "llmnr.", "netbios.", "ssdp.", "wsd.", "lldp.", "cdp.",
)
#: Kinds whose *value* is an address owned by the observation's MAC.
ADDRESS_VALUE_KINDS: frozenset[str] = frozenset(
    {"dhcp.assigned_ip", "dhcpv6.assigned_ip", "dhcpv6.ia_addr", "arp.ip", "arp.sender_ip", "ndp.ip",
     "ndp.target", "import.ip", "manual.ip", "net.owned_ip"}
)
#: Observation sources that state ownership by themselves (rule 4).
OWNERSHIP_SOURCES: frozenset[str] = frozenset({"import", "manual"})


def proves_ownership(kind: str, source: str, ip: str) -> bool:
    """True when an observation of ``kind`` naming a MAC and ``ip`` shows that the MAC owns ``ip``."""
    return kind.startswith(OWNERSHIP_PREFIXES) or source in OWNERSHIP_SOURCES or is_link_local(ip)


_LINK_LOCAL_CACHE: dict[str, bool] = {}


def is_link_local(ip: str) -> bool:
    """True for 169.254.0.0/16 and fe80::/10 addresses."""
    hit = _LINK_LOCAL_CACHE.get(ip)
    if hit is None:
        try:
            hit = ipaddress.ip_address(ip).is_link_local
        except ValueError:
            hit = False
        if len(_LINK_LOCAL_CACHE) < 1 << 16:
            _LINK_LOCAL_CACHE[ip] = hit
    return hit


def normalize_ip(text: str) -> str | None:
    """Canonical text of an IPv4/IPv6 address (RFC 5952 for IPv6), or ``None``."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def ip_sort_key(ip: str) -> tuple[int, str]:
    """(version, fixed-width hex) of an address: sorts and range-compares like the number itself."""
    address = ipaddress.ip_address(ip)
    return address.version, address.packed.hex()


@dataclass(slots=True)
class OwnerTimeline:
    """Owners of one (sensor, ip) over time: sorted (ts, device key) events."""

    times: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def add(self, ts: float, key: str) -> None:
        """Record that ``key`` owned the address at ``ts``."""
        at = bisect.bisect_right(self.times, ts)
        self.times.insert(at, ts)
        self.keys.insert(at, key)

    def owner_at(self, ts: float) -> str:
        """The latest owner at or before ``ts``, else the earliest one."""
        at = bisect.bisect_right(self.times, ts)
        return self.keys[at - 1] if at else self.keys[0]

    def latest(self) -> tuple[str, float]:
        """The last owner and when it was seen."""
        return self.keys[-1], self.times[-1]


Spans = dict[tuple[str, str], dict[str, tuple[float, float]]]


def collect_spans(events: Iterable[tuple[str, str, float, str]]) -> Spans:
    """(sensor, ip) → owner key → (first, last) time it was shown to own the address."""
    spans: Spans = {}
    for sensor, ip, ts, key in events:
        per_ip = spans.setdefault((sensor, ip), {})
        span = per_ip.get(key)
        if span is None:
            per_ip[key] = (ts, ts)
        elif ts < span[0] or ts > span[1]:
            per_ip[key] = (min(span[0], ts), max(span[1], ts))
    return spans


def build_timelines(spans: Spans, stored: Mapping[tuple[str, str], tuple[str, float]]
                    ) -> dict[tuple[str, str], OwnerTimeline]:
    """Owner timelines from batch ``spans`` plus the ``stored`` owner (key, last seen) of each address."""
    out: dict[tuple[str, str], OwnerTimeline] = {}
    for pair in spans.keys() | stored.keys():
        timeline = OwnerTimeline()
        for key, (first, last) in spans.get(pair, {}).items():
            timeline.add(first, key)
            if last != first:
                timeline.add(last, key)
        if pair in stored:
            key, ts = stored[pair]
            timeline.add(ts, key)
        out[pair] = timeline
    return out

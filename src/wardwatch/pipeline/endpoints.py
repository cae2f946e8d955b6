"""Facts the flow table itself teaches, and the clean-up of addresses before identity resolution.

Dissectors see payloads; the flow table sees *who talks*. From FlowRecords we derive, per flow and not
per packet:

* ``net.ip``: the MAC that sent a flow owns its source IP (local traffic), unless that MAC is a router;
* ``net.service``: a responder that answered on ``tcp/PORT`` or ``udp/PORT`` offers that service (a TCP
  port answered with nothing but resets was refused: no service, RFC 9293 §3.10.7.1);
* ``net.gateway``: a MAC that sources many IPs is a router or firewall: its IPs are not its own.

Addresses that are not devices (unspecified, broadcast, multicast MACs and IPs) are dropped, and
observations about a router MAC are re-keyed to the IP they talk about, except for kinds that describe
the frame's sender itself (DHCP's chaddr, LLDP, CDP).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache

from wardwatch.domain.flow import PROTO_L2, PROTO_TCP, PROTO_UDP, FlowRecord
from wardwatch.domain.observation import Observation

#: A MAC sourcing more IPs than this across a capture is treated as a gateway (router, firewall, NAT).
GATEWAY_IP_THRESHOLD = 8
#: Observation kinds about the frame's own sender or an explicit hardware address: never re-keyed.
LINK_OWNED_PREFIXES = ("dhcp.", "dhcpv6.", "lldp.", "cdp.", "net.gateway")


@lru_cache(maxsize=65536)
def is_device_ip(ip: str | None) -> bool:
    """True for an address that can belong to one device (not unspecified, broadcast or multicast)."""
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if addr.is_unspecified or addr.is_multicast:
        return False
    return not (addr.version == 4 and str(addr) == "255.255.255.255")


def is_device_mac(mac: str | None) -> bool:
    """True for a unicast MAC (the I/G bit of the first octet clear, IEEE 802 §8.2)."""
    if not mac or len(mac) < 2:
        return False
    try:
        return not (int(mac[:2], 16) & 0x01) and mac != "00:00:00:00:00:00"
    except ValueError:
        return False


def gateway_macs(flows: Iterable[FlowRecord], threshold: int = GATEWAY_IP_THRESHOLD) -> set[str]:
    """MACs that source (or receive for) more distinct IPs than ``threshold``."""
    ips: dict[str, set[str]] = defaultdict(set)
    for flow in flows:
        if flow.proto == PROTO_L2:
            continue
        if flow.src_mac:
            ips[flow.src_mac].add(flow.src_ip)
        if flow.dst_mac and flow.packets_rev:
            ips[flow.dst_mac].add(flow.dst_ip)
    return {mac for mac, seen in ips.items() if len(seen) > threshold}


def flow_observations(flows: Iterable[FlowRecord], gateways: set[str], sensor: str,
                      local_networks: tuple[str, ...] = ()) -> Iterator[Observation]:
    """``net.ip``, ``net.service`` and ``net.gateway`` facts, one per distinct fact (not per flow)."""
    seen: set[tuple[str | None, str | None, str, str]] = set()

    def emit(ts: float, mac: str | None, ip: str | None, kind: str, value: str) -> Iterator[Observation]:
        mac = mac if is_device_mac(mac) and mac not in gateways else None
        ip = ip if is_device_ip(ip) else None
        if mac is None and (ip is None or not is_local_ip(ip, local_networks)):
            return
        key = (mac, ip, kind, value)
        if key in seen:
            return
        seen.add(key)
        yield Observation(ts=ts, sensor=sensor, kind=kind, value=value, mac=mac, ip=ip, source="flow")

    for mac in sorted(gateways):
        yield Observation(ts=0.0, sensor=sensor, kind="net.gateway", value="true", mac=mac, source="flow")
    flows = list(flows)
    yield from mac_observations(flows, gateways, sensor, local_networks)
    for flow in flows:
        if flow.proto == PROTO_L2:
            continue
        yield from emit(flow.first_seen, flow.src_mac, flow.src_ip, "net.ip", flow.src_ip)
        if flow.packets_rev:
            yield from emit(flow.first_seen, flow.dst_mac, flow.dst_ip, "net.ip", flow.dst_ip)
            if flow.proto in (PROTO_TCP, PROTO_UDP) and flow.dst_port and not flow.refused:
                proto = "tcp" if flow.proto == PROTO_TCP else "udp"
                label = f"{proto}/{flow.dst_port}" + (f" {flow.app}" if flow.app else "")
                yield from emit(flow.first_seen, flow.dst_mac, flow.dst_ip, "net.service", label)


@lru_cache(maxsize=65536)
def is_local_ip(ip: str, local_networks: tuple[str, ...] = ()) -> bool:
    """True for an address of the hospital's own networks.

    With ``local_networks`` configured (settings ``identify.local_networks``), exactly those; otherwise
    the private, shared, link-local and unique-local ranges (RFC 1918, RFC 6598, RFC 3927, RFC 4193).
    Hosts elsewhere are peers, not inventory devices, unless a MAC ties them to the local segment.
    """
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if local_networks:
        return any(addr in ipaddress.ip_network(net, strict=False) for net in local_networks)
    return not addr.is_global


def mac_observations(flows: list[FlowRecord], gateways: set[str], sensor: str,
                     local_networks: tuple[str, ...] = ()) -> Iterator[Observation]:
    """Every unicast MAC that sent a frame is a device (``net.mac``), whatever else is known of it; and a
    MAC that, over the whole capture, sourced exactly one local IP which no other MAC sourced owns that
    IP (``net.owned_ip``): on a local segment that is a host, not a router forwarding for others."""
    first: dict[str, float] = {}
    ips_of: dict[str, set[str]] = defaultdict(set)
    macs_of: dict[str, set[str]] = defaultdict(set)
    for flow in flows:
        senders = [(flow.src_mac, flow.src_ip)]
        if flow.packets_rev:  # the responder sent frames too
            senders.append((flow.dst_mac, flow.dst_ip))
        for mac, ip in senders:
            if not mac or not is_device_mac(mac):
                continue
            first[mac] = min(first.get(mac, flow.first_seen), flow.first_seen)
            if flow.proto != PROTO_L2 and ip and mac not in gateways:  # a router's frames prove nothing
                ips_of[mac].add(ip)
                macs_of[ip].add(mac)
    for mac, ts in sorted(first.items()):
        yield Observation(ts=ts, sensor=sensor, kind="net.mac", value=mac, mac=mac, source="flow")
        ips = ips_of.get(mac, set())
        if mac in gateways or len(ips) != 1:
            continue
        (ip,) = ips
        if is_device_ip(ip) and is_local_ip(ip, local_networks) and macs_of[ip] == {mac}:
            yield Observation(ts=ts, sensor=sensor, kind="net.owned_ip", value=ip, mac=mac, ip=ip, source="flow",
                              excerpt="the only address this MAC sent from")


def clean(observations: Iterable[Observation], gateways: set[str], local_networks: tuple[str, ...] = ()
          ) -> Iterator[Observation]:
    """Drop non-device addresses and remote hosts; re-key facts wrongly tied to a router's MAC to their IP."""
    for obs in observations:
        mac = obs.mac if is_device_mac(obs.mac) else None
        ip = obs.ip if is_device_ip(obs.ip) else None
        if mac is not None and mac in gateways and not obs.kind.startswith(LINK_OWNED_PREFIXES):
            mac = None
        if mac is None and (ip is None or not is_local_ip(ip, local_networks)):
            continue
        if mac != obs.mac or ip != obs.ip:
            obs = replace(obs, mac=mac, ip=ip)
        yield obs

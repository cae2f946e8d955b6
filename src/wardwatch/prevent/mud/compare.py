"""Observed traffic against a MUD profile: what the device did that its MUD does not allow.

A flow the device opened is checked against the from-device ACEs (destination, protocol, destination
port, ``direction-initiated`` of RFC 8520 §5.1); a flow opened towards the device against the to-device
ACEs. Names (``ietf-acldns``, RFC 8520 §9) are checked against the names seen for the peer address
(TLS SNI, HTTP Host, DNS answers given by the caller). ``local-networks`` (RFC 8520 §5.5) matches
non-global addresses. Abstractions that need the MUD manager's knowledge (controller, my-controller,
manufacturer, same-manufacturer, model) and names never seen for the address cannot be decided from
traffic alone: such flows are *unverified*, not violations. So is a flow that only its reverse
orientation would allow: a capture that starts mid-connection records the server as originator.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from wardwatch.domain.flow import PROTO_L2, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.prevent.endpoints import is_external
from wardwatch.prevent.mud.profile import Ace, MudProfile


class Verdict(StrEnum):
    """The outcome for one flow."""

    ALLOWED = "allowed"
    VIOLATION = "violation"
    UNVERIFIED = "unverified"


@dataclass
class MudComparison:
    """Per-flow verdicts for one device."""

    url: str
    device_ips: tuple[str, ...]
    allowed: list[FlowRecord] = field(default_factory=list)
    violations: list[FlowRecord] = field(default_factory=list)
    unverified: list[FlowRecord] = field(default_factory=list)


def _name_match(pattern: str, names: set[str]) -> bool:
    pattern = pattern.lower().rstrip(".")
    return any(n.lower().rstrip(".") == pattern for n in names)


def _ace_verdict(ace: Ace, peer_ip: str, proto: int, dst_port: int, src_port: int, outbound: bool,
                 names: Mapping[str, set[str]]) -> Verdict | None:
    """How ``ace`` judges a flow (ports as the opening packet carries them); ``None``: it does not apply."""
    peer = ipaddress.ip_address(peer_ip)
    if ace.version is not None and ace.version != peer.version:
        return None
    if ace.protocol is not None and ace.protocol != proto:
        return None
    # The opening packet: destination-port is the service, source-port the opener's port (RFC 8519 §4.1).
    if ace.dst_port is not None and not ace.dst_port.matches(dst_port):
        return None
    if ace.src_port is not None and not ace.src_port.matches(src_port):
        return None
    wanted = "from-device" if outbound else "to-device"
    if ace.direction_initiated is not None and proto == 6 and ace.direction_initiated != wanted:
        return None
    net = ace.dst_net if outbound else ace.src_net
    dnsname = ace.dst_dnsname if outbound else ace.src_dnsname
    verdict = Verdict.ALLOWED
    if net is not None and peer not in ipaddress.ip_network(net, strict=False):
        return None
    if dnsname is not None:
        seen = names.get(peer_ip, set())
        if seen and not _name_match(dnsname, seen):
            return None
        verdict = Verdict.ALLOWED if seen else Verdict.UNVERIFIED
    if ace.mud:
        if "local-networks" in ace.mud:
            if is_external(peer_ip):
                return None
        else:
            verdict = Verdict.UNVERIFIED
    return verdict if ace.forwarding == "accept" else None


def judge(profile: MudProfile, flow: FlowRecord, device_ips: set[str],
          names: Mapping[str, set[str]]) -> Verdict | None:
    """The verdict for one flow of the device (``None`` when the device is not an end of it)."""
    if flow.proto == PROTO_L2 or not flow.src_ip:
        return None
    if flow.src_ip in device_ips:
        outbound, peer, aces = True, flow.dst_ip, profile.from_device
    elif flow.dst_ip in device_ips:
        outbound, peer, aces = False, flow.src_ip, profile.to_device
    else:
        return None
    verdict = _best(aces, peer, flow.proto, flow.dst_port, flow.src_port, outbound, names)
    if verdict is None:
        reverse = profile.to_device if outbound else profile.from_device
        if _best(reverse, peer, flow.proto, flow.src_port, flow.dst_port, not outbound, names) is not None:
            return Verdict.UNVERIFIED
    return verdict or Verdict.VIOLATION


def _best(aces: Iterable[Ace], peer: str, proto: int, dst_port: int, src_port: int, outbound: bool,
          names: Mapping[str, set[str]]) -> Verdict | None:
    best: Verdict | None = None
    for ace in aces:
        verdict = _ace_verdict(ace, peer, proto, dst_port, src_port, outbound, names)
        if verdict == Verdict.ALLOWED:
            return verdict
        best = best or verdict
    return best


def compare(profile: MudProfile, flows: Iterable[FlowRecord], device_ips: Iterable[str],
            names: Mapping[str, set[str]] | None = None) -> MudComparison:
    """Judge every flow of the device against its MUD profile."""
    ips = set(device_ips)
    result = MudComparison(url=profile.url, device_ips=tuple(sorted(ips)))
    for flow in flows:
        verdict = judge(profile, flow, ips, names or {})
        if verdict == Verdict.ALLOWED:
            result.allowed.append(flow)
        elif verdict == Verdict.VIOLATION:
            result.violations.append(flow)
        elif verdict == Verdict.UNVERIFIED:
            result.unverified.append(flow)
    return result


MUD_URL_KINDS = ("dhcp.mud_url", "lldp.mud_url", "dhcpv6.mud_url")
#: Observation kinds that name the *peer* address (``peer_ip``) of a flow; ``dns.query`` names the
#: resolver's address as peer, so it cannot say which address a name resolved to.
NAME_KINDS = ("tls.sni", "http.host")


def names_from(observations: Iterable[Observation]) -> dict[str, set[str]]:
    """Peer address → names seen for it (TLS SNI, HTTP Host)."""
    out: dict[str, set[str]] = {}
    for obs in observations:
        if obs.kind in NAME_KINDS and obs.peer_ip:
            out.setdefault(obs.peer_ip, set()).add(obs.value.split(":")[0].lower())
    return out

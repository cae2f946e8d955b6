"""Segmentation policy: zones, members and allowed flows (ARCHITECTURE.md, data model; issue 7).

A :class:`Policy` is *default deny*: a flow is allowed only when one :class:`Rule` allows it. Rules are
directional (the originator's side is ``src``); replies of an allowed connection are allowed by the
enforcement point's connection tracking (nftables ``ct state established``, Cisco ``established``).
Rules name zones for people and carry the resolved addresses for machines: an empty ``src``/``dst``
means every address of the zone (its members' IPs and its subnets), otherwise the listed hosts only
(least privilege: the peers the baseline saw, not the whole zone).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RuleOrigin(StrEnum):
    """Why a rule exists."""

    BASELINE = "baseline"  # learned from observed traffic (and not rejected by a person)
    CLINICAL = "clinical"  # a clinical protocol needs it (DICOM modality → PACS, HL7 → engine)
    INFRASTRUCTURE = "infrastructure"  # DNS, NTP, DHCP towards infrastructure servers
    MANUAL = "manual"  # written by a person


class VersionStatus(StrEnum):
    """Lifecycle of a policy version."""

    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True, slots=True)
class Member:
    """A device in a zone, with the addresses that enforcement uses."""

    key: str
    ips: tuple[str, ...] = ()
    mac: str | None = None
    label: str = ""
    model: str = ""
    vendor: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    """A group of devices (and/or subnets) that share one policy role."""

    name: str
    members: tuple[Member, ...] = ()
    subnets: tuple[str, ...] = ()
    basis: str = "manual"  # class, department, subnet, manual, external
    description: str = ""

    def addresses(self) -> tuple[str, ...]:
        """Every address of the zone: member IPs as host prefixes, then its subnets."""
        hosts = [_host_prefix(ip) for m in self.members for ip in m.ips]
        return tuple(dict.fromkeys([*hosts, *self.subnets]))


@dataclass(frozen=True, slots=True)
class Rule:
    """An allowed flow: ``src`` may open ``proto``/``port`` towards ``dst``.

    ``proto`` is an IP protocol number (6 TCP, 17 UDP, 1 ICMP) or ``None`` for any; ``port`` is the
    responder's port or ``None`` for any. ``src``/``dst`` are host addresses or CIDR prefixes; empty
    means the whole zone.
    """

    src_zone: str
    dst_zone: str
    proto: int | None
    port: int | None
    src: tuple[str, ...] = ()
    dst: tuple[str, ...] = ()
    origin: RuleOrigin = RuleOrigin.BASELINE
    reason: str = ""

    def identity(self) -> tuple[object, ...]:
        """What makes two rules the same rule (for diffs)."""
        return (self.src_zone, self.dst_zone, self.proto, self.port, tuple(sorted(self.src)),
                tuple(sorted(self.dst)))


@dataclass(frozen=True, slots=True)
class Policy:
    """Zones and the rules between them; everything else is denied."""

    name: str
    zones: tuple[Zone, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)

    def zone(self, name: str) -> Zone | None:
        """The zone called ``name``."""
        return next((z for z in self.zones if z.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored as a policy version's body)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Rebuild a policy from :meth:`to_dict` output."""
        zones = tuple(
            Zone(name=z["name"], members=tuple(Member(**{**m, "ips": tuple(m.get("ips", ()))})
                                               for m in z.get("members", ())),
                 subnets=tuple(z.get("subnets", ())), basis=z.get("basis", "manual"),
                 description=z.get("description", ""))
            for z in data.get("zones", ()))
        rules = tuple(
            Rule(src_zone=r["src_zone"], dst_zone=r["dst_zone"], proto=r.get("proto"), port=r.get("port"),
                 src=tuple(r.get("src", ())), dst=tuple(r.get("dst", ())), origin=RuleOrigin(r.get("origin",
                 "baseline")), reason=r.get("reason", ""))
            for r in data.get("rules", ()))
        return cls(name=data["name"], zones=zones, rules=rules, description=data.get("description", ""),
                   meta=dict(data.get("meta", {})))


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One stored version of a named policy."""

    policy: Policy
    number: int
    status: VersionStatus
    created_at: float
    author: str = ""
    approved_by: str | None = None
    approved_at: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    """What changed between two versions."""

    added: tuple[Rule, ...]
    removed: tuple[Rule, ...]
    zones_added: tuple[str, ...]
    zones_removed: tuple[str, ...]
    members_moved: tuple[tuple[str, str | None, str | None], ...]  # (device key, old zone, new zone)

    @property
    def empty(self) -> bool:
        """True when the versions enforce the same thing."""
        return not (self.added or self.removed or self.zones_added or self.zones_removed or self.members_moved)


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """Rules and zone membership that differ between ``old`` and ``new``."""
    old_rules = {r.identity(): r for r in old.rules}
    new_rules = {r.identity(): r for r in new.rules}
    old_zone = {m.key: z.name for z in old.zones for m in z.members}
    new_zone = {m.key: z.name for z in new.zones for m in z.members}
    moved = tuple(sorted((k, old_zone.get(k), new_zone.get(k)) for k in set(old_zone) | set(new_zone)
                         if old_zone.get(k) != new_zone.get(k)))
    return PolicyDiff(
        added=tuple(r for k, r in new_rules.items() if k not in old_rules),
        removed=tuple(r for k, r in old_rules.items() if k not in new_rules),
        zones_added=tuple(sorted({z.name for z in new.zones} - {z.name for z in old.zones})),
        zones_removed=tuple(sorted({z.name for z in old.zones} - {z.name for z in new.zones})),
        members_moved=moved,
    )


def _host_prefix(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    return f"{address}/{address.max_prefixlen}"


def as_networks(items: Iterable[str]) -> list[Network]:
    """Parse addresses and prefixes (a bare address is a host prefix)."""
    return [ipaddress.ip_network(item, strict=False) for item in items]

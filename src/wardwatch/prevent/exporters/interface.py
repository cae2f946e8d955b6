"""The exporter contract and the registry that finds exporters through entry points.

An exporter renders a :class:`~wardwatch.domain.policy.Policy` into one or more files (name → text).
Shared helpers split a rule's addresses by IP family, since every target writes IPv4 and IPv6 apart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, runtime_checkable

from wardwatch.domain.policy import Policy, Rule
from wardwatch.errors import WardwatchError

GROUP = "wardwatch.exporters"
PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}


class ExportError(WardwatchError):
    """A policy could not be rendered in the asked format."""


@runtime_checkable
class Exporter(Protocol):
    """Renders a policy into files."""

    name: str

    def render(self, policy: Policy) -> Mapping[str, str]:
        """File name → contents."""
        ...


def exporters() -> dict[str, Exporter]:
    """Every exporter registered in the ``wardwatch.exporters`` entry-point group, by name."""
    found: dict[str, Exporter] = {}
    for ep in entry_points(group=GROUP):
        obj = ep.load()
        found[ep.name] = obj() if isinstance(obj, type) else obj
    return found


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``."""
    found = exporters()
    if name not in found:
        raise ExportError(f"no exporter {name!r} (have: {', '.join(sorted(found)) or 'none'})")
    return found[name]


def write_export(exporter: Exporter, policy: Policy, out_dir: Path) -> list[Path]:
    """Render and write into ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in exporter.render(policy).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class FamilyRule:
    """A rule narrowed to one IP family, with the zone addresses filled in where the rule had none."""

    rule: Rule
    version: int
    src: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    dst: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def by_family(policy: Policy) -> list[FamilyRule]:
    """Each rule once per IP family in which it has both a source and a destination."""
    zones = {z.name: z.addresses() for z in policy.zones}
    out = []
    for rule in policy.rules:
        src = [ipaddress.ip_network(a, strict=False) for a in (rule.src or zones.get(rule.src_zone, ()))]
        dst = [ipaddress.ip_network(a, strict=False) for a in (rule.dst or zones.get(rule.dst_zone, ()))]
        for version in (4, 6):
            s = tuple(sorted({n for n in src if n.version == version}, key=str))
            d = tuple(sorted({n for n in dst if n.version == version}, key=str))
            if s and d:
                out.append(FamilyRule(rule, version, s, d))  # type: ignore[arg-type]
    return out


def host_text(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """``10.0.0.5`` for a host prefix, ``10.0.0.0/24`` otherwise."""
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def comment(rule: Rule, limit: int = 120) -> str:
    """A one-line, quote-free description of a rule."""
    text = f"{rule.origin}: {rule.src_zone}->{rule.dst_zone} {rule.reason}".replace('"', "'")
    return "".join(c if c.isprintable() and c.isascii() else "?" for c in text)[:limit]

"""Zones: devices grouped by class, department or subnet, or placed by hand.

Every device of the directory lands in exactly one zone. A person's placement (``manual``) wins over the
automatic basis. Zone names are lower-case ``[a-z0-9_-]`` (they end up in nftables set names, ACL names
and MUD ACL names).
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from wardwatch.domain.device import Device
from wardwatch.domain.policy import Member, Zone
from wardwatch.prevent.endpoints import UNCLASSIFIED, device_group

BASES = ("class", "department", "subnet")
EXTERNAL = "external"
UNMANAGED = "unmanaged"
_BAD = re.compile(r"[^a-z0-9_-]+")


def zone_name(text: str) -> str:
    """A safe zone name from free text."""
    name = _BAD.sub("_", text.strip().lower()).strip("_")
    return name[:48] or UNCLASSIFIED


def member(device: Device) -> Member:
    """The zone member for ``device``."""
    return Member(key=device.key, ips=tuple(device.ips), mac=device.mac,
                  label=device.value("hostname") or device.value("ae_title") or device.key,
                  model=device.value("model") or "", vendor=device.value("vendor") or "")


def _basis_value(device: Device, basis: str) -> str:
    if basis == "class":
        return device_group(device)
    if basis == "department":
        return device.value("department") or UNCLASSIFIED
    if basis == "subnet":
        for ip in device.ips:
            address = ipaddress.ip_address(ip)
            net = ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False)
            return f"net-{net.network_address}-{net.prefixlen}".replace(":", "-").replace(".", "-")
        return UNCLASSIFIED
    raise ValueError(f"unknown zone basis {basis!r} (use one of {', '.join(BASES)})")


def build_zones(devices: Iterable[Device], *, basis: str = "class",
                manual: Mapping[str, str] | None = None) -> tuple[Zone, ...]:
    """Zones for ``devices`` by ``basis``; ``manual`` maps device keys to zone names chosen by a person."""
    manual = manual or {}
    groups: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for device in devices:
        if device.key in manual:
            groups[(zone_name(manual[device.key]), "manual")].append(member(device))
        else:
            groups[(zone_name(_basis_value(device, basis)), basis)].append(member(device))
    zones: dict[str, Zone] = {}
    for (name, how), members in sorted(groups.items()):
        old = zones.get(name)
        merged = (*old.members, *members) if old else tuple(members)
        zones[name] = Zone(name=name, members=tuple(sorted(merged, key=lambda m: m.key)),
                           basis="manual" if old and old.basis == "manual" else how)
    return tuple(zones.values())


def zone_index(zones: Iterable[Zone]) -> dict[str, str]:
    """Device key → zone name."""
    return {m.key: z.name for z in zones for m in z.members}

"""MUD files announced by devices: the URL from DHCP option 161 (RFC 8520 §10) or the LLDP MUD TLV
(RFC 8520 §11), resolved through a local :class:`~wardwatch.prevent.mud.profile.MudLibrary` (a MUD
manager's cache: wardwatch does not fetch from the Internet on its own), compared with the stored flows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wardwatch.domain.device import Device
from wardwatch.identify.state import Fact
from wardwatch.inventory.repository import Inventory
from wardwatch.prevent.mud.compare import MUD_URL_KINDS, MudComparison, compare
from wardwatch.prevent.mud.profile import MudLibrary


def announced_url(facts: Iterable[Fact]) -> str | None:
    """The most recently announced MUD URL among a device's facts."""
    urls = sorted((f for f in facts if f.kind in MUD_URL_KINDS), key=lambda f: f.last_seen)
    return urls[-1].value if urls else None


@dataclass(frozen=True, slots=True)
class AnnouncedResult:
    """One device's announced MUD and what its traffic did against it."""

    device: Device
    url: str
    comparison: MudComparison | None  # None: the URL is not in the library


def compare_announced(inventory: Inventory, library: MudLibrary,
                      names: dict[str, set[str]] | None = None) -> list[AnnouncedResult]:
    """Every device that announced a MUD URL, with its comparison where the file is known."""
    out = []
    for device in inventory.list_devices():
        if device.id is None:
            continue
        url = announced_url(inventory.facts(device.id))
        if url is None:
            continue
        profile = library.get(url)
        comparison = compare(profile, inventory.flows(device.id), device.ips, names) if profile else None
        out.append(AnnouncedResult(device, url, comparison))
    return out

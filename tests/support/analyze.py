"""Run the whole pipeline in-process (capture → dissect → identify → inventory) for tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from wardwatch.domain.device import Device
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import AnalyzeReport, analyze_captures
from wardwatch.pipeline.wiring import open_inventory

#: Every address counts as the site's own (for public traces captured on the internet).
EVERYWHERE = ("0.0.0.0/0", "::/0")


def analyze_into(url: str, paths: Sequence[Path], *, local_networks: tuple[str, ...] = ()
                 ) -> tuple[Inventory, AnalyzeReport]:
    """Open the inventory at ``url`` and analyze ``paths`` into it (``local_networks`` as in the settings)."""
    from wardwatch.settings import Settings

    settings = Settings.load({"database_url": url, "identify.local_networks": list(local_networks)})
    inventory = open_inventory(url, settings)
    report = analyze_captures(list(paths), inventory, local_networks=local_networks)
    return inventory, report


def facts_of(inventory: Inventory, device: Device) -> dict[str, set[str]]:
    """kind → values of the distinct facts stored for ``device``."""
    out: dict[str, set[str]] = defaultdict(set)
    assert device.id is not None
    for fact in inventory.facts(device.id):
        out[fact.kind].add(fact.value)
    return out

"""Wiring of the prevention steps over the inventory (what the CLI and the web layer call)."""

from __future__ import annotations

from collections.abc import Iterator

from wardwatch.inventory.repository import Inventory
from wardwatch.prevent.baseline import IDENTITY_KINDS, Baseline, BaselineMode, add_identities, learn
from wardwatch.prevent.baseline_store import BaselineStore
from wardwatch.prevent.endpoints import DeviceDirectory


def directory_of(inventory: Inventory) -> DeviceDirectory:
    """Every device of the inventory, indexed by address."""
    return DeviceDirectory(inventory.list_devices())


def _identities(inventory: Inventory, directory: DeviceDirectory) -> Iterator[tuple[str, str, str, float, float]]:
    for device in directory.devices:
        if device.id is None:
            continue
        for fact in inventory.facts(device.id):
            if fact.kind in IDENTITY_KINDS:
                yield device.key, fact.kind, fact.value, fact.first_seen, fact.last_seen


def learn_baseline(inventory: Inventory, *, window_days: float = 14.0, freeze: bool = True,
                   now: float | None = None, save: bool = True) -> Baseline:
    """Learn (or, for a rolling baseline, re-learn) from the stored flows and facts; keeps decisions."""
    store = BaselineStore(inventory.engine)
    previous = store.latest()
    directory = directory_of(inventory)
    mode = BaselineMode.FROZEN if freeze else BaselineMode.ROLLING
    baseline = learn(inventory.flows(), directory, window_days=window_days, mode=mode, now=now, previous=previous)
    add_identities(baseline, _identities(inventory, directory))
    if save:
        store.save(baseline)
    return baseline

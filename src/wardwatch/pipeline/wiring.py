"""Opening the inventory the way the product runs it: with the fingerprint rules and the settings.

Every entry point (CLI, web, sensor server, demo, tests of the whole pipeline) opens the inventory here,
so identity resolution behaves the same whichever door the data came in by.
"""

from __future__ import annotations

from functools import lru_cache

from wardwatch.identify.fingerprint import RuleSet
from wardwatch.inventory.repository import Inventory
from wardwatch.settings import Settings


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The built-in fingerprint rules (``identify/rules/``), loaded and validated once per process."""
    return RuleSet.load_default()


def open_inventory(url: str | None = None, settings: Settings | None = None) -> Inventory:
    """The inventory at ``url`` (default: the settings' database) with rules and identity settings."""
    settings = settings or Settings.load({"database_url": url} if url else None)
    return Inventory.open(
        url or settings.database_url,
        evaluator=default_rules(),
        evidence_cap=settings.identify.evidence_cap,
        local_networks=settings.identify.local_networks,
    )

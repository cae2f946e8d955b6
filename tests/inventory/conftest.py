"""Fixtures of the inventory tests: an open Inventory on each database backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wardwatch.inventory import Inventory


@pytest.fixture
def inventory(database_url: str) -> Iterator[Inventory]:
    """A freshly migrated inventory (SQLite, and PostgreSQL when WARDWATCH_TEST_POSTGRES_URL is set)."""
    inv = Inventory.open(database_url)
    try:
        yield inv
    finally:
        inv.close()

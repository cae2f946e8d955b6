"""Fixtures of the intel tests: parsed ICSMA advisories, a knowledge base per database, devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.domain.advisory import Advisory
from wardwatch.domain.device import Attribute, Device
from wardwatch.intel.csaf import CsafImporter
from wardwatch.intel.interface import Problem
from wardwatch.intel.store import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures"


def make_device(ident: int, vendor: str, model: str, version: str | None = None) -> Device:
    """A device of the inventory with vendor, model and firmware attributes."""
    attrs = {"vendor": Attribute("vendor", vendor, 0.9), "model": Attribute("model", model, 0.9)}
    if version is not None:
        attrs["firmware"] = Attribute("firmware", version, 0.9)
    return Device(
        key=f"ip:local/10.0.{ident // 250}.{ident % 250}",
        mac=None,
        ips=(),
        first_seen=0.0,
        last_seen=0.0,
        attributes=attrs,
        id=ident,
    )


@pytest.fixture(scope="session")
def csaf_schema_dir() -> Path:
    """The OASIS CSAF 2.0 schema folder of ../shared/data (read at run time, never copied)."""
    return require_shared("schemas", "csaf-2.0")


@pytest.fixture(scope="session")
def icsma(csaf_schema_dir: Path) -> tuple[list[Advisory], list[Problem]]:
    """Every ICSMA advisory parsed (schema-validated) once, with the uninterpretable-field report."""
    folder = require_shared("csaf-icsma")
    importer = CsafImporter(csaf_schema_dir)
    advisories: list[Advisory] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("icsma-*.json")):
        batch = importer.parse(path)
        advisories.extend(batch.advisories)
        problems.extend(batch.problems)
    return advisories, problems


@pytest.fixture
def kb(database_url: str) -> Iterator[KnowledgeBase]:
    """An empty knowledge base on SQLite and on PostgreSQL."""
    base = KnowledgeBase(database_url)
    yield base
    base.close()

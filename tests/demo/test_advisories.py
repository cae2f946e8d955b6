"""The built-in demo advisory set: valid CSAF 2.0, in sync with its builder, and in agreement with the
demo catalogue's firmware (the versions the generator marks affected are affected, the others are not)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import require_shared
from wardwatch.demo.advisories import advisory_files
from wardwatch.demo.advisories.build import dump, file_name, render
from wardwatch.demo.advisories.catalogue import ADVISORIES
from wardwatch.demo.catalogue import CATALOGUE
from wardwatch.domain.finding import FindingStatus
from wardwatch.intel.match import Matcher, Triple
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase


def test_committed_files_are_what_the_builder_renders() -> None:
    files = {p.name: p.read_text(encoding="utf-8") for p in advisory_files()}
    assert set(files) == {file_name(a) for a in ADVISORIES}
    for adv in ADVISORIES:
        assert files[file_name(adv)] == dump(render(adv)), f"run python -m wardwatch.demo.advisories.build ({adv.id})"


def test_marked_as_demo_data() -> None:
    for path in advisory_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["document"]["tracking"]["id"].startswith("WW-DEMO-")
        assert any("DEMO DATA" in n["text"] for n in doc["document"]["notes"])
        assert "cve" not in doc["vulnerabilities"][0]  # fictional: never attributed to a real CVE


def test_valid_against_the_csaf_schema() -> None:
    from wardwatch.intel.csaf_schema import _schema_validator

    validate = _schema_validator(str(require_shared("schemas", "csaf-2.0")))
    for path in advisory_files():
        assert validate(json.loads(path.read_text(encoding="utf-8"))) is None, path.name


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = KnowledgeBase("sqlite://")
    report = import_paths(kb, advisory_files())
    assert not report.rejected and len(report.imported) == len(ADVISORIES)
    return Matcher(kb.advisories())


def _statuses(matcher: Matcher, vendor: str, model: str, version: str) -> set[FindingStatus]:
    return {f.status for f in matcher.match_triple(Triple(vendor, model, version))}


def test_catalogue_firmware_agrees_with_the_demo_advisories(matcher: Matcher) -> None:
    mirrored = {icsma: adv for adv in ADVISORIES for icsma in adv.mirrors}
    checked = affected = 0
    for model in CATALOGUE.values():
        covering = [mirrored[a] for a in model.checked_advisories if a in mirrored]
        named = [p for adv in covering for p in adv.products if p.name == model.model]
        if not named:
            continue
        for firmware in model.firmware:
            statuses = _statuses(matcher, model.vendor, model.model, firmware.version)
            checked += 1
            if firmware.advisory in mirrored:
                affected += 1
                assert FindingStatus.AFFECTED in statuses, (model.key, firmware.version, statuses)
            else:
                assert FindingStatus.AFFECTED not in statuses, (model.key, firmware.version, statuses)
    assert checked >= 20 and affected >= 15


def test_fixed_versions_are_reported_fixed(matcher: Matcher) -> None:
    assert FindingStatus.FIXED in _statuses(matcher, "BD", "Alaris PC Unit 8015", "12.3")
    assert FindingStatus.AFFECTED in _statuses(matcher, "BD", "Alaris PC Unit 8015", "9.19")

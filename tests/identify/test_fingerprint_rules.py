"""Every shipped rule against the fixture it was written from (tests/identify/fixtures/<family>.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wardwatch.identify.fingerprint import RuleSet
from wardwatch.identify.taxonomy import default_taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
RULES = RuleSet.load_default()


def _cases() -> list[Any]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        for i, case in enumerate(data["cases"]):
            out.append(pytest.param(data["family"], case, id=f"{path.stem}[{i}]"))
    return out


CASES = _cases()


def test_every_rule_file_has_a_fixture_and_every_rule_a_case() -> None:
    fixtures = {p.stem for p in FIXTURES.glob("*.json")}
    assert set(RULES.families) <= fixtures, set(RULES.families) - fixtures
    covered = {c.values[1]["expect_rule"] for c in CASES}
    assert {r.id for r in RULES.rules} <= covered, {r.id for r in RULES.rules} - covered
    for path in FIXTURES.glob("*.json"):
        assert json.loads(path.read_text("utf-8")).get("source"), f"{path.name} has no source"


def test_coverage_of_families() -> None:
    clinical = [f for f in RULES.families.values() if f.clinical]
    assert len(RULES.families) >= 40 and len(clinical) >= 20


@pytest.mark.parametrize(("family", "case"), CASES)
def test_rule_fires_on_its_fixture(family: str, case: dict[str, Any]) -> None:
    matches = {m.rule_id: m for m in RULES.evaluate(case["facts"])}
    assert case["expect_rule"] in matches, f"{case['expect_rule']} did not fire; fired: {sorted(matches)}"
    got = matches[case["expect_rule"]]
    for key, value in case["expect"].items():
        assert got.attributes.get(key) == value, (key, dict(got.attributes))
    # explainable: the facts that fired it are facts of the input
    assert got.matched
    for kind, value in got.matched:
        assert value in case["facts"][kind]


def _compatible(attr: str, a: str, b: str) -> bool:
    if a.lower() == b.lower():
        return True
    if attr == "device_class":
        tax = default_taxonomy()
        return a in tax.lineage(b) or b in tax.lineage(a)
    if attr in {"vendor", "model"}:  # "Abbott" vs "Abbott Diagnostics", "Afinion 2" vs "Afinion 2 Analyzer"
        return a.lower() in b.lower() or b.lower() in a.lower()
    return False


@pytest.mark.parametrize(("family", "case"), CASES)
def test_no_other_family_contradicts_with_more_confidence(family: str, case: dict[str, Any]) -> None:
    matches = RULES.evaluate(case["facts"])
    own = next(m for m in matches if m.rule_id == case["expect_rule"])
    for m in matches:
        if RULES.rule(m.rule_id).family == family or m.confidence < own.confidence:
            continue
        for attr, value in m.attributes.items():
            if attr in own.attributes:
                mine = own.attributes[attr]
                assert _compatible(attr, value, mine), (m.rule_id, attr, value, mine)


def test_rules_do_not_match_unique_quirks() -> None:
    """No rule condition names a MAC address or a fixture's serial number (family traits only)."""
    import re

    mac = re.compile(r"([0-9a-f]{2}[:-]){5}[0-9a-f]{2}", re.IGNORECASE)
    serials = ("S013023", "S067337", "AF20052397", "BS649542", "KEQ0817541", "13147")
    root = Path(__file__).parents[2] / "src/wardwatch/identify/rules"
    for path in root.glob("*.toml"):
        lines = path.read_text("utf-8").splitlines()
        body = "\n".join(line for line in lines if not line.lstrip().startswith(('"', "#")))
        assert not mac.search(body), path.name
        for serial in serials:
            assert serial.lower() not in body.lower(), (path.name, serial)

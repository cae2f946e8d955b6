"""All CISA ICSMA CSAF advisories import; a test inventory named from them is matched."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import require_shared
from wardwatch.domain.advisory import Advisory, ProductCondition, ProductStatus, VersionForm
from wardwatch.domain.finding import FindingStatus
from wardwatch.intel.interface import Problem
from wardwatch.intel.match import Matcher, Triple
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.intel.versions import VersionSpecError, parse_spec


def test_all_124_advisories_import_with_a_problem_report(kb: KnowledgeBase, csaf_schema_dir: Path) -> None:
    folder = require_shared("csaf-icsma")
    report = import_paths(kb, [folder], schema_dir=csaf_schema_dir)
    assert report.rejected == []
    assert len([i for i in report.imported if i[1] == "csaf"]) == 124
    assert [s[0] for s in report.skipped] == [str(folder / "MANIFEST.md")]
    counts = kb.counts()
    assert counts["intel_advisories"] == 124
    # the report names file and JSON path of fields that could not be interpreted, e.g. date "ranges"
    dated = [p for p in report.problems if p.value == "< august 28"]
    assert dated and dated[0].path.startswith("$.product_tree.branches[") and dated[0].path.endswith(".name")
    # read back equals what was parsed
    by_id = {a.id: a for a in kb.advisories()}
    mx40 = by_id["ICSMA-17-255-01"].vulnerabilities[0]
    assert mx40.cve == "CVE-2017-9657" and mx40.conditions[0].version == "< B.06.18"


def _conditions(advisories: list[Advisory]) -> list[tuple[Advisory, str | None, ProductCondition]]:
    return [(a, v.cve, c) for a in advisories for v in a.vulnerabilities for c in v.conditions]


def test_inventory_from_advisories_is_matched(icsma: tuple[list[Advisory], list[Problem]]) -> None:
    advisories, _ = icsma
    matcher = Matcher(advisories)
    checked_exact = checked_bound = checked_fixed = checked_unknown = 0
    for advisory, cve, cond in _conditions(advisories):
        assert cond.status is ProductStatus.KNOWN_AFFECTED  # all ICSMA use known_affected
        key = (advisory.id, cve)

        def found(
            version: str | None, cond: ProductCondition = cond
        ) -> dict[tuple[str | None, str | None], FindingStatus]:
            findings = matcher.match_triple(Triple(cond.vendor, cond.product, version))
            return {(f.advisory, f.cve): f.status for f in findings}

        # version as written in the advisory → affected
        if cond.version_form is VersionForm.EXACT:
            assert found(cond.version).get(key) is FindingStatus.AFFECTED, (key, cond)
            checked_exact += 1
        # no version → possibly affected (or affected where the advisory says "all versions")
        status = found(None).get(key)
        try:
            spec = parse_spec(cond.version)
        except VersionSpecError:
            spec = None
        if spec is not None and spec.is_all:
            assert status is FindingStatus.AFFECTED, key
        else:
            assert status in (FindingStatus.POSSIBLY_AFFECTED, FindingStatus.AFFECTED), key
            checked_unknown += status is FindingStatus.POSSIBLY_AFFECTED
        if cond.version_form is not VersionForm.RANGE or spec is None:
            continue
        for clause in spec.clauses:
            high = clause.high
            if clause.kind != "interval" or high is None or high.wildcard:
                continue
            findings = matcher.match_triple(Triple(cond.vendor, cond.product, high.version.text))
            ours = [f for f in findings if (f.advisory, f.cve) == key]
            mine = [f for f in ours if f.reason and f.reason.product_id == cond.product_id]
            if high.inclusive:  # "<= 9.33": 9.33 is affected (the reason may name a sibling range)
                assert any(f.status is FindingStatus.AFFECTED for f in ours), (key, cond.version)
                checked_bound += 1
            elif len(spec.clauses) == 1:  # "< 3.2": 3.2 is the fixed version, not flagged
                assert mine == [], (key, cond.version, mine)
                checked_fixed += 1
    assert checked_exact > 200 and checked_bound > 50 and checked_fixed > 20 and checked_unknown > 100

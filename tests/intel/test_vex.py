"""The OASIS CSAF 2.0 VEX examples: known_affected, fixed, known_not_affected, under_investigation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.domain.finding import FindingStatus
from wardwatch.intel.csaf import CsafImporter
from wardwatch.intel.match import Matcher, Triple


def _matcher(name: str, schema_dir: Path) -> Matcher:
    path = require_shared("schemas", "csaf-2.0-examples", f"{name}.json")
    return Matcher(CsafImporter(schema_dir).parse(path).advisories)


@pytest.mark.parametrize(
    ("name", "product", "version", "status", "unknown_version"),
    [
        ("2022-evd-uc-01-a-001", "DEF", "1.0", FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED),
        ("2022-evd-uc-01-f-001", "DEF", "1.1", FindingStatus.FIXED, None),
        ("2022-evd-uc-01-na-001", "ABC", "4.2", FindingStatus.NOT_AFFECTED, None),
        ("2022-evd-uc-01-ui-001", "GHI", "17.4", FindingStatus.POSSIBLY_AFFECTED, FindingStatus.POSSIBLY_AFFECTED),
    ],
)
def test_vex_status_is_honoured(
    csaf_schema_dir: Path,
    name: str,
    product: str,
    version: str,
    status: FindingStatus,
    unknown_version: FindingStatus | None,
) -> None:
    matcher = _matcher(name, csaf_schema_dir)
    findings = matcher.match_triple(Triple("Example Company", product, version))
    assert [(f.cve, f.status) for f in findings] == [("CVE-2021-44228", status)]
    # another version of the product: the document says nothing about it
    assert matcher.match_triple(Triple("Example Company", product, "99.0")) == []
    without = matcher.match_triple(Triple("Example Company", product, None))
    assert [f.status for f in without] == ([unknown_version] if unknown_version else [])


def test_not_affected_for_every_listed_cve(csaf_schema_dir: Path) -> None:
    matcher = _matcher("2022-evd-uc-02-na-001", csaf_schema_dir)
    findings = matcher.match_triple(Triple("Example Company", "ABC", "4.2"))
    assert len(findings) == 19 and {f.status for f in findings} == {FindingStatus.NOT_AFFECTED}


def test_every_oasis_example_imports(csaf_schema_dir: Path) -> None:
    folder = require_shared("schemas", "csaf-2.0-examples")
    importer = CsafImporter(csaf_schema_dir)
    for path in sorted(folder.glob("*.json")):
        batch = importer.parse(path)
        assert len(batch.advisories) == 1 and batch.advisories[0].id

"""Malformed files: one clear error naming the file and the field; the knowledge base is unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_shared
from tests.intel.conftest import FIXTURES
from wardwatch.errors import ImportRejectedError
from wardwatch.intel.csaf import CsafImporter
from wardwatch.intel.epss import EpssImporter
from wardwatch.intel.kev import KevImporter
from wardwatch.intel.mds2 import Mds2Importer
from wardwatch.intel.nvd import NvdImporter
from wardwatch.intel.sbom import SbomImporter
from wardwatch.intel.service import import_file, import_paths
from wardwatch.intel.store import KnowledgeBase


@pytest.fixture
def skb(sqlite_url: str) -> KnowledgeBase:
    """The many malformed-file cases run on SQLite; the all-or-nothing write runs on both below."""
    return KnowledgeBase(sqlite_url)


def _seeded(kb: KnowledgeBase) -> dict[str, int]:
    import_paths(kb, [require_shared("csaf-icsma", "icsma-17-255-01.json"), FIXTURES / "nvd-embedded-components.json"])
    return kb.counts()


def _mutate(doc: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


CSAF = "icsma-17-250-02a.json"


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ((["document", "csaf_version"], "1.2"), "csaf_version"),
        ((["product_tree", "branches", 0, "branches", 0, "branches", 0, "product"], {"name": "x"}), "product_id"),
        ((["vulnerabilities", 0, "product_status", "known_affected"], "CSAFPID-0001"), "known_affected"),
        ((["vulnerabilities", 0, "remediations", 0, "category"], 5), "category"),
        ((["document", "tracking"], []), "tracking"),
    ],
)
@pytest.mark.parametrize("schema", [True, False], ids=["schema", "structural"])
def test_malformed_csaf(
    skb: KnowledgeBase,
    tmp_path: Path,
    csaf_schema_dir: Path,
    mutation: tuple[list[str | int], Any],
    field: str,
    schema: bool,
) -> None:
    before = _seeded(skb)
    doc = json.loads(require_shared("csaf-icsma", CSAF).read_text())
    bad = tmp_path / "bad-advisory.json"
    bad.write_text(json.dumps(_mutate(doc, *mutation)))
    importer = CsafImporter(csaf_schema_dir if schema else tmp_path / "no-schema-here")
    with pytest.raises(ImportRejectedError) as info:
        import_file(skb, bad, importer)
    message = str(info.value)
    assert message.startswith(str(bad)) and field in message, message
    assert skb.counts() == before


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize(
    ("name", "content", "importer", "field"),
    [
        (
            "kev.json",
            json.dumps({"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-2024-1"}]}),
            KevImporter(),
            "cveID",
        ),
        (
            "kev2.json",
            json.dumps({"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-2024-12345"}]}),
            KevImporter(),
            "$.vulnerabilities[0].dateAdded",
        ),
        ("kev.csv", "cveID,vendorProject,product\nCVE-2024-12345,a,b\n", KevImporter(), "column vulnerabilityName"),
        ("epss.csv", "CVE-2024-0001,0.1,0.2\nCVE-2024-0002,high,0.3\n", EpssImporter(), "line 2"),
        ("epss2.csv", "CVE-2024-0001;1.5;0.2\n", EpssImporter(), "line 1"),
        (
            "nvd.json",
            json.dumps({"format": "NVD_CVE", "vulnerabilities": [{"cve": {"id": 5}}]}),
            NvdImporter(),
            "$.vulnerabilities[0].cve.id",
        ),
        ("nvd2.json", json.dumps({"format": "NVD_CVE", "vulnerabilities": {}}), NvdImporter(), "$.vulnerabilities"),
        (
            "bom.json",
            json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [{"version": "1"}]}),
            SbomImporter(),
            "$.components[0].name",
        ),
        (
            "bom2.json",
            json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [{"name": "x", "purl": 7}]}),
            SbomImporter(),
            "$.components[0].purl",
        ),
        (
            "spdx.json",
            json.dumps({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "a"}]}),
            SbomImporter(),
            "$.packages[0].name",
        ),
        ("form.xlsx", b"PK\x03\x04not really a zip", Mds2Importer(), "workbook"),
    ],
)
def test_malformed_feeds(
    skb: KnowledgeBase, tmp_path: Path, name: str, content: str | bytes, importer: Any, field: str
) -> None:
    before = _seeded(skb)
    path = _write(tmp_path, name, content)
    with pytest.raises(ImportRejectedError) as info:
        import_file(skb, path, importer)
    assert str(info.value).startswith(str(path)) and field in str(info.value), str(info.value)
    assert skb.counts() == before


def test_xlsx_without_mds2_header(kb: KnowledgeBase, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    assert wb.active is not None
    wb.active.append(["Asset", "Model"])
    wb.active.append(["1", "Pump"])
    path = tmp_path / "mds2-wrong.xlsx"
    wb.save(path)
    before = _seeded(kb)
    report = import_paths(kb, [path])
    assert len(report.rejected) == 1 and "Question ID" in report.rejected[0][1] and str(path) in report.rejected[0][1]
    assert kb.counts() == before


def test_import_paths_goes_on_after_a_rejected_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    bad = _write(tmp_path, "a-broken.json", "{ not json")
    good = tmp_path / "b-good.json"
    good.write_text((FIXTURES / "nvd-embedded-components.json").read_text())
    report = import_paths(kb, [tmp_path])
    assert [r[0] for r in report.rejected] == [str(bad)] and "not valid JSON" in report.rejected[0][1]
    assert [i[0] for i in report.imported] == [str(good)]


def test_failure_inside_the_write_rolls_back(kb: KnowledgeBase) -> None:
    """A batch that breaks half-way through the write (a NOT NULL column) leaves nothing behind."""
    from wardwatch.domain.advisory import KevEntry

    before = _seeded(kb)
    batch = NvdImporter().parse(FIXTURES / "nvd-embedded-components.json")
    batch.kev.append(KevEntry("CVE-2022-25638", "wolfSSL", "wolfSSL", "x", None))  # type: ignore[arg-type]
    with pytest.raises(ImportRejectedError, match=r"nvd-embedded-components\.json: database"):
        kb.store(batch)
    assert kb.counts() == before

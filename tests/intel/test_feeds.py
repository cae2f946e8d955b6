"""KEV, EPSS and vulnrichment (CVE 5 + CISA ADP) import into the knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.intel.epss import EpssImporter
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase


def test_kev_json_and_csv_agree(kb: KnowledgeBase) -> None:
    folder = require_shared("kev")
    report = import_paths(kb, [folder / "known_exploited_vulnerabilities.json"])
    assert report.rejected == [] and report.imported[0][1] == "kev"
    from_json = kb.kev()
    import_paths(kb, [folder / "known_exploited_vulnerabilities.csv"])
    from_csv = kb.kev()
    assert len(from_json) > 1000 and from_json.keys() == from_csv.keys()
    entry = from_json["CVE-2025-48384"]
    assert entry.vendor == "Git" and entry.date_added == "2025-08-25"


def test_vulnrichment_ssvc(kb: KnowledgeBase) -> None:
    report = import_paths(kb, [require_shared("vulnrichment")])
    assert report.rejected == []
    ssvc = kb.ssvc()
    assert len(ssvc) == 64
    d = ssvc["CVE-2023-30561"]  # BD Alaris IUI bus: Exploitation none, Automatable no, TI partial
    assert (d.exploitation, d.automatable, d.technical_impact) == ("none", "no", "partial")
    adv = {a.id: a for a in kb.advisories(["cve5"])}["CVE-2023-30561"]
    cond = adv.vulnerabilities[0].conditions[0]
    assert cond.version == "vers:generic/<=12.1.3" and adv.vulnerabilities[0].cwe == "CWE-311"
    assert adv.vulnerabilities[0].best_cvss is not None and adv.vulnerabilities[0].best_cvss.base_score == 6.1


@pytest.mark.slow
def test_all_epss_rows_import_fast(sqlite_url: str) -> None:
    kb = KnowledgeBase(sqlite_url)
    report = import_paths(kb, [require_shared("epss")])
    assert report.rejected == [] and len(report.imported) == 28
    assert kb.counts()["intel_epss"] == 360142
    assert kb.epss(["CVE-2019-10964"])["CVE-2019-10964"].epss == pytest.approx(0.01234, abs=0.02)


def test_epss_year_on_both_databases(kb: KnowledgeBase) -> None:
    path = require_shared("epss", "CVE_2018_EPSS.csv")
    batch = EpssImporter().parse(path)
    kb.store(batch)
    kb.store(batch)  # re-import updates in place
    assert kb.counts()["intel_epss"] == len({e.cve for e in batch.epss})


def test_epss_first_format_with_header_and_gzip(tmp_path: Path, kb: KnowledgeBase) -> None:
    import gzip

    text = "#model_version:v2023.03.01,score_date:2024-06-01T00:00:00+0000\ncve,epss,percentile\n"
    text += "CVE-2024-0001,0.5,0.9\nCVE-2024-0002,0.01,0.1\n"
    path = tmp_path / "epss_scores-2024-06-01.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    report = import_paths(kb, [path])
    assert report.imported == [(str(path), "epss", 2)]
    assert kb.epss()["CVE-2024-0001"].date == "2024-06-01"

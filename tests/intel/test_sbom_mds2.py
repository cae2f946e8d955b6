"""SBOMs (CycloneDX, SPDX) matched against an NVD fixture; the NEMA HN 1-2019 MDS2 example."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import require_shared
from tests.intel.conftest import FIXTURES
from wardwatch.domain.finding import FindingStatus
from wardwatch.intel.component_match import ComponentMatcher
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase

NVD = FIXTURES / "nvd-embedded-components.json"


def test_sboms_match_known_cves(kb: KnowledgeBase) -> None:
    folder = require_shared("sbom")
    assert import_paths(kb, [NVD]).imported[0][1] == "nvd"
    for name in ("narrow", "extended"):
        report = import_paths(kb, [folder / f"{name}.sbom.json"], vendor="REDACTED", model=f"Device {name}")
        assert report.rejected == []
    sboms = {s.model: s for s in kb.sboms()}
    assert len(sboms["Device narrow"].components) == 55 and len(sboms["Device extended"].components) == 65
    matcher = ComponentMatcher(kb.advisories())
    findings = matcher.match_sbom(sboms["Device extended"], device_id=7)
    by_cve = {f.cve: f for f in findings}
    # WolfSSL 4.8.1: < 5.2.0 and < 5.5.2 affected; CVE-2021-38597 (< 4.8.1) fixed in 4.8.1, not flagged
    assert by_cve["CVE-2022-25638"].status is FindingStatus.AFFECTED
    assert by_cve["CVE-2022-42905"].status is FindingStatus.AFFECTED
    assert "CVE-2021-38597" not in by_cve
    # FreeRTOS 10.0.1: <= 10.0.1 and < 10.4.3
    assert {"CVE-2018-16525", "CVE-2021-31571"} <= by_cve.keys()
    f = by_cve["CVE-2018-16525"]
    assert f.device_id == 7 and f.component == "FreeRTOS 10.0.1" and "<=10.0.1" in f.explanation
    assert f.severity == "CRITICAL"
    # narrow has no FreeRTOS
    assert "CVE-2021-31571" not in {f.cve for f in matcher.match_sbom(sboms["Device narrow"])}


def test_spdx_sbom(tmp_path: Path, kb: KnowledgeBase) -> None:
    doc = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "pump-fw",
        "documentDescribes": ["SPDXRef-pump"],
        "creationInfo": {"created": "2024-01-01T00:00:00Z"},
        "packages": [
            {"SPDXID": "SPDXRef-pump", "name": "Infusion Pump X", "supplier": "Organization: ACME Medical"},
            {
                "SPDXID": "SPDXRef-wolf",
                "name": "wolfssl",
                "versionInfo": "5.1.0",
                "externalRefs": [
                    {
                        "referenceCategory": "SECURITY",
                        "referenceType": "cpe23Type",
                        "referenceLocator": "cpe:2.3:a:wolfssl:wolfssl:5.1.0:*:*:*:*:*:*:*",
                    }
                ],
            },
        ],
    }
    path = tmp_path / "pump.spdx.json"
    path.write_text(json.dumps(doc))
    import_paths(kb, [NVD, path])
    sbom = kb.sboms()[0]
    assert (sbom.vendor, sbom.model, sbom.format) == ("ACME Medical", "Infusion Pump X", "spdx")
    cves = {f.cve for f in ComponentMatcher(kb.advisories()).match_sbom(sbom)}
    assert cves == {"CVE-2022-25638", "CVE-2022-42905"}


def test_nema_example_mds2_profile(kb: KnowledgeBase) -> None:
    path = require_shared("mds2", "NEMA_HN1-2019_Example-MDS2-Worksheet.xlsx")
    report = import_paths(kb, [path], vendor="Example Co", model="Glucose Monitor")
    assert report.imported == [(str(path), "mds2", 1)]
    profile = kb.mds2_profiles()[0]
    assert profile.model == "Glucose Monitor" and len(profile.answers) == 240
    answers = {a.question_id: a.answer for a in profile.answers}
    assert answers["DOC-2"] == "Handheld Blood Glucose Monitor" and answers["MPII-1"] == "Yes"
    caps = profile.capabilities
    assert caps["handles_pii"] is True and caps["remote_service"] is False
    assert caps["encryption_in_transit"] is False and caps["audit_logging"] is False
    assert caps["security_updates"] is None  # N/A

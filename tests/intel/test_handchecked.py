"""Seventeen ICSMA advisories of different shapes, checked by hand.

Each expectation was written from reading the advisory's product tree (vendor / product / version or
range) and its vulnerabilities, not from the matcher's output.
"""

from __future__ import annotations

import pytest

from wardwatch.domain.advisory import Advisory
from wardwatch.domain.finding import FindingStatus
from wardwatch.intel.interface import Problem
from wardwatch.intel.match import Matcher, Triple

A, P = FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED

CASES = [
    # advisory, vendor as an inventory writes it, model, version, expected status (None: no finding), #CVEs
    ("ICSMA-17-255-01", "Phillips", "IntelliVue MX40 Patient Worn Monitor (WLAN only)", "B.06.17", A, 2),
    ("ICSMA-17-255-01", "Philips Healthcare", "IntelliVue MX40 Patient Worn Monitor (WLAN only)", "B.06.18", None, 0),
    ("ICSMA-17-017-02", "BD", "Alaris 8015 PC unit", "9.7", A, 2),
    ("ICSMA-17-017-02", "CareFusion", "Alaris 8015 PC Unit", "9.33", A, 2),
    ("ICSMA-17-017-02", "BD", "Alaris 8015 PC unit", "9.34", None, 0),
    ("ICSMA-18-037-02", "GE", "Optima 520", None, A, 1),  # all versions; only CVE-2010-5306 names it
    ("ICSMA-18-037-02", "General Electric", "Discovery NM530c", "1.002", A, 1),  # CVE-2009-5143
    ("ICSMA-18-037-02", "GE Healthcare", "Discovery NM530c", "1.003", None, 0),  # "< 1.003"
    ("ICSMA-18-058-02", "Philips", "IntelliSpace Portal 8.0.x", "8.0.3", A, 35),  # vendor spelled "Phillips"
    ("ICSMA-19-080-01", "Medtronic", "MyCareLink Monitor", "24950", A, 2),
    ("ICSMA-19-080-01", "Medtronic", "MyCareLink Monitor", "24951", None, 0),
    ("ICSMA-19-080-01", "Medtronic", "MyCareLink Monitor", None, P, 2),
    ("ICSMA-20-170-06", "BD", "Alaris PC Unit", "9.19", A, 1),
    ("ICSMA-20-170-06", "BD", "Alaris PC Unit", "9.20", None, 0),
    ("ICSMA-20-170-06", "BD", "Alaris 8015 PC Unit", "12.1", A, 1),  # product family
    ("ICSMA-20-317-01", "BD", "Alaris PC Unit Model 8015", "9.33.1", A, 1),
    ("ICSMA-20-317-01", "BD", "Alaris PC Unit Model 8015", "9.33.2", None, 0),
    ("ICSMA-20-317-01", "Becton Dickinson", "Alaris Systems Manager", "5.0", None, 0),
    ("ICSMA-21-294-01", "B. Braun", "Data module compactPlus", "A10", A, 5),  # "A10 < A11"
    ("ICSMA-21-294-01", "BBraun", "Data module compactPlus", "A11", None, 0),
    ("ICSMA-18-156-01", "Philips", "Avalon Fetal/Maternal Monitors FM20/FM30/FM40/FM50", "J.3", A, 3),
    ("ICSMA-19-311-02", "Medtronic", "Valleylab FT10 Energy Platform (VLFT10GEN) software", "4.0.0", A, 3),
    ("ICSMA-19-311-02", "Medtronic", "Valleylab FT10 Energy Platform (VLFT10GEN) software", "4.1", None, 0),
    ("ICSMA-20-079-01", "Insulet", "Omnipod Insulin Management System", None, P, 1),
    ("ICSMA-21-187-01", "Philips", "Vue PACS", "12.2.8.0", A, 16),  # "<= 12.2.x.x"
    ("ICSMA-21-187-01", "Philips", "Vue PACS", "12.3.0", None, 0),
    ("ICSMA-21-187-01", "Philips", "Vue Motion", "12.2.1.6", None, 0),  # "<= 12.2.1.5"
    ("ICSMA-18-219-02", "Medtronic", "MMT-503 Remote Controller", "MMT-523", A, 2),
    ("ICSMA-17-250-02A", "Smiths Medical", "Medfusion 4000 Wireless Syringe Infusion Pump", "1.5", A, 8),
    ("ICSMA-17-250-02A", "Smiths Medical", "Medfusion 4000 Wireless Syringe Infusion Pump", "1.6.1", None, 0),
    ("ICSMA-22-062-01", "Becton, Dickinson and Company", "BD Pyxis MedStation ES", None, A, 1),
    ("ICSMA-19-190-01", "GE Healthcare", "GE Aestiva", "7900 MRI", A, 1),
    ("ICSMA-20-049-01", "Spacelabs", "Xhibit Telemetry Receiver (XTR) Model number 96280", "1.0.2", A, 1),
    ("ICSMA-20-049-01", "Spacelabs", "Xhibit Telemetry Receiver (XTR) Model number 96280", "1.0.3", None, 0),
]


@pytest.fixture(scope="module")
def matcher(icsma: tuple[list[Advisory], list[Problem]]) -> Matcher:
    return Matcher(icsma[0])


@pytest.mark.parametrize(("advisory", "vendor", "model", "version", "status", "cves"), CASES)
def test_handchecked(
    matcher: Matcher,
    advisory: str,
    vendor: str,
    model: str,
    version: str | None,
    status: FindingStatus | None,
    cves: int,
) -> None:
    findings = [f for f in matcher.match_triple(Triple(vendor, model, version)) if f.advisory == advisory]
    if status is None:
        assert [f for f in findings if f.status is not FindingStatus.NOT_AFFECTED] == []
        return
    assert {f.status for f in findings} == {status}
    assert len({f.cve for f in findings}) == cves
    for f in findings:
        assert f.reason is not None and f.reason.observed_version == version
        assert advisory in f.explanation and (version or "version unknown") in f.explanation
        assert 0.0 < f.confidence <= 1.0
        if status is P:
            assert f.confidence < 0.6


def test_remediation_and_severity_carried(matcher: Matcher) -> None:
    findings = matcher.match_triple(Triple("Smiths Medical", "Medfusion 4000 Wireless Syringe Infusion Pump", "1.1"))
    f = next(f for f in findings if f.cve == "CVE-2017-12718")
    assert f.severity == "LOW" and f.cvss_score == 3.7
    assert any("1.6.1" in r and r.startswith("vendor_fix") for r in f.remediations)

"""The explainable score: KEV outranks an equal-CVSS finding without KEV; EPSS and SSVC explain; SSVC tree."""

from __future__ import annotations

import pytest

from wardwatch.domain.advisory import EpssScore, KevEntry, SsvcDecision
from wardwatch.domain.finding import Finding, FindingKind, FindingStatus
from wardwatch.domain.risk import SsvcDecision as Decision
from wardwatch.risk.findings import IntelFacts, enrich
from wardwatch.risk.score import DeviceContext, RiskWeights, assess, ssvc_decision

PUMP = DeviceContext(device_id=1, criticality="life_sustaining")


def vuln(cve: str, cvss: float = 7.5, status: FindingStatus = FindingStatus.AFFECTED) -> Finding:
    return Finding(device_id=1, kind=FindingKind.VULNERABILITY, status=status, severity="HIGH",
                   explanation=f"matches {cve}", confidence=0.95, cve=cve, advisory="ICSMA-TEST", cvss_score=cvss)


INTEL = IntelFacts(
    kev={"CVE-2017-0144": KevEntry("CVE-2017-0144", "Microsoft", "SMBv1", "EternalBlue", "2022-02-10")},
    epss={"CVE-2017-0144": EpssScore("CVE-2017-0144", 0.97, 0.999, "2025-03-14"),
          "CVE-2022-2121": EpssScore("CVE-2022-2121", 0.0009, 0.4, None)},
    ssvc={"CVE-2022-2121": SsvcDecision("CVE-2022-2121", "poc", "yes", "partial")},
)


def test_kev_outranks_equal_cvss_without_kev() -> None:
    weights = RiskWeights()
    enrichment = IntelFacts(INTEL.kev, {}, {}).enrichment()  # KEV alone, no EPSS: the KEV entry decides
    with_kev = enrich(vuln("CVE-2017-0144"), PUMP, INTEL, enrichment, weights)
    without = enrich(vuln("CVE-2099-0001"), PUMP, INTEL, enrichment, weights)
    assert with_kev.priority > without.priority
    assert with_kev.sla_days == 14 < without.sla_days
    device_a = assess(PUMP, [with_kev.finding], enrichment, weights)
    device_b = assess(PUMP, [without.finding], enrichment, weights)
    assert device_a.score > device_b.score
    assert any(f.name == "CISA KEV" and f.contribution == weights.kev_boost for f in device_a.factors)


def test_epss_and_ssvc_in_explanation_and_factors() -> None:
    enrichment = INTEL.enrichment()
    scored = enrich(vuln("CVE-2022-2121", 6.5), PUMP, INTEL, enrichment, RiskWeights())
    assert "EPSS 0.0009" in scored.explanation
    assert "CISA SSVC: exploitation poc, automatable yes" in scored.explanation
    assert scored.ssvc == "Attend"  # poc + automatable + high mission impact (life-sustaining)
    factors = {f.name: f for f in assess(PUMP, [scored.finding], enrichment).factors}
    assert "EPSS" in factors and "SSVC" in factors and "0.001" in factors["EPSS"].value


def test_possible_match_weighs_less_and_controls_reduce() -> None:
    enrichment = INTEL.enrichment()
    certain = assess(PUMP, [vuln("CVE-2099-0002")], enrichment)
    possible = assess(PUMP, [vuln("CVE-2099-0002", status=FindingStatus.POSSIBLY_AFFECTED)], enrichment)
    assert possible.score < certain.score
    segmented = assess(DeviceContext(1, "life_sustaining", controls=("segmented",)), [vuln("CVE-2099-0002")],
                       enrichment)
    assert segmented.score == pytest.approx(certain.score * 0.7, abs=0.1)
    assert assess(PUMP, [], enrichment).score == 0.0


@pytest.mark.parametrize(("exploitation", "exposure", "automatable", "impact", "expected"), [
    ("active", "open", True, "low", Decision.ACT),
    ("active", "small", False, "high", Decision.ACT),
    ("active", "small", False, "medium", Decision.ATTEND),
    ("poc", "open", False, "high", Decision.ATTEND),
    ("poc", "controlled", False, "high", Decision.TRACK_STAR),
    ("poc", "controlled", False, "low", Decision.TRACK),
    ("none", "open", True, "high", Decision.ATTEND),
    ("none", "controlled", False, "medium", Decision.TRACK),
])
def test_ssvc_deployer_tree(exploitation: str, exposure: str, automatable: bool, impact: str,
                            expected: Decision) -> None:
    assert ssvc_decision(exploitation, exposure, automatable, impact) is expected

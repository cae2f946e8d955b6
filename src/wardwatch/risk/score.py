"""The explainable per-device risk score and the SSVC deployer decision (issue 4).

score = 100 × likelihood × impact × (1 − control reduction), each part a sum of named factors:

* likelihood: the worst vulnerability (CVSS exploitability scaled, raised by EPSS and by a CISA KEV entry),
  plus hygiene findings, plus exposure (internet traffic, remote access);
* impact: the clinical criticality of the device's class (life-sustaining … non-clinical), PHI handling,
  the organisation's own criticality when a person set one;
* controls: a segmented zone, NAC, declared compensating controls.

Weights live in the settings file (``[risk]`` table) and every factor names its weight and source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from wardwatch.domain.finding import Finding, FindingKind, FindingStatus
from wardwatch.domain.risk import RiskAssessment, RiskFactor, RiskLevel, SsvcDecision


class RiskWeights(BaseModel):
    """Weights of the score (``[risk]`` in the settings file)."""

    kev_boost: float = Field(default=0.25, description="added to likelihood when a finding's CVE is in CISA KEV")
    epss_weight: float = Field(default=0.3, description="multiplies the EPSS probability added to likelihood")
    hygiene_each: float = Field(default=0.06, description="likelihood added per hygiene finding")
    hygiene_cap: float = Field(default=0.3, description="most likelihood hygiene can add")
    exposure_internet: float = Field(default=0.15, description="likelihood added when the device talks to the internet")
    possible_factor: float = Field(default=0.5, description="weight of a possibly-affected match against a certain one")
    criticality_impact: dict[str, float] = Field(default_factory=lambda: {
        "life_sustaining": 1.0, "life_supporting": 0.85, "diagnostic": 0.65, "non_clinical": 0.35,
    })
    phi_impact: float = Field(default=0.1, description="impact added when the device handles PHI (DICOM, HL7)")
    control_reduction: dict[str, float] = Field(default_factory=lambda: {
        "segmented": 0.3, "nac": 0.15, "compensating": 0.2, "monitored": 0.1,
    })
    levels: dict[str, float] = Field(default_factory=lambda: {"critical": 70.0, "high": 45.0, "medium": 20.0})
    criticality: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="site overrides of clinical criticality: {device = {id = level}, model = {...}, class = {...}}",
    )
    department_criticality: dict[str, str] = Field(
        default_factory=dict, description="criticality level per department (raises, never lowers, the class default)"
    )
    zone_controls: dict[str, list[str]] = Field(
        default_factory=dict, description="controls declared per zone: CIDR → [segmented, nac, compensating ...]"
    )
    entry_subnets: list[str] = Field(
        default_factory=list, description="guest and workstation subnets: attack-path entry points (CIDRs)"
    )
    sla_days: dict[str, int] = Field(default_factory=lambda: {
        "kev": 14, "critical": 30, "high": 60, "medium": 90, "low": 180,
    }, description="days to remediate by severity (and for a CVE in CISA KEV)")
    effort_setup: dict[str, float] = Field(default_factory=lambda: {
        "patch": 2.0, "mitigate": 1.0, "segment": 2.0, "disable_service": 0.5, "change_credentials": 0.5,
        "harden_tls": 0.5, "replace": 0.0, "monitor": 2.0, "accept": 0.5,
    }, description="hours of an action once (planning, change request, testing on one unit)")
    effort_per_device: dict[str, float] = Field(default_factory=lambda: {
        "patch": 1.5, "mitigate": 0.5, "segment": 0.25, "disable_service": 0.5, "change_credentials": 0.5,
        "harden_tls": 0.5, "replace": 16.0, "monitor": 0.1, "accept": 0.0,
    }, description="hours of an action per device it covers")
    downtime_per_device: dict[str, float] = Field(default_factory=lambda: {
        "patch": 1.0, "mitigate": 0.25, "replace": 4.0, "disable_service": 0.25,
    }, description="clinical downtime (hours) per clinical device")


@dataclass(frozen=True)
class Enrichment:
    """What the knowledge base knows of CVEs beyond the advisory: KEV, EPSS, SSVC."""

    kev: frozenset[str] = frozenset()
    epss: Mapping[str, float] = field(default_factory=dict)
    ssvc: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceContext:
    """What the score needs to know about the device beyond its findings."""

    device_id: int | None
    criticality: str = "non_clinical"
    criticality_source: str = "taxonomy default"
    handles_phi: bool = False
    internet_exposed: bool = False
    controls: tuple[str, ...] = ()


def _vulnerability_likelihood(finding: Finding, enrichment: Enrichment, weights: RiskWeights
                              ) -> tuple[float, list[RiskFactor]]:
    factors: list[RiskFactor] = []
    base = (finding.cvss_score or 5.0) / 10.0 * 0.6
    source = f"{finding.advisory or ''} {finding.cve or ''}".strip()
    factors.append(RiskFactor("CVSS", f"{finding.cvss_score if finding.cvss_score is not None else 'n/a'}"
                              f" ({finding.cve or finding.title})", base, source))
    value = base
    if finding.cve and finding.cve in enrichment.kev:
        value += weights.kev_boost
        factors.append(RiskFactor("CISA KEV", f"{finding.cve} is known exploited", weights.kev_boost, "CISA KEV"))
    if finding.cve and finding.cve in enrichment.epss:
        epss = enrichment.epss[finding.cve]
        value += weights.epss_weight * epss
        factors.append(RiskFactor("EPSS", f"{epss:.3f} ({finding.cve})", weights.epss_weight * epss, "FIRST EPSS"))
    if finding.cve and finding.cve in enrichment.ssvc:
        decision = enrichment.ssvc[finding.cve]
        factors.append(RiskFactor("SSVC", ", ".join(f"{k}={v}" for k, v in decision.items()), 0.0,
                                  "CISA vulnrichment"))
    if finding.status is FindingStatus.POSSIBLY_AFFECTED:
        value *= weights.possible_factor
        factors = [RiskFactor(f.name, f.value + " (version unknown: possibly affected)",
                              f.contribution * weights.possible_factor, f.source) for f in factors]
    return min(value, 1.0), factors


def assess(device: DeviceContext, findings: Sequence[Finding], enrichment: Enrichment,
           weights: RiskWeights | None = None) -> RiskAssessment:
    """The risk of one device from its open findings."""
    weights = weights or RiskWeights()
    factors: list[RiskFactor] = []
    open_vulns = [f for f in findings if f.kind is FindingKind.VULNERABILITY
                  and f.status in (FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED)]
    likelihood = 0.0
    if open_vulns:
        scored = [(_vulnerability_likelihood(f, enrichment, weights), f) for f in open_vulns]
        (worst, worst_factors), _ = max(scored, key=lambda item: item[0][0])
        likelihood += worst
        factors.extend(worst_factors)
        if len(open_vulns) > 1:
            extra = min(0.05 * (len(open_vulns) - 1), 0.15)
            likelihood += extra
            factors.append(RiskFactor("More vulnerabilities", f"{len(open_vulns)} open", extra, "knowledge base"))
    hygiene = [f for f in findings if f.kind is FindingKind.HYGIENE and f.status is FindingStatus.AFFECTED]
    if hygiene:
        add = min(weights.hygiene_each * len(hygiene), weights.hygiene_cap)
        likelihood += add
        factors.append(RiskFactor("Hygiene", ", ".join(f.title for f in hygiene[:4]), add, "observed traffic"))
    if device.internet_exposed:
        likelihood += weights.exposure_internet
        factors.append(RiskFactor("Exposure", "talks to the internet", weights.exposure_internet, "flows"))
    likelihood = min(likelihood, 1.0)
    impact = weights.criticality_impact.get(device.criticality, 0.35)
    factors.append(RiskFactor("Clinical criticality", device.criticality, impact, device.criticality_source))
    if device.handles_phi:
        impact = min(impact + weights.phi_impact, 1.0)
        factors.append(RiskFactor("PHI", "handles patient data (DICOM/HL7)", weights.phi_impact, "protocols seen"))
    reduction = 0.0
    for control in device.controls:
        cut = weights.control_reduction.get(control, 0.0)
        if cut:
            reduction += cut
            factors.append(RiskFactor("Control", control, -cut, "declared control"))
    reduction = min(reduction, 0.8)
    score = round(100.0 * likelihood * impact * (1.0 - reduction), 1)
    return RiskAssessment(device.device_id, score, level_for(score, weights), round(likelihood, 3),
                          round(impact, 3), tuple(factors))


_HYGIENE_LIKELIHOOD = {"critical": 0.7, "high": 0.5, "medium": 0.35, "low": 0.2}


def finding_priority(finding: Finding, device: DeviceContext, enrichment: Enrichment,
                     weights: RiskWeights | None = None) -> float:
    """How urgent one finding is on its device (0–100): the score the device would have with only it.

    A CISA KEV entry and a high EPSS raise it (so a KEV finding outranks an equal-CVSS finding without KEV).
    """
    weights = weights or RiskWeights()
    if finding.kind is FindingKind.VULNERABILITY:
        if finding.status not in (FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED):
            return 0.0
        likelihood, _ = _vulnerability_likelihood(finding, enrichment, weights)
    else:
        likelihood = _HYGIENE_LIKELIHOOD.get(finding.severity.lower(), 0.3)
    impact = weights.criticality_impact.get(device.criticality, 0.35)
    if device.handles_phi:
        impact = min(impact + weights.phi_impact, 1.0)
    reduction = min(sum(weights.control_reduction.get(c, 0.0) for c in device.controls), 0.8)
    return round(100.0 * likelihood * impact * (1.0 - reduction), 2)


def level_for(score: float, weights: RiskWeights | None = None) -> RiskLevel:
    """The qualitative level of a score."""
    levels = (weights or RiskWeights()).levels
    if score >= levels["critical"]:
        return RiskLevel.CRITICAL
    if score >= levels["high"]:
        return RiskLevel.HIGH
    if score >= levels["medium"]:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def ssvc_decision(exploitation: str, exposure: str, automatable: bool, mission_impact: str) -> SsvcDecision:
    """The CISA SSVC deployer decision (exploitation none|poc|active, exposure small|controlled|open,
    automatable yes/no, mission and well-being impact low|medium|high), after CISA's SSVC guide (2022) tree.
    """
    exploitation, exposure, mission_impact = exploitation.lower(), exposure.lower(), mission_impact.lower()
    if exploitation == "active":
        if mission_impact == "high" or (automatable and exposure != "small"):
            return SsvcDecision.ACT
        return SsvcDecision.ATTEND
    if exploitation == "poc":
        if mission_impact == "high" and (automatable or exposure == "open"):
            return SsvcDecision.ATTEND
        return SsvcDecision.TRACK_STAR if mission_impact == "high" else SsvcDecision.TRACK
    if mission_impact == "high" and automatable and exposure == "open":
        return SsvcDecision.ATTEND
    return SsvcDecision.TRACK_STAR if mission_impact == "high" and exposure == "open" else SsvcDecision.TRACK

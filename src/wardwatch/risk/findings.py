"""Findings made ready for people: a stable fingerprint, CISA KEV / FIRST EPSS / CISA SSVC in the explanation,
the SSVC deployer decision, a priority and an SLA.

The SSVC decision points per finding (CISA, "Stakeholder-Specific Vulnerability Categorization Guide", 2022):
*exploitation* from CISA KEV (active) or CISA's vulnrichment SSVC entry (none/poc/active); *exposure* from the
flows (open when the device talks to the internet, small when declared segmented, controlled otherwise);
*automatable* from vulnrichment; *mission and well-being impact* from the device's clinical criticality.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from wardwatch.domain.advisory import EpssScore, KevEntry, SsvcDecision
from wardwatch.domain.finding import Finding, FindingKind, FindingStatus, MatchReason
from wardwatch.risk.score import DeviceContext, Enrichment, RiskWeights, finding_priority, ssvc_decision

#: Mission and well-being impact (SSVC) of each clinical criticality level.
MISSION_IMPACT = {"life_sustaining": "high", "life_supporting": "high", "diagnostic": "medium",
                  "non_clinical": "low"}
ACTIVE = frozenset({FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED})


@dataclass(frozen=True, slots=True)
class IntelFacts:
    """The CVE-level enrichment of the knowledge base: KEV, EPSS, SSVC."""

    kev: dict[str, KevEntry]
    epss: dict[str, EpssScore]
    ssvc: dict[str, SsvcDecision]

    def enrichment(self) -> Enrichment:
        """The score's view of the enrichment."""
        return Enrichment(
            kev=frozenset(self.kev), epss={c: e.epss for c, e in self.epss.items()},
            ssvc={c: {"exploitation": s.exploitation, "automatable": s.automatable,
                      "technical_impact": s.technical_impact} for c, s in self.ssvc.items()},
        )


@dataclass(frozen=True, slots=True)
class Scored:
    """A finding with its fingerprint and what the risk layer adds to it."""

    fingerprint: str
    finding: Finding
    priority: float
    ssvc: str | None
    sla_days: int
    note: str = ""  # KEV, EPSS, SSVC words appended to the finding's explanation

    @property
    def explanation(self) -> str:
        """The match's explanation with the enrichment."""
        return self.finding.explanation + self.note

    @property
    def active(self) -> bool:
        """True when the match says the device is (or may be) affected."""
        return self.finding.status in ACTIVE


def fingerprint(finding: Finding) -> str:
    """What the finding is, independent of the evaluation: advisory + CVE + component, or the hygiene title."""
    if finding.kind is FindingKind.HYGIENE:
        text = f"hygiene|{finding.title}"
    else:
        text = f"vuln|{finding.advisory or ''}|{finding.cve or finding.title}|{finding.component or ''}"
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def sla_days(finding: Finding, intel: IntelFacts, weights: RiskWeights) -> int:
    """Days to remediate: KEV first (CISA BOD 22-01 gives two weeks), then by severity."""
    if finding.cve and finding.cve in intel.kev:
        return weights.sla_days.get("kev", 14)
    return weights.sla_days.get(finding.severity.lower(), weights.sla_days.get("low", 180))


def decide(finding: Finding, ctx: DeviceContext, intel: IntelFacts) -> tuple[str | None, str]:
    """The SSVC deployer decision of a vulnerability finding and the words explaining it."""
    if finding.kind is not FindingKind.VULNERABILITY or finding.status not in ACTIVE:
        return None, ""
    cve = finding.cve or ""
    entry = intel.ssvc.get(cve)
    exploitation = "active" if cve in intel.kev else (entry.exploitation if entry else "none")
    automatable = bool(entry and entry.automatable.lower() == "yes")
    exposure = "open" if ctx.internet_exposed else "small" if "segmented" in ctx.controls else "controlled"
    impact = MISSION_IMPACT.get(ctx.criticality, "low")
    decision = ssvc_decision(exploitation, exposure, automatable, impact).value
    words = (f"SSVC deployer decision {decision} (exploitation {exploitation}, exposure {exposure}, "
             f"automatable {'yes' if automatable else 'no'}, mission impact {impact})")
    return decision, words


_Extra = tuple[str, float, str | None, int]
EnrichCache = dict[tuple[object, ...], _Extra]


def enrich(finding: Finding, ctx: DeviceContext, intel: IntelFacts, enrichment: Enrichment,
           weights: RiskWeights, cache: EnrichCache | None = None) -> Scored:
    """The finding with KEV, EPSS and SSVC in its explanation, its priority, SSVC decision and SLA.

    ``cache`` (one per evaluation: same knowledge base, same weights) spares recomputing the enrichment of
    findings that differ only by device.
    """
    cache = {} if cache is None else cache
    key = (finding.kind, finding.status, finding.cve, finding.severity, finding.cvss_score,
           finding.title, ctx.criticality, ctx.handles_phi, ctx.internet_exposed, ctx.controls)
    extra = cache.get(key)
    if extra is None:
        extra = cache[key] = _extra(finding, ctx, intel, enrichment, weights)
    suffix, priority, decision, sla = extra
    return Scored(fingerprint(finding), finding, priority, decision, sla, suffix)


def _extra(finding: Finding, ctx: DeviceContext, intel: IntelFacts, enrichment: Enrichment,
           weights: RiskWeights) -> _Extra:
    notes: list[str] = []
    cve = finding.cve or ""
    if cve in intel.kev:
        kev = intel.kev[cve]
        notes.append(f"CISA KEV: known exploited (added {kev.date_added}"
                     + (f", ransomware use {kev.ransomware}" if kev.ransomware not in ("", "Unknown") else "") + ")")
    if cve in intel.epss:
        e = intel.epss[cve]
        notes.append(f"EPSS {e.epss:.4f} (percentile {e.percentile:.3f}{', ' + e.date if e.date else ''})")
    if cve in intel.ssvc:
        s = intel.ssvc[cve]
        notes.append(f"CISA SSVC: exploitation {s.exploitation}, automatable {s.automatable}, "
                     f"technical impact {s.technical_impact}")
    decision, words = decide(finding, ctx, intel)
    if words:
        notes.append(words)
    suffix = ". " + "; ".join(notes) if notes else ""
    return suffix, finding_priority(finding, ctx, enrichment, weights), decision, sla_days(finding, intel, weights)


def finding_from_dict(data: dict[str, Any]) -> Finding:
    """A :class:`Finding` back from :meth:`Finding.to_dict` (as stored in ``risk_findings.data``)."""
    reason = data.get("reason")
    return Finding(
        device_id=data.get("device_id"), kind=FindingKind(data["kind"]), status=FindingStatus(data["status"]),
        severity=data.get("severity", ""), explanation=data.get("explanation", ""),
        confidence=float(data.get("confidence", 0.0)), cve=data.get("cve"), advisory=data.get("advisory"),
        cvss_score=data.get("cvss_score"), cvss_vector=data.get("cvss_vector"),
        matched_product=data.get("matched_product", ""), component=data.get("component"),
        remediations=tuple(data.get("remediations") or ()),
        reason=MatchReason(**reason) if isinstance(reason, dict) else None, title=data.get("title", ""),
    )

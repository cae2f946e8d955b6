"""Risk assessments and remediation actions (ARCHITECTURE.md, data model).

A :class:`RiskAssessment` is derived, never edited: it lists its :class:`RiskFactor` objects with their
contribution, so the score explains itself. A :class:`RemediationAction` is what someone can do about a
finding, with who, how long, what clinical downtime and how much risk it removes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RiskLevel(StrEnum):
    """Qualitative levels of a 0–100 score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """One reason behind a score: what, its value, how much it moved the score, and where it came from."""

    name: str
    value: str
    contribution: float
    source: str


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The derived risk of one device."""

    device_id: int | None
    score: float
    level: RiskLevel
    likelihood: float
    impact: float
    factors: tuple[RiskFactor, ...]

    def summary(self) -> str:
        """The three strongest factors in words."""
        top = sorted(self.factors, key=lambda f: -abs(f.contribution))[:3]
        return "; ".join(f"{f.name}: {f.value}" for f in top)


class SsvcDecision(StrEnum):
    """CISA SSVC deployer decisions (CISA "Stakeholder-Specific Vulnerability Categorization Guide", 2022)."""

    TRACK = "Track"
    TRACK_STAR = "Track*"
    ATTEND = "Attend"
    ACT = "Act"


class ActionKind(StrEnum):
    """What a remediation action does."""

    PATCH = "patch"
    CONFIGURE = "configure"
    SEGMENT = "segment"
    REPLACE = "replace"
    MONITOR = "monitor"
    ACCEPT = "accept"


@dataclass(frozen=True, slots=True)
class RemediationAction:
    """One action of the plan, covering one or more findings on one or more devices."""

    id: str
    kind: ActionKind
    title: str
    owner_team: str  # clinical_engineering, it, security
    effort_hours: float
    downtime_hours: float
    risk_removed: float
    due_days: int
    device_ids: tuple[int, ...]
    findings: tuple[str, ...]
    explanation: str

"""Findings: a device (or a component of its SBOM) tied to a vulnerability or a hygiene problem.

A Finding says *what* (``cve``/``advisory`` or a hygiene ``title``), *how sure* (``status`` and
``confidence``) and *why* (``explanation`` and the structured :class:`MatchReason`). It is derived from
the knowledge base and the inventory; the risk layer scores it and the planner acts on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class FindingKind(StrEnum):
    """A vulnerability from an advisory, or a hygiene problem seen in behaviour."""

    VULNERABILITY = "vulnerability"
    HYGIENE = "hygiene"


class FindingStatus(StrEnum):
    """What the match says about the device (CSAF/VEX statuses seen from the device's side)."""

    AFFECTED = "affected"
    POSSIBLY_AFFECTED = "possibly_affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class MatchReason:
    """Why a device matched a product condition: which product, which range, which observed version."""

    product_id: str
    branch: str
    vendor_match: str  # exact, alias, fuzzy
    product_match: str  # exact, family, cpe, purl
    version_expression: str
    observed_version: str | None
    version_result: str  # in_range, out_of_range, unknown_version, unparsed_range, all_versions


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding about one device (JSON keys: device_id, kind, cve, advisory, status, severity ...)."""

    device_id: int | str | None
    kind: FindingKind
    status: FindingStatus
    severity: str  # CVSS qualitative rating (NONE, LOW, MEDIUM, HIGH, CRITICAL) or a hygiene level
    explanation: str
    confidence: float
    cve: str | None = None
    advisory: str | None = None
    cvss_score: float | None = None
    cvss_vector: str | None = None
    matched_product: str = ""
    component: str | None = None
    remediations: tuple[str, ...] = ()
    reason: MatchReason | None = None
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as their values)."""
        data = asdict(self)
        data["kind"] = self.kind.value
        data["status"] = self.status.value
        return data

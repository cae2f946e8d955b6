"""Alerts raised by detection rules (ARCHITECTURE.md, data model; issues 7 and 9).

An :class:`Alert` names its rule, a severity, the devices involved, the evidence (short strings, never a
payload), an optional reference to a capture excerpt kept beside it, and a dedup key: alerts with the
same key while one is still open are the same alert seen again. The lifecycle (open → acknowledged →
resolved) is kept deliberately small here; issue 9 adds assignment, suppression and escalation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum, StrEnum
from typing import Any


class Severity(IntEnum):
    """Alert severity; the numbers map onto CEF severity 0-10 (see :meth:`cef`)."""

    INFO = 1
    LOW = 3
    MEDIUM = 5
    HIGH = 8
    CRITICAL = 10

    def cef(self) -> int:
        """CEF ``Severity`` field (0-10)."""
        return int(self)


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Alert:
    """One detection, ready to store and deliver."""

    rule: str
    severity: Severity
    title: str
    devices: tuple[str, ...]
    evidence: tuple[str, ...]
    dedup_key: str
    ts: float
    status: AlertStatus = AlertStatus.OPEN
    capture_ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    count: int = 1
    last_seen: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (webhook body, CLI ``--format json``)."""
        data = asdict(self)
        data["severity"] = self.severity.name.lower()
        data["status"] = str(self.status)
        return data

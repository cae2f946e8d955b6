"""An incident as the rest of the program reads it: phase, tasks, timeline, evidence, alerts, devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wardwatch.domain.alert import Severity
from wardwatch.respond.playbook import Phase


@dataclass(frozen=True, slots=True)
class Task:
    """A playbook task of one incident and whether it is done."""

    key: str
    phase: Phase
    title: str
    kind: str
    template: str | None
    done_by: str | None
    done_at: float | None
    note: str | None

    @property
    def done(self) -> bool:
        """True once someone completed it."""
        return self.done_at is not None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Who did what, when."""

    ts: float
    actor: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """An alert, a capture reference, a device snapshot or a note kept with the incident."""

    id: int
    kind: str
    ref: str
    description: str
    sha256: str | None
    content: dict[str, Any] | None
    added_by: str
    added_at: float


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident with everything attached to it."""

    id: int
    title: str
    severity: Severity
    phase: Phase
    status: str  # open, closed
    playbook: str
    lead: str | None
    summary: str
    opened_by: str
    opened_at: float
    closed_at: float | None
    alert_ids: tuple[int, ...]
    devices: tuple[tuple[str, str | None], ...]  # (device key, class)
    tasks: tuple[Task, ...]
    timeline: tuple[TimelineEntry, ...]
    evidence: tuple[EvidenceItem, ...]

    def tasks_of(self, phase: Phase) -> list[Task]:
        """The tasks of one phase."""
        return [t for t in self.tasks if t.phase is phase]

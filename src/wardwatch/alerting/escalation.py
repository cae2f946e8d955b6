"""Escalation of alerts nobody acknowledged in time, driven by a clock passed in (no timers, no sleeps).

An open alert (not acknowledged, not resolved, not suppressed) escalates one level each time its
severity's deadline passes again: level ``n`` is due at ``first_seen + (n + 1) × deadline``. At each
level the alert is re-assigned to the next person of the owning team's escalation chain and delivered
again through the team's routes (marked ``escalation_level`` in its details). Call
:func:`escalate` from the server's periodic job with the current time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.domain.alert import AlertStatus, Severity

#: Default acknowledgement deadlines in seconds (a critical alert about a pump must not wait an hour).
DEFAULT_DEADLINES: dict[Severity, float] = {
    Severity.CRITICAL: 15 * 60,
    Severity.HIGH: 60 * 60,
    Severity.MEDIUM: 4 * 3600,
    Severity.LOW: 24 * 3600,
}


@dataclass(frozen=True)
class EscalationPolicy:
    """Deadlines per severity and each team's escalation chain (people or roles, in order)."""

    deadlines: Mapping[Severity, float] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def target(self, teams: tuple[str, ...], level: int) -> str | None:
        """Who level ``level`` (1-based) escalates to: the first team's chain entry, else ``None``."""
        for team in teams:
            chain = self.chains.get(team, ())
            if chain:
                return chain[min(level, len(chain)) - 1]
        return None


@dataclass(frozen=True, slots=True)
class Escalation:
    """One escalation step taken."""

    alert_id: int
    level: int
    assignee: str | None


def escalate(desk: AlertDesk, policy: EscalationPolicy, now: float) -> list[Escalation]:
    """Escalate every overdue open alert by one level; returns what was done."""
    done = []
    for view in desk.views(status=AlertStatus.OPEN):
        alert = view.alert
        deadline = policy.deadlines.get(alert.severity)
        if deadline is None or alert.id is None or view.suppressed(now):
            continue
        level = view.escalation_level + 1
        if now < alert.ts + level * deadline:
            continue
        max_level = max((len(policy.chains.get(t, ())) for t in view.teams), default=0)
        if max_level and view.escalation_level >= max_level:
            continue
        assignee = policy.target(view.teams, level)
        values: dict[str, object] = {"escalation_level": level, "escalated_at": now}
        if assignee:
            values["assignee"] = assignee
        desk._update(alert.id, now, "wardwatch", "escalated",
                     f"level {level}" + (f" to {assignee}" if assignee else ""), **values)
        again = replace(alert, details={**alert.details, "escalation_level": level, "assignee": assignee})
        desk.routing.deliver(again, view.teams)
        done.append(Escalation(alert.id, level, assignee))
    return done

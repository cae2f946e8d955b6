"""The remediation plan for a budget of hours and the what-if of chosen actions, on the stored evaluation.

The planner (:func:`wardwatch.risk.plan.plan`, an exact 0/1 knapsack) chooses by each action's own risk
removed; the plan then reports the *exact* joint effect of the chosen set (:func:`~wardwatch.risk.whatif.what_if`),
so its ``risk_removed`` is the what-if difference "risk goes from A to B". Every plan is recorded in
``risk_plan_runs``. Tickets are JSON objects a ticketing system can take (title, owner, due date, devices).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wardwatch.errors import WardwatchError
from wardwatch.intel.store import KnowledgeBase
from wardwatch.risk import tables as rt
from wardwatch.risk.actions import Candidate, candidates
from wardwatch.risk.plan import plan
from wardwatch.risk.reload import load_state
from wardwatch.risk.score import RiskWeights
from wardwatch.risk.service import EvaluationReport, last_evaluation
from wardwatch.risk.whatif import DeviceRisk, Scorer, WhatIf, what_if


@dataclass(frozen=True)
class PlanResult:
    """A plan: the chosen actions, their cost, the exact risk before and after, and the marginal curve."""

    plan_id: int
    budget_hours: float
    hours: float
    risk_before: float
    risk_after: float
    estimated_removed: float
    chosen: tuple[Candidate, ...]
    marginal: tuple[tuple[float, float], ...]
    candidates: int
    created_at: float

    @property
    def risk_removed(self) -> float:
        """Exact risk removed by the chosen set (the what-if difference)."""
        return round(self.risk_before - self.risk_after, 2)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready plan."""
        return {
            "plan_id": self.plan_id, "budget_hours": self.budget_hours, "hours": self.hours,
            "risk_before": self.risk_before, "risk_after": self.risk_after, "risk_removed": self.risk_removed,
            "estimated_risk_removed": round(self.estimated_removed, 2), "candidates": self.candidates,
            "actions": [action_dict(c, self.created_at) for c in self.chosen],
            "marginal": [{"hours": h, "risk_removed": round(r, 2)} for h, r in self.marginal],
        }


def action_dict(candidate: Candidate, now: float) -> dict[str, Any]:
    """A JSON-ready action with its due date."""
    a = candidate.action
    due = dt.datetime.fromtimestamp(now, dt.UTC).date() + dt.timedelta(days=a.due_days)
    return {"id": a.id, "kind": a.kind.value, "title": a.title, "owner_team": a.owner_team,
            "effort_hours": a.effort_hours, "downtime_hours": a.downtime_hours, "risk_removed": a.risk_removed,
            "due_days": a.due_days, "due_date": due.isoformat(), "device_ids": list(a.device_ids),
            "findings": list(a.findings), "explanation": a.explanation}


def ticket(candidate: Candidate, now: float) -> dict[str, Any]:
    """One JSON ticket for an action."""
    a = action_dict(candidate, now)
    return {"summary": a["title"], "description": a["explanation"], "assignee_team": a["owner_team"],
            "due_date": a["due_date"], "priority": "P1" if candidate.action.due_days <= 14 else
            "P2" if candidate.action.due_days <= 30 else "P3", "estimate_hours": a["effort_hours"],
            "clinical_downtime_hours": a["downtime_hours"], "risk_removed": a["risk_removed"],
            "devices": a["device_ids"], "labels": ["wardwatch", a["kind"]], "external_id": a["id"]}


class Planner:
    """The evaluation with its candidate actions: the one just made (``report``), or the stored one."""

    def __init__(self, engine: sa.Engine, kb: KnowledgeBase, weights: RiskWeights,
                 report: EvaluationReport | None = None) -> None:
        self.engine = engine
        self.weights = weights
        self.devices: dict[int, DeviceRisk]
        if report is not None and report.scorer is not None:  # keep the evaluation's actions: nothing recomputed
            self.devices, self.scorer, self.candidates = report.state, report.scorer, list(report.candidates)
        else:
            self.devices, self.scorer = load_state(engine, kb, weights)
            self.candidates = candidates(self.devices.values(), self.scorer, weights)
        self.baseline = {i: self.scorer.score(d) for i, d in self.devices.items()}
        self.by_id = {c.action.id: c for c in self.candidates}

    def simulate(self, action_ids: Sequence[str]) -> WhatIf:
        """Risk before and after doing the actions ``action_ids`` (exact, joint)."""
        unknown = [i for i in action_ids if i not in self.by_id]
        if unknown:
            raise WardwatchError(f"no such action: {', '.join(unknown[:5])}")
        chosen = [self.by_id[i].effects for i in dict.fromkeys(action_ids)]
        return what_if(self.devices, chosen, self.scorer, self.baseline)

    def plan(self, hours: float, curve_points: int = 8, record: bool = True) -> PlanResult:
        """The best actions for ``hours`` of work, with the exact what-if of the chosen set."""
        if hours < 0:
            raise WardwatchError("the budget of hours must not be negative")
        actions = [c.action for c in self.candidates]
        chosen_plan = plan(actions, hours, curve_points)
        chosen = tuple(self.by_id[a.id] for a in chosen_plan.actions)
        result = what_if(self.devices, [c.effects for c in chosen], self.scorer, self.baseline)
        now = time.time()
        plan_id = 0
        if record:
            last = last_evaluation(self.engine)
            with self.engine.begin() as conn:
                plan_id = int(conn.execute(sa.insert(rt.plan_runs).returning(rt.plan_runs.c.id), {
                    "created_at": now, "evaluation_id": last["id"] if last else None, "budget_hours": hours,
                    "hours": chosen_plan.hours, "risk_before": result.before, "risk_after": result.after,
                    "actions": [action_dict(c, now) | {"device_ids": len(c.action.device_ids)} for c in chosen],
                    "marginal": [list(p) for p in chosen_plan.marginal],
                }).scalar_one())
        return PlanResult(plan_id, hours, chosen_plan.hours, result.before, result.after, chosen_plan.risk_removed,
                          chosen, chosen_plan.marginal, len(self.candidates), now)


def scorer_total(scorer: Scorer, devices: dict[int, DeviceRisk]) -> float:
    """Sum of every device's score (the plan's "risk before")."""
    return round(sum(scorer.score(d) for d in devices.values()), 2)

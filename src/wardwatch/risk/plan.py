"""The budgeted remediation planner and what-if simulation (issue 4).

Given candidate actions, each with the effort in hours it costs and the risk it removes, the planner picks
the set that removes the most risk within a budget of hours: a 0/1 knapsack, solved exactly by dynamic
programming over half-hour units. It also reports the marginal gain of more hours (the curve of the best
total risk removed against the budget), so a manager can see what another day of work buys.

Risk removed is measured per action as the drop in the summed device scores when the action's findings
are gone (``risk.score.assess`` recomputed), so it is explainable; actions are treated as independent
(the what-if simulation recomputes exactly for a chosen set).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wardwatch.domain.risk import RemediationAction

#: Budget resolution: efforts are rounded up to this many hours.
UNIT_HOURS = 0.5


@dataclass(frozen=True)
class Plan:
    """The chosen actions, what they cost and remove, and the marginal-gain curve."""

    budget_hours: float
    actions: tuple[RemediationAction, ...]
    hours: float
    risk_removed: float
    marginal: tuple[tuple[float, float], ...]  # (budget hours, best risk removed)


def _units(hours: float) -> int:
    return max(0, math.ceil(round(hours / UNIT_HOURS, 6)))


def best_subset(values: Sequence[float], weights: Sequence[int], capacity: int) -> tuple[float, list[int]]:
    """Exact 0/1 knapsack: the most total value with total weight ≤ capacity, and the chosen indexes.

    Ties are broken towards fewer units of work, then towards lower indexes (deterministic).
    """
    capacity = max(capacity, 0)
    n = len(values)
    best = [0.0] * (capacity + 1)
    keep = [[False] * (capacity + 1) for _ in range(n)]
    for i in range(n):
        w, v = weights[i], values[i]
        if v <= 0:
            continue
        for c in range(capacity, w - 1, -1):
            candidate = best[c - w] + v
            if candidate > best[c] + 1e-12:
                best[c] = candidate
                keep[i][c] = True
    chosen: list[int] = []
    c = min(range(capacity + 1), key=lambda k: (-round(best[k], 9), k))
    total = best[c]
    for i in range(n - 1, -1, -1):
        if keep[i][c]:
            chosen.append(i)
            c -= weights[i]
    return total, sorted(chosen)


def plan(actions: Sequence[RemediationAction], budget_hours: float, curve_points: int = 8) -> Plan:
    """The actions that remove the most risk within ``budget_hours`` (and the marginal-gain curve)."""
    weights = [_units(a.effort_hours) for a in actions]
    values = [a.risk_removed for a in actions]
    capacity = _units(budget_hours) if budget_hours >= 0 else 0
    total, chosen = best_subset(values, weights, capacity)
    picked = tuple(sorted((actions[i] for i in chosen), key=lambda a: (-a.risk_removed / max(a.effort_hours, 0.1),
                                                                          a.id)))
    marginal: list[tuple[float, float]] = []
    if curve_points > 0:
        top = max(capacity * 2, _units(sum(a.effort_hours for a in actions)))
        for k in range(1, curve_points + 1):
            cap = math.ceil(top * k / curve_points)
            marginal.append((cap * UNIT_HOURS, best_subset(values, weights, cap)[0]))
    hours = sum(a.effort_hours for a in picked)
    return Plan(budget_hours, picked, round(hours, 2), total, tuple(marginal))


def simulate(device_scores: dict[int, float], after_scores: dict[int, float]) -> tuple[float, float]:
    """Total risk before and after a set of actions (scores recomputed without their findings)."""
    before = round(sum(device_scores.values()), 2)
    after = round(sum(after_scores.get(d, s) for d, s in device_scores.items()), 2)
    return before, after

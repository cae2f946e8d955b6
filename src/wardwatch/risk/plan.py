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

import numpy as np

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


#: Most budget units the marginal curve explores (the DP's best-value row is this long).
CURVE_MAX_UNITS = 200_000


def _table(values: Sequence[float], weights: Sequence[int], capacity: int, keep_upto: int | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The knapsack DP (numpy, one vector step per item): best value per capacity and the keep matrix
    (for capacities up to ``keep_upto``)."""
    upto = capacity if keep_upto is None else min(keep_upto, capacity)
    best = np.zeros(capacity + 1)
    keep = np.zeros((len(values), upto + 1), dtype=bool)
    for i, (w, v) in enumerate(zip(weights, values, strict=True)):
        if v <= 0 or w > capacity:
            continue
        candidate = best[: capacity + 1 - w] + v  # computed from the previous row: each item at most once
        better = candidate > best[w:] + 1e-12
        best[w:][better] = candidate[better]
        if w <= upto:
            keep[i, w:] = better[: upto + 1 - w]
    return best, keep


def _choose(best: np.ndarray, keep: np.ndarray, weights: Sequence[int], capacity: int) -> tuple[float, list[int]]:
    scores = np.round(best[: capacity + 1], 9)
    c = int(np.flatnonzero(scores == scores.max())[0])  # the least work reaching the best value
    total = float(best[c])
    chosen: list[int] = []
    for i in range(len(weights) - 1, -1, -1):
        if keep[i, c]:
            chosen.append(i)
            c -= weights[i]
    return total, sorted(chosen)


def best_subset(values: Sequence[float], weights: Sequence[int], capacity: int) -> tuple[float, list[int]]:
    """Exact 0/1 knapsack: the most total value with total weight ≤ capacity, and the chosen indexes.

    Ties are broken towards fewer units of work, then towards lower indexes (deterministic).
    """
    capacity = max(capacity, 0)
    best, keep = _table(values, weights, capacity)
    return _choose(best, keep, weights, capacity)


def plan(actions: Sequence[RemediationAction], budget_hours: float, curve_points: int = 8) -> Plan:
    """The actions that remove the most risk within ``budget_hours`` (and the marginal-gain curve).

    One DP gives both the choice and the curve (best value at each capacity), from the budget up to all the
    work there is (at most :data:`CURVE_MAX_UNITS`, at least twice the budget).
    """
    weights = [_units(a.effort_hours) for a in actions]
    values = [a.risk_removed for a in actions]
    capacity = _units(budget_hours) if budget_hours >= 0 else 0
    top = max(capacity * 2, min(sum(weights), CURVE_MAX_UNITS), 1)
    best, keep = _table(values, weights, top, keep_upto=capacity)
    total, chosen = _choose(best, keep, weights, capacity)
    picked = tuple(sorted((actions[i] for i in chosen), key=lambda a: (-a.risk_removed / max(a.effort_hours, 0.1),
                                                                          a.id)))
    marginal: list[tuple[float, float]] = []
    for k in range(1, curve_points + 1):
        cap = math.ceil(top * k / curve_points)
        marginal.append((cap * UNIT_HOURS, float(best[cap])))
    hours = sum(a.effort_hours for a in picked)
    return Plan(budget_hours, picked, round(hours, 2), total, tuple(marginal))


def simulate(device_scores: dict[int, float], after_scores: dict[int, float]) -> tuple[float, float]:
    """Total risk before and after a set of actions (scores recomputed without their findings)."""
    before = round(sum(device_scores.values()), 2)
    after = round(sum(after_scores.get(d, s) for d, s in device_scores.items()), 2)
    return before, after

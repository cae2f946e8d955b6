"""The planner's choice equals a brute-force optimum on small random instances (issue 4, must show 4)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.domain.risk import ActionKind, RemediationAction
from wardwatch.risk.plan import UNIT_HOURS, plan


def _action(i: int, hours: float, removed: float) -> RemediationAction:
    return RemediationAction(id=f"a{i}", kind=ActionKind.PATCH, title=f"action {i}", owner_team="it",
                             effort_hours=hours, downtime_hours=0.0, risk_removed=removed, due_days=30,
                             device_ids=(i,), findings=(), explanation="")


instances = st.lists(
    st.tuples(st.integers(min_value=1, max_value=16).map(lambda u: u * UNIT_HOURS),
              st.floats(min_value=0.0, max_value=100.0, allow_nan=False)),
    min_size=0, max_size=9,
)


@settings(max_examples=150, deadline=None)
@given(instances, st.integers(min_value=0, max_value=40).map(lambda u: u * UNIT_HOURS))
def test_planner_matches_brute_force(items: list[tuple[float, float]], budget: float) -> None:
    actions = [_action(i, h, r) for i, (h, r) in enumerate(items)]
    best = 0.0
    for size in range(len(actions) + 1):
        for combo in itertools.combinations(actions, size):
            if sum(a.effort_hours for a in combo) <= budget + 1e-9:
                best = max(best, sum(a.risk_removed for a in combo))
    chosen = plan(actions, budget)
    assert chosen.hours <= budget + 1e-9
    assert abs(chosen.risk_removed - best) < 1e-6
    assert abs(sum(a.risk_removed for a in chosen.actions) - chosen.risk_removed) < 1e-6


def test_marginal_gain_never_decreases() -> None:
    actions = [_action(i, 1.0 + i % 3, 10.0 - i) for i in range(8)]
    curve = plan(actions, 4.0).marginal
    gains = [gain for _, gain in curve]
    assert gains == sorted(gains)
    assert gains[-1] == sum(a.risk_removed for a in actions)


def test_zero_budget_chooses_nothing() -> None:
    assert plan([_action(0, 1.0, 5.0)], 0.0).actions == ()

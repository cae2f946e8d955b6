"""The optional capabilities of the demo: knowledge base, risk and plan, detection.

Each is imported inside ``try/except ImportError``: a capability that is not built (or not installed)
yet gives a *skipped* step with a note naming what is missing, never a failed demo.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wardwatch.demo.run.model import StepResult, StepStatus
from wardwatch.inventory.repository import Inventory

log = logging.getLogger(__name__)


def _skipped(name: str, exc: ImportError) -> StepResult:
    missing = exc.name or str(exc)
    return StepResult(name, StepStatus.skipped, f"not available in this build ({missing} is missing)")


def count_rows(engine: sa.Engine, *tables: str) -> dict[str, int]:
    """Row counts of the tables that exist (an absent table is left out)."""
    inspector = sa.inspect(engine)
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for name in tables:
            if inspector.has_table(name):
                out[name] = int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one())
    return out


def import_intel(inventory: Inventory, builtin: Sequence[Path], cache: Path | None) -> tuple[StepResult, Any]:
    """Import the built-in demo advisories and whatever ``wardwatch intel update`` cached.

    Returns the step and the knowledge base (``None`` when intel is not available).
    """
    try:
        from wardwatch.intel.service import import_paths
        from wardwatch.intel.store import KnowledgeBase
    except ImportError as exc:
        return _skipped("intel", exc), None
    kb = KnowledgeBase(inventory.engine)
    report = import_paths(kb, list(builtin))
    cached = 0
    if cache is not None and cache.is_dir():
        extra = import_paths(kb, [cache])
        cached = len(extra.imported)
        report.rejected.extend(extra.rejected)
    figures = {"builtin_files": len(report.imported), "cached_files": cached, "rejected": len(report.rejected),
               **kb.counts()}
    if len(report.imported) < len(builtin):
        return StepResult("intel", StepStatus.failed, f"built-in advisories rejected: {report.rejected[:1]}",
                          figures), kb
    where = f" + {cached} cached feed files" if cached else " (no `wardwatch intel update` cache found)"
    return StepResult("intel", StepStatus.done, f"{len(builtin)} built-in demo advisories{where}", figures), kb


def _figures(outcome: Any) -> dict[str, Any]:
    """Numbers from whatever the risk service returned (its ``to_dict()``, a dataclass, or a mapping)."""
    data: Any = outcome
    if hasattr(outcome, "to_dict"):
        data = outcome.to_dict()
    elif dataclasses.is_dataclass(outcome) and not isinstance(outcome, type):
        data = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, int | float):
            out[str(key)] = value
        elif isinstance(value, list | tuple | dict | set):
            out[str(key)] = len(value)
    return out


#: Hours of work the demo's first plan is made for.
DEMO_PLAN_HOURS = 40.0


def evaluate_risk(inventory: Inventory, kb: Any, settings: Any) -> StepResult:
    """Findings, risk and the remediation plan (``wardwatch.risk.service.evaluate``)."""
    if kb is None:
        return StepResult("risk", StepStatus.skipped, "no knowledge base (intel is not available)")
    try:
        from wardwatch.risk.service import evaluate
    except ImportError as exc:
        return _skipped("risk", exc)
    outcome = evaluate(inventory, kb, settings)
    from wardwatch.risk.planning import Planner
    from wardwatch.risk.service import risk_weights

    # The plan a manager sees first: what one week of one engineer (40 hours) removes, recorded.
    planned = Planner(inventory.engine, kb, risk_weights(settings), outcome).plan(DEMO_PLAN_HOURS)
    figures = {**_figures(outcome), "plan_actions": len(getattr(outcome, "candidates", ()) or ()),
               "plan_chosen": len(planned.chosen), "plan_risk_before": round(planned.risk_before, 1),
               "plan_risk_after": round(planned.risk_after, 1),
               **count_rows(inventory.engine, "risk_findings", "risk_assessments",
                                                "risk_plan_runs")}
    note = (f"{figures.get('risk_findings', figures.get('findings', 0))} findings, "
            f"{figures.get('risk_assessments', 0)} risk assessments, {figures['plan_actions']} candidate actions; "
            f"a {DEMO_PLAN_HOURS:.0f}-hour plan of {figures['plan_chosen']} actions takes risk from "
            f"{figures['plan_risk_before']} to {figures['plan_risk_after']}")
    return StepResult("risk", StepStatus.done, note, figures)


def _store_alerts(engine: sa.Engine, alerts: Sequence[Any]) -> tuple[int, str]:
    """Store alerts through the alerting store when there is one, else into the ``alerts`` table."""
    try:
        from wardwatch.alerting.store import AlertStore
    except ImportError:
        pass
    else:
        return len(AlertStore(engine).record(alerts)), "alerting store"
    from wardwatch.alerting.tables import alerts as table

    table.create(engine, checkfirst=True)
    now = time.time()
    rows = [{"rule": a.rule, "severity": int(a.severity), "title": a.title[:300], "devices": list(a.devices),
             "evidence": list(a.evidence), "details": dict(a.details), "dedup_key": a.dedup_key[:300],
             "status": str(a.status), "capture_ref": a.capture_ref, "first_seen": a.ts,
             "last_seen": a.last_seen or a.ts or now, "count": a.count} for a in alerts]
    with engine.begin() as conn:
        if rows:
            conn.execute(table.insert(), rows)
    return len(rows), "alerts table"


def detect(inventory: Inventory, capture: Path) -> StepResult:
    """Detection over the capture, against the baseline and policy learned from the same inventory."""
    try:
        from wardwatch.detect.engine import detect_capture
        from wardwatch.detect.interface import DetectionContext
        from wardwatch.prevent.policy import generate
        from wardwatch.prevent.service import directory_of, learn_baseline
    except ImportError as exc:
        return _skipped("detect", exc)
    baseline = learn_baseline(inventory)
    directory = directory_of(inventory)
    ctx = DetectionContext(directory=directory, baseline=baseline, policy=generate(baseline, directory))
    alerts = detect_capture(capture, ctx)
    stored, where = _store_alerts(inventory.engine, alerts)
    by_rule: dict[str, int] = {}
    for alert in alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0) + 1
    return StepResult("detect", StepStatus.done, f"{stored} alerts ({where})", {"alerts": stored, **by_rule})

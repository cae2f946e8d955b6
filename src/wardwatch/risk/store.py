"""Persisting findings (with their workflow state and its history) and risk assessments.

Re-evaluation is idempotent: a finding is keyed by ``(device_id, fingerprint)``, an unchanged finding is not
rewritten, a finding that is no longer found becomes ``fixed`` (with a history row), one that comes back
is ``open`` again. A person's ``accepted`` or ``mitigated`` survives re-evaluation for as long as the
finding is still found. Mitigated findings no longer count in the device's score; accepted ones still do
(the risk is there, someone owns it) but get no plan action.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.finding import Finding, FindingStatus
from wardwatch.domain.risk import RiskAssessment
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.risk import tables as rt
from wardwatch.risk.findings import Scored
from wardwatch.risk.score import DeviceContext

SYSTEM_ACTOR = "wardwatch"
_BATCH = 5000


class FindingState(StrEnum):
    """Workflow state of a finding (the match's own verdict is its ``status``)."""

    OPEN = "open"
    MITIGATED = "mitigated"
    ACCEPTED = "accepted"
    FIXED = "fixed"
    NOT_AFFECTED = "not_affected"


#: States a person may set.
PERSON_STATES = frozenset({FindingState.OPEN, FindingState.MITIGATED, FindingState.ACCEPTED})
#: States whose findings count in the score.
SCORED_STATES = frozenset({FindingState.OPEN, FindingState.ACCEPTED})
_HELD = frozenset({FindingState.OPEN, FindingState.MITIGATED, FindingState.ACCEPTED})


@dataclass(frozen=True, slots=True)
class PersistSummary:
    """What one write of findings did."""

    findings: int
    opened: int
    fixed: int
    changed: int


def _resting(scored: Scored) -> FindingState:
    status = scored.finding.status
    if status in (FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED):
        return FindingState.OPEN
    return FindingState.FIXED if status is FindingStatus.FIXED else FindingState.NOT_AFFECTED


def finding_data(f: Finding, device_id: int, sla_days: int, note: str = "") -> dict[str, Any]:
    """The JSON of a finding (as :meth:`Finding.to_dict`, built without ``asdict``'s deep copies)."""
    r = f.reason
    reason = None if r is None else {
        "product_id": r.product_id, "branch": r.branch, "vendor_match": r.vendor_match,
        "product_match": r.product_match, "version_expression": r.version_expression,
        "observed_version": r.observed_version, "version_result": r.version_result}
    return {"device_id": device_id, "kind": f.kind.value, "status": f.status.value, "severity": f.severity,
            "explanation": f.explanation + note, "confidence": f.confidence, "cve": f.cve, "advisory": f.advisory,
            "cvss_score": f.cvss_score, "cvss_vector": f.cvss_vector, "matched_product": f.matched_product,
            "component": f.component, "remediations": list(f.remediations), "reason": reason, "title": f.title,
            "sla_days": sla_days}


def _row(device_id: int, s: Scored, now: float) -> dict[str, Any]:
    f = s.finding
    data = finding_data(f, device_id, s.sla_days, s.note)
    text = (f"{f.status.value}|{f.severity}|{f.cvss_score}|{f.confidence}|{s.priority}|{s.ssvc}|{s.sla_days}|"
            f"{f.title}|{f.matched_product}|{data['explanation']}|{len(f.remediations)}")
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    return {"device_id": device_id, "fingerprint": s.fingerprint, "kind": f.kind.value, "status": f.status.value,
            "severity": (f.severity or "")[:16], "cve": f.cve, "advisory": (f.advisory or None),
            "title": (f.title or f.cve or "")[:300], "cvss_score": f.cvss_score, "priority": s.priority,
            "ssvc": s.ssvc, "explanation": data["explanation"], "data": data, "digest": digest, "updated_at": now}


def persist_findings(conn: sa.Connection, found: Iterable[tuple[int, Scored]], device_ids: Iterable[int],
                     now: float | None = None) -> tuple[PersistSummary, dict[tuple[int, str], FindingState]]:
    """Write this evaluation's findings for ``device_ids``; return the summary and every finding's state."""
    now = time.time() if now is None else now
    scope = set(device_ids)
    existing: dict[tuple[int, str], tuple[int, str, str]] = {}
    for row in conn.execute(sa.select(rt.findings.c.id, rt.findings.c.device_id, rt.findings.c.fingerprint,
                                      rt.findings.c.state, rt.findings.c.digest)):
        if row.device_id in scope:
            existing[(int(row.device_id), row.fingerprint)] = (int(row.id), row.state, row.digest)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    states: dict[tuple[int, str], FindingState] = {}
    opened = fixed = 0
    for device_id, s in found:
        key = (device_id, s.fingerprint)
        if key in states:
            continue
        values = _row(device_id, s, now)
        resting = _resting(s)
        old = existing.get(key)
        if old is None:
            inserts.append({**values, "state": resting.value, "first_seen": now})
            states[key] = resting
            opened += resting is FindingState.OPEN
            continue
        row_id, old_state, old_digest = old
        state = FindingState(old_state)
        if resting is FindingState.OPEN and state not in _HELD:
            state = FindingState.OPEN
            opened += 1
        elif resting is not FindingState.OPEN:
            state = resting
        states[key] = state
        if state.value != old_state:
            history.append({"finding_id": row_id, "ts": now, "old_state": old_state, "new_state": state.value,
                            "actor": SYSTEM_ACTOR, "note": "found again" if state is FindingState.OPEN
                            else f"the advisory now says {s.finding.status.value}"})
        if state.value != old_state or values["digest"] != old_digest:
            updates.append({**values, "state": state.value, "_id": row_id})
    gone = [(key, v) for key, v in existing.items() if key not in states]
    for (device_id, fp), (row_id, old_state, _) in gone:
        states[(device_id, fp)] = FindingState(old_state)
        if old_state in _HELD:
            fixed += 1
            states[(device_id, fp)] = FindingState.FIXED
            history.append({"finding_id": row_id, "ts": now, "old_state": old_state, "new_state": "fixed",
                            "actor": SYSTEM_ACTOR, "note": "no longer found"})
            updates.append({"_id": row_id, "state": "fixed", "updated_at": now})
    for start in range(0, len(inserts), _BATCH):
        conn.execute(sa.insert(rt.findings), inserts[start:start + _BATCH])
    _update(conn, [u for u in updates if "data" in u])
    _update(conn, [u for u in updates if "data" not in u])
    for start in range(0, len(history), _BATCH):
        conn.execute(sa.insert(rt.finding_history), history[start:start + _BATCH])
    summary = PersistSummary(len(states), opened, fixed, len(updates))
    return summary, states


def _update(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = [k for k in rows[0] if k != "_id"]
    stmt = sa.update(rt.findings).where(rt.findings.c.id == sa.bindparam("_id")).values(
        {c: sa.bindparam(c) for c in columns})
    for start in range(0, len(rows), _BATCH):
        conn.execute(stmt, rows[start:start + _BATCH])


def persist_assessments(conn: sa.Connection,
                        assessed: Sequence[tuple[RiskAssessment, DeviceContext, dict[str, Any]]],
                        device_ids: Iterable[int], now: float | None = None) -> None:
    """Replace the stored assessments of ``device_ids`` with ``assessed`` (``extra`` joins the context)."""
    now = time.time() if now is None else now
    ids = list(device_ids)
    for start in range(0, len(ids), 2000):
        conn.execute(sa.delete(rt.assessments).where(rt.assessments.c.device_id.in_(ids[start:start + 2000])))
    rows = [{"device_id": a.device_id, "score": a.score, "level": a.level.value, "likelihood": a.likelihood,
             "impact": a.impact,
             "factors": [{"name": f.name, "value": f.value, "contribution": f.contribution, "source": f.source}
                         for f in a.factors],
             "context": {"device_id": ctx.device_id, "criticality": ctx.criticality,
                         "criticality_source": ctx.criticality_source, "handles_phi": ctx.handles_phi,
                         "internet_exposed": ctx.internet_exposed, "controls": list(ctx.controls), **extra},
             "computed_at": now} for a, ctx, extra in assessed if a.device_id is not None]
    for start in range(0, len(rows), _BATCH):
        conn.execute(sa.insert(rt.assessments), rows[start:start + _BATCH])


def set_state(engine: sa.Engine, finding_id: int, state: str, actor: str, note: str = "") -> None:
    """A person sets a finding's workflow state (open, mitigated or accepted), with a history row."""
    try:
        wanted = FindingState(state)
    except ValueError:
        raise WardwatchError(f"not a finding state: {state!r} (open, mitigated, accepted)") from None
    if wanted not in PERSON_STATES:
        raise WardwatchError(f"a person may set open, mitigated or accepted, not {state!r}")
    with engine.begin() as conn:
        old = conn.execute(sa.select(rt.findings.c.state).where(rt.findings.c.id == finding_id)).scalar()
        if old is None:
            raise NotFoundError(f"no finding {finding_id}")
        if old == wanted.value:
            return
        if old not in {s.value for s in _HELD}:
            raise WardwatchError(f"finding {finding_id} is {old}; only an open finding can change state")
        now = time.time()
        conn.execute(sa.update(rt.findings).where(rt.findings.c.id == finding_id).values(
            state=wanted.value, updated_at=now))
        conn.execute(sa.insert(rt.finding_history).values(finding_id=finding_id, ts=now, old_state=old,
                                                          new_state=wanted.value, actor=actor[:128],
                                                          note=note[:500]))


def history(engine: sa.Engine, finding_id: int) -> list[dict[str, Any]]:
    """State changes of one finding, oldest first."""
    h = rt.finding_history
    with engine.connect() as conn:
        rows = conn.execute(sa.select(h).where(h.c.finding_id == finding_id).order_by(h.c.ts, h.c.id))
        return [{"ts": r.ts, "old_state": r.old_state, "new_state": r.new_state, "actor": r.actor, "note": r.note}
                for r in rows]

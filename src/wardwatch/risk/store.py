"""Persisting findings (with their workflow state and its history) and risk assessments.

Re-evaluation is idempotent: a finding is keyed by ``(device_id, fingerprint)``, an unchanged finding is not
rewritten, a finding that is no longer found becomes ``fixed`` (with a history row), one that comes back
is ``open`` again. A person's ``accepted`` or ``mitigated`` survives re-evaluation for as long as the
finding is still found. Mitigated findings no longer count in the device's score; accepted ones still do
(the risk is there, someone owns it) but get no plan action.

A finding row's ``data`` is the finding's JSON (:func:`finding_data`) without its explanation, which has its
own column; rows are written in bulk (:mod:`wardwatch.risk.bulk`), the JSON built once per shared finding.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.finding import Finding, FindingStatus
from wardwatch.domain.risk import RiskAssessment
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.risk import tables as rt
from wardwatch.risk.bulk import delete_devices, insert_rows, json_rest, json_with_id, select_rows, update_rows
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


#: Columns of a finding row, in the order :class:`_Template` and the bulk writes use.
_VALUE_COLUMNS = ("fingerprint", "kind", "status", "severity", "cve", "advisory", "title", "cvss_score", "priority",
                  "ssvc", "explanation")
_INSERT_COLUMNS = ("device_id", *_VALUE_COLUMNS, "data", "digest", "state", "first_seen", "updated_at")
_UPDATE_COLUMNS = (*_VALUE_COLUMNS[1:], "data", "digest", "state", "updated_at")


@dataclass(frozen=True, slots=True)
class _Template:
    """What every device's row of one :class:`Scored` shares: the columns, the JSON after the device id, the
    digest of the content and the resting state."""

    values: tuple[Any, ...]
    rest: str
    digest: str
    resting: FindingState


def _template(s: Scored) -> _Template:
    f = s.finding
    data = finding_data(f, 0, s.sla_days, s.note)
    rest = json_rest({k: v for k, v in data.items() if k != "explanation"})  # the explanation has its column
    digest = hashlib.sha1(f"{s.priority}|{s.ssvc}|{rest}".encode(), usedforsecurity=False).hexdigest()
    values = (s.fingerprint, f.kind.value, f.status.value, (f.severity or "")[:16], f.cve, f.advisory or None,
              (f.title or f.cve or "")[:300], f.cvss_score, s.priority, s.ssvc, data["explanation"])
    return _Template(values, rest, digest, _resting(s))


def persist_findings(conn: sa.Connection, found: Iterable[tuple[int, Sequence[Scored]]], device_ids: Iterable[int],
                     now: float | None = None) -> tuple[PersistSummary, dict[tuple[int, str], FindingState]]:
    """Write this evaluation's findings for ``device_ids``.

    ``found`` gives each device's findings (distinct fingerprints per device); devices of one model share
    the same :class:`Scored` objects, whose row content is built once. Returns the summary and the states
    that differ from a finding's resting state (open when the match says (possibly) affected, else fixed or
    not affected): the findings a person accepted or mitigated that are still found.
    """
    now = time.time() if now is None else now
    scope = set(device_ids)
    existing: dict[tuple[int, str], tuple[int, str, str]] = {}
    for row_id, device_id, fp, state, digest in select_rows(
            conn, "SELECT id, device_id, fingerprint, state, digest FROM risk_findings"):
        if device_id in scope:
            existing[(int(device_id), fp)] = (int(row_id), state, digest)
    templates: dict[int, _Template] = {}
    updates: list[tuple[Any, ...]] = []
    history: list[dict[str, Any]] = []
    exceptions: dict[tuple[int, str], FindingState] = {}
    counts = {"found": 0, "opened": 0}

    def new_rows() -> Iterator[tuple[Any, ...]]:
        for device_id, scored in found:
            for s in scored:
                tpl = templates.get(id(s))
                if tpl is None:
                    tpl = templates[id(s)] = _template(s)
                counts["found"] += 1
                old = existing.pop((device_id, s.fingerprint), None)
                if old is None:
                    counts["opened"] += tpl.resting is FindingState.OPEN
                    yield (device_id, *tpl.values, json_with_id(device_id, tpl.rest), tpl.digest, tpl.resting.value,
                           now, now)
                    continue
                row_id, old_state, old_digest = old
                state = FindingState(old_state)
                if tpl.resting is FindingState.OPEN and state not in _HELD:
                    state = FindingState.OPEN
                    counts["opened"] += 1
                elif tpl.resting is not FindingState.OPEN:
                    state = tpl.resting
                if state is not tpl.resting:
                    exceptions[(device_id, s.fingerprint)] = state
                if state.value != old_state:
                    history.append({"finding_id": row_id, "ts": now, "old_state": old_state, "new_state": state.value,
                                    "actor": SYSTEM_ACTOR, "note": "found again" if state is FindingState.OPEN
                                    else f"the advisory now says {s.finding.status.value}"})
                if state.value != old_state or tpl.digest != old_digest:
                    updates.append((*tpl.values[1:], json_with_id(device_id, tpl.rest), tpl.digest, state.value, now,
                                    row_id))

    insert_rows(conn, rt.findings, _INSERT_COLUMNS, new_rows())
    changed = len(updates)
    update_rows(conn, rt.findings, _UPDATE_COLUMNS, updates)
    fixed = 0
    gone: list[tuple[Any, ...]] = []
    for (_device_id, _fp), (row_id, old_state, _) in existing.items():  # no longer found
        if old_state in _HELD:
            fixed += 1
            history.append({"finding_id": row_id, "ts": now, "old_state": old_state, "new_state": "fixed",
                            "actor": SYSTEM_ACTOR, "note": "no longer found"})
            gone.append(("fixed", now, row_id))
    update_rows(conn, rt.findings, ("state", "updated_at"), gone)
    for start in range(0, len(history), _BATCH):
        conn.execute(sa.insert(rt.finding_history), history[start:start + _BATCH])
    summary = PersistSummary(counts["found"] + len(existing), counts["opened"], fixed, changed + len(gone))
    return summary, exceptions


def context_data(ctx: DeviceContext, extra: dict[str, Any]) -> dict[str, Any]:
    """The stored JSON of a device's context (what its score read) and ``extra`` (vendor, model, clinical)."""
    return {"device_id": ctx.device_id, "criticality": ctx.criticality, "criticality_source": ctx.criticality_source,
            "handles_phi": ctx.handles_phi, "internet_exposed": ctx.internet_exposed, "controls": list(ctx.controls),
            **extra}


_ASSESSMENT_COLUMNS = ("device_id", "score", "level", "likelihood", "impact", "factors", "context", "computed_at")


def persist_assessments(conn: sa.Connection,
                        assessed: Iterable[tuple[RiskAssessment, DeviceContext, dict[str, Any], Sequence[int]]],
                        device_ids: Sequence[int], now: float | None = None, *, everything: bool = False) -> None:
    """Replace the stored assessments of ``device_ids`` with ``assessed``: each an assessment, the context it
    read, ``extra`` joined to the context, and the ids of the devices it holds for (identical devices share
    one assessment). ``everything``: ``device_ids`` is the whole inventory."""
    now = time.time() if now is None else now
    delete_devices(conn, rt.assessments, device_ids, everything)

    def rows() -> Iterator[tuple[Any, ...]]:
        for a, ctx, extra, members in assessed:
            factors = json.dumps([{"name": f.name, "value": f.value, "contribution": f.contribution,
                                   "source": f.source} for f in a.factors])
            rest = json_rest(context_data(ctx, extra))
            for device_id in members:
                yield (device_id, a.score, a.level.value, a.likelihood, a.impact, factors,
                       json_with_id(device_id, rest), now)

    insert_rows(conn, rt.assessments, _ASSESSMENT_COLUMNS, rows())


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

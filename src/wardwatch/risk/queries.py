"""Read helpers over the stored findings and assessments, returning plain dicts (CLI and web layer).

Their signatures follow :class:`wardwatch.web.services.Extensions`: ``departments`` of ``None`` means every
department, a tuple limits the result to devices whose ``department`` attribute is one of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wardwatch.inventory import tables as t
from wardwatch.risk import tables as rt

#: Severity words, most severe first (CVSS qualitative ratings and hygiene levels share them).
SEVERITY_ORDER = ("critical", "high", "medium", "low", "none", "unknown")
OPEN_STATES = ("open", "accepted", "mitigated")


def _in_departments(departments: tuple[str, ...] | None) -> list[sa.ColumnElement[bool]]:
    if departments is None:
        return []
    scoped = sa.select(t.attributes.c.device_id).where(t.attributes.c.name == "department",
                                                       t.attributes.c.value.in_(list(departments)))
    return [rt.findings.c.device_id.in_(scoped)]


#: The columns a finding list reads; ``data`` as text, parsed once per finding template.
_COLUMNS = (rt.findings.c.id, rt.findings.c.device_id, rt.findings.c.kind, rt.findings.c.cve, rt.findings.c.advisory,
            rt.findings.c.status, rt.findings.c.state, rt.findings.c.severity, rt.findings.c.cvss_score,
            rt.findings.c.priority, rt.findings.c.ssvc, rt.findings.c.title, rt.findings.c.explanation,
            rt.findings.c.first_seen, rt.findings.c.updated_at, rt.findings.c.fingerprint, rt.findings.c.digest,
            sa.cast(rt.findings.c.data, sa.Text).label("data_text"))


def _data(row: Any, memo: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """The row's finding JSON: rows of one template (fingerprint and content digest) differ only in the
    device id, which the list takes from its column, so each template's JSON is parsed once."""
    key = (row.fingerprint, row.digest)
    found = memo.get(key)
    if found is None:
        found = memo[key] = json.loads(row.data_text) if row.data_text else {}
    return found


def finding_dict(row: Any, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """One stored finding as JSON: device_id, kind, cve, advisory, status, state, severity, explanation ..."""
    data = (row.data or {}) if data is None else data
    return {
        "id": row.id, "device_id": row.device_id, "kind": row.kind, "cve": row.cve, "advisory": row.advisory,
        "status": row.status, "state": row.state, "severity": row.severity.lower(), "cvss": row.cvss_score,
        "priority": row.priority, "ssvc": row.ssvc, "title": row.title, "explanation": row.explanation,
        "component": data.get("component"), "matched_product": data.get("matched_product", ""),
        "confidence": data.get("confidence"), "remediations": data.get("remediations", []),
        "sla_days": data.get("sla_days"), "first_seen": row.first_seen, "updated_at": row.updated_at,
    }


def list_findings(engine: sa.Engine, *, device_id: int | None = None, statuses: Sequence[str] = (),
                  departments: tuple[str, ...] | None = None, limit: int | None = None, offset: int = 0,
                  severity: str | None = None) -> list[dict[str, Any]]:
    """Findings, most urgent first; ``statuses`` filters on the match status or the workflow state,
    ``severity`` on the severity word (case-insensitive); ``limit``/``offset`` page through them."""
    f = rt.findings
    query = sa.select(*_COLUMNS).where(*_filters(device_id, statuses, departments, severity)).order_by(
        f.c.priority.desc(), f.c.id)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    memo: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as conn:
        return [finding_dict(r, _data(r, memo)) for r in conn.execute(query)]


def count_findings(engine: sa.Engine, *, device_id: int | None = None, statuses: Sequence[str] = (),
                   departments: tuple[str, ...] | None = None, severity: str | None = None) -> int:
    """How many findings :func:`list_findings` would list without a limit."""
    query = sa.select(sa.func.count()).select_from(rt.findings).where(
        *_filters(device_id, statuses, departments, severity))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _filters(device_id: int | None, statuses: Sequence[str], departments: tuple[str, ...] | None,
             severity: str | None) -> list[sa.ColumnElement[bool]]:
    f = rt.findings
    where = _in_departments(departments)
    if device_id is not None:
        where.append(f.c.device_id == device_id)
    if statuses:
        where.append(sa.or_(f.c.status.in_(list(statuses)), f.c.state.in_(list(statuses))))
    if severity:
        where.append(sa.func.lower(f.c.severity) == severity.lower())
    return where


def findings_for(engine: sa.Engine, device_id: int) -> list[dict[str, Any]]:
    """Every finding of one device, most urgent first."""
    return list_findings(engine, device_id=device_id)


def all_findings(engine: sa.Engine, departments: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Every finding in scope."""
    return list_findings(engine, departments=departments)


def risk_for(engine: sa.Engine, device_id: int) -> dict[str, Any] | None:
    """The stored assessment of one device (score, level, likelihood, impact, factors), or None."""
    a = rt.assessments
    with engine.connect() as conn:
        row = conn.execute(sa.select(a).where(a.c.device_id == device_id)).first()
    if row is None:
        return None
    return {"device_id": row.device_id, "score": row.score, "level": row.level, "likelihood": row.likelihood,
            "impact": row.impact, "factors": list(row.factors), "context": dict(row.context),
            "computed_at": row.computed_at}


def all_risks(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every stored assessment, highest score first."""
    a = rt.assessments
    with engine.connect() as conn:
        rows = conn.execute(sa.select(a).order_by(a.c.score.desc(), a.c.device_id))
        return [{"device_id": r.device_id, "score": r.score, "level": r.level, "likelihood": r.likelihood,
                 "impact": r.impact, "factors": list(r.factors), "context": dict(r.context)} for r in rows]


def findings_by_severity(engine: sa.Engine, departments: tuple[str, ...] | None) -> list[tuple[str, int]]:
    """(severity, count) of open findings that are (possibly) affecting, most severe first."""
    f = rt.findings
    query = (sa.select(sa.func.lower(f.c.severity), sa.func.count())
             .where(f.c.state.in_(OPEN_STATES), f.c.status.in_(("affected", "possibly_affected")),
                    *_in_departments(departments))
             .group_by(sa.func.lower(f.c.severity)))
    with engine.connect() as conn:
        counts = {str(sev or "unknown"): int(n) for sev, n in conn.execute(query)}
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def devices_with_open_problems(engine: sa.Engine, departments: tuple[str, ...] | None,
                               limit: int) -> list[dict[str, Any]]:
    """Devices with open findings, riskiest first: id, score, level, open findings, worst finding."""
    f, a = rt.findings, rt.assessments
    counts = (sa.select(f.c.device_id, sa.func.count().label("open"), sa.func.max(f.c.priority).label("worst"))
              .where(f.c.state == "open", f.c.status.in_(("affected", "possibly_affected")),
                     *_in_departments(departments))
              .group_by(f.c.device_id).subquery())
    query = (sa.select(counts.c.device_id, counts.c.open, counts.c.worst, a.c.score, a.c.level)
             .join(a, a.c.device_id == counts.c.device_id, isouter=True)
             .order_by(sa.func.coalesce(a.c.score, 0).desc(), counts.c.worst.desc(), counts.c.device_id)
             .limit(limit))
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        titles = dict(conn.execute(
            sa.select(f.c.device_id, f.c.title).where(f.c.device_id.in_([r.device_id for r in rows]),
                                                       f.c.state == "open")
            .order_by(f.c.device_id, f.c.priority)).all())  # the last (highest priority) wins
    for r in rows:
        out.append({"device_id": r.device_id, "score": r.score or 0.0, "level": r.level or "low",
                    "open_findings": int(r.open), "worst": titles.get(r.device_id, ""),
                    "href": f"/devices/{r.device_id}"})
    return out


def risk_by(engine: sa.Engine, attribute: str, departments: tuple[str, ...] | None) -> list[tuple[str, float, int]]:
    """(attribute value, mean score, devices) over the stored assessments, highest mean first."""
    a, attrs = rt.assessments, t.attributes
    where: list[sa.ColumnElement[bool]] = [attrs.c.name == attribute]
    if departments is not None:
        dept = sa.select(t.attributes.c.device_id).where(t.attributes.c.name == "department",
                                                         t.attributes.c.value.in_(list(departments)))
        where.append(a.c.device_id.in_(dept))
    query = (sa.select(attrs.c.value, sa.func.avg(a.c.score), sa.func.count())
             .join(attrs, attrs.c.device_id == a.c.device_id).where(*where).group_by(attrs.c.value)
             .order_by(sa.func.avg(a.c.score).desc()))
    with engine.connect() as conn:
        return [(str(v), round(float(m or 0.0), 1), int(n)) for v, m, n in conn.execute(query)]


def latest_plan(engine: sa.Engine) -> list[dict[str, Any]] | None:
    """The actions of the newest plan run, or None when no plan was made."""
    p = rt.plan_runs
    with engine.connect() as conn:
        row = conn.execute(sa.select(p.c.actions).order_by(p.c.id.desc()).limit(1)).first()
    return list(row.actions) if row is not None else None

"""Evaluate the inventory against the knowledge base: findings, scores, remediation actions (issue 4).

:func:`evaluate` matches every device (vendor, model, firmware or software) and every SBOM attached to a
device model against the knowledge base, adds hygiene findings from facts and flows (and MDS2
contradictions), enriches each finding with CISA KEV, FIRST EPSS and CISA SSVC, persists findings
idempotently, scores every device and lists the candidate remediation actions. :func:`ensure_fresh`
re-evaluates only when the inventory, the knowledge base, a person's finding decision or the ``[risk]``
settings changed since the last evaluation. :func:`load_state` rebuilds the planner's input from the stored
evaluation without matching again.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.advisory import Mds2Profile, Sbom
from wardwatch.domain.device import Device
from wardwatch.domain.finding import Finding, FindingStatus
from wardwatch.domain.risk import RiskAssessment
from wardwatch.intel.component_match import ComponentMatcher
from wardwatch.intel.match import Matcher
from wardwatch.intel.normalize import vendor_key
from wardwatch.intel.store import KnowledgeBase
from wardwatch.intel.tables import imports as intel_imports
from wardwatch.inventory import tables as t
from wardwatch.risk import tables as rt
from wardwatch.risk.actions import Candidate, candidates
from wardwatch.risk.context import ContextBuilder, DeviceView, load_devices, load_views
from wardwatch.risk.findings import EnrichCache, IntelFacts, Scored, enrich, finding_from_dict
from wardwatch.risk.hygiene import hygiene_findings
from wardwatch.risk.score import DeviceContext, RiskWeights
from wardwatch.risk.store import SCORED_STATES, SYSTEM_ACTOR, FindingState, persist_assessments, persist_findings
from wardwatch.risk.whatif import DeviceRisk, Scorer

#: Bumped when the evaluation's logic changes, so stored results are recomputed.
LOGIC_VERSION = "1"


@dataclass
class EvaluationReport:
    """What one evaluation found, scored and proposed."""

    evaluation_id: int
    devices: int
    findings: int
    opened: int
    fixed: int
    by_status: dict[str, int]
    seconds: float
    risk_total: float
    assessments: dict[int, RiskAssessment] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    state: dict[int, DeviceRisk] = field(default_factory=dict)
    scorer: Scorer | None = None


def risk_weights(settings: Any) -> RiskWeights:
    """The ``[risk]`` section of the settings (defaults when absent or when no settings are given)."""
    if settings is None or not hasattr(settings, "section"):
        return RiskWeights()
    section: RiskWeights = settings.section("risk", RiskWeights)
    return section


def stamp(engine: sa.Engine, weights: RiskWeights) -> str:
    """What an evaluation depends on: the last ingest, the knowledge base, people's decisions, the settings."""
    with engine.connect() as conn:
        ingest = conn.execute(sa.select(sa.func.max(t.ingest_runs.c.id))).scalar() or 0
        imported = conn.execute(sa.select(sa.func.max(intel_imports.c.id), sa.func.count())).one()
        decided = conn.execute(sa.select(sa.func.max(rt.finding_history.c.id)).where(
            rt.finding_history.c.actor != SYSTEM_ACTOR)).scalar() or 0
    digest = hashlib.sha1(weights.model_dump_json().encode(), usedforsecurity=False).hexdigest()[:12]
    return f"v{LOGIC_VERSION}|i{ingest}|k{imported[0] or 0}.{imported[1]}|p{decided}|s{digest}"


def last_evaluation(engine: sa.Engine) -> dict[str, Any] | None:
    """The newest evaluation row, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(rt.evaluations).order_by(rt.evaluations.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row is not None else None


def is_stale(engine: sa.Engine, weights: RiskWeights) -> bool:
    """True when nothing was evaluated yet or something the evaluation read has changed since."""
    last = last_evaluation(engine)
    return last is None or last["stamp"] != stamp(engine, weights)


def ensure_fresh(inventory: Any, kb: KnowledgeBase, settings: Any = None) -> EvaluationReport | None:
    """Evaluate when stale; return the report, or None when the stored results are current."""
    if is_stale(inventory.engine, risk_weights(settings)):
        return evaluate(inventory, kb, settings)
    return None


def _model_key(vendor: str, model: str) -> tuple[str, str]:
    return vendor_key(vendor), " ".join(model.casefold().split())


def _by_model(devices: Sequence[Device]) -> dict[tuple[str, str], list[Device]]:
    out: dict[tuple[str, str], list[Device]] = defaultdict(list)
    for d in devices:
        vendor, model = d.value("vendor"), d.value("model")
        if vendor and model and d.id is not None:
            out[_model_key(vendor, model)].append(d)
    return out


def match_findings(devices: Sequence[Device], kb: KnowledgeBase, sboms: Sequence[Sbom]) -> list[Finding]:
    """Advisory matches of every device and of every SBOM attached to a device's model."""
    advisories = kb.advisories()
    found = Matcher(advisories).match_devices(devices)
    if sboms:
        models = _by_model(devices)
        components = ComponentMatcher(advisories)
        for sbom in sboms:
            members = models.get(_model_key(sbom.vendor, sbom.model), [])
            if members:
                template = components.match_sbom(sbom)
                found.extend(replace(f, device_id=d.id) for d in members for f in template)
    return found


def hygiene(views: Sequence[DeviceView], profiles: Sequence[Mds2Profile]) -> list[Finding]:
    """Hygiene findings of every device (MDS2 contradictions where the model has a form)."""
    by_model = {_model_key(p.vendor, p.model): p.capabilities for p in profiles}
    out: list[Finding] = []
    for view in views:
        vendor, model = view.device.value("vendor"), view.device.value("model")
        mds2 = by_model.get(_model_key(vendor, model)) if vendor and model else None
        out.extend(hygiene_findings(view.hygiene_context(), mds2))
    return out


def intel_facts(kb: KnowledgeBase, cves: Sequence[str]) -> IntelFacts:
    """KEV, EPSS (of ``cves`` only) and SSVC from the knowledge base."""
    return IntelFacts(kev=kb.kev(), epss=kb.epss(sorted(set(cves))), ssvc=kb.ssvc())


def evaluate(inventory: Any, kb: KnowledgeBase, settings: Any = None, *,
             devices: Sequence[Device] | None = None) -> EvaluationReport:
    """Match, check hygiene, enrich, persist findings, score every device, list candidate actions."""
    started = time.time()
    weights = risk_weights(settings)
    engine: sa.Engine = inventory.engine
    current = stamp(engine, weights)
    devices = load_devices(engine) if devices is None else list(devices)
    views = load_views(engine, devices)
    builder = ContextBuilder(weights)
    contexts = {v.id: builder.context(v) for v in views}
    raw = match_findings(devices, kb, kb.sboms()) + hygiene(views, kb.mds2_profiles())
    intel = intel_facts(kb, [f.cve for f in raw if f.cve])
    enrichment = intel.enrichment()
    scored: list[tuple[int, Scored]] = []
    cache: EnrichCache = {}
    for f in raw:
        if isinstance(f.device_id, int) and f.device_id in contexts:
            scored.append((f.device_id, enrich(f, contexts[f.device_id], intel, enrichment, weights, cache)))
    ids = [v.id for v in views]
    with engine.begin() as conn:
        summary, states = persist_findings(conn, scored, ids, started)
    state = _device_risks(views, contexts, scored, states, builder)
    scorer = Scorer(weights, enrichment)
    assessments = {i: scorer.assess(d.ctx, d.scored) for i, d in state.items()}
    proposed = candidates(state.values(), scorer, weights)
    by_status: dict[str, int] = defaultdict(int)
    for _, s in scored:
        by_status[s.finding.status.value] += 1
    with engine.begin() as conn:
        persist_assessments(conn, [(a, state[i].ctx, _extra(state[i])) for i, a in assessments.items()], ids,
                            started)
        evaluation_id = conn.execute(sa.insert(rt.evaluations).returning(rt.evaluations.c.id), {
            "started_at": started, "finished_at": time.time(), "stamp": current, "devices": len(ids),
            "findings": summary.findings, "opened": summary.opened, "fixed": summary.fixed,
            "actions": [_action_summary(c) for c in sorted(proposed, key=lambda c: -c.action.risk_removed)[:500]],
        }).scalar_one()
    return EvaluationReport(int(evaluation_id), len(ids), len(scored), summary.opened, summary.fixed,
                            dict(by_status), round(time.time() - started, 3),
                            round(sum(a.score for a in assessments.values()), 2), assessments, proposed, state, scorer)


def _extra(device: DeviceRisk) -> dict[str, Any]:
    return {"vendor": device.vendor, "model": device.model, "clinical": device.clinical}


def _action_summary(c: Candidate) -> dict[str, Any]:
    a = c.action
    return {"id": a.id, "kind": a.kind.value, "title": a.title, "owner_team": a.owner_team,
            "effort_hours": a.effort_hours, "downtime_hours": a.downtime_hours, "risk_removed": a.risk_removed,
            "due_days": a.due_days, "devices": len(a.device_ids)}


def _device_risks(views: Sequence[DeviceView], contexts: Mapping[int, DeviceContext],
                  scored: Sequence[tuple[int, Scored]], states: Mapping[tuple[int, str], FindingState],
                  builder: ContextBuilder) -> dict[int, DeviceRisk]:
    out = {v.id: DeviceRisk(v.id, contexts[v.id], clinical=builder.clinical(v.device),
                            vendor=v.device.value("vendor") or "", model=v.device.value("model") or "")
           for v in views}
    open_fps: dict[int, set[str]] = defaultdict(set)
    seen: set[tuple[int, str]] = set()
    for device_id, s in scored:
        key = (device_id, s.fingerprint)
        if key in seen:
            continue
        seen.add(key)
        st = states.get(key)
        if st in SCORED_STATES and s.active:
            out[device_id].scored.append(s)
        if st is FindingState.OPEN and s.active:
            open_fps[device_id].add(s.fingerprint)
    for device_id, fps in open_fps.items():
        out[device_id].open = frozenset(fps)
    return out


def load_state(engine: sa.Engine, kb: KnowledgeBase, weights: RiskWeights) -> tuple[dict[int, DeviceRisk], Scorer]:
    """The planner's input rebuilt from the stored evaluation (assessment contexts and findings)."""
    devices: dict[int, DeviceRisk] = {}
    cves: set[str] = set()
    with engine.connect() as conn:
        for row in conn.execute(sa.select(rt.assessments.c.device_id, rt.assessments.c.context)):
            ctx = dict(row.context)
            extra = {k: ctx.pop(k, None) for k in ("vendor", "model", "clinical")}
            ctx["controls"] = tuple(ctx.get("controls") or ())
            devices[int(row.device_id)] = DeviceRisk(int(row.device_id), DeviceContext(**ctx),
                                                     clinical=bool(extra["clinical"]),
                                                     vendor=extra["vendor"] or "", model=extra["model"] or "")
        query = sa.select(rt.findings.c.device_id, rt.findings.c.fingerprint, rt.findings.c.state,
                          rt.findings.c.priority, rt.findings.c.ssvc, rt.findings.c.data).where(
            rt.findings.c.state.in_([s.value for s in SCORED_STATES]))
        open_fps: dict[int, set[str]] = defaultdict(set)
        for frow in conn.execute(query):
            device = devices.get(int(frow.device_id))
            if device is None:
                continue
            finding = finding_from_dict(dict(frow.data))
            if finding.status not in (FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED):
                continue
            if finding.cve:
                cves.add(finding.cve)
            sla = int(frow.data.get("sla_days", 90))
            device.scored.append(Scored(frow.fingerprint, finding, frow.priority, frow.ssvc, sla))
            if frow.state == FindingState.OPEN.value:
                open_fps[device.device_id].add(frow.fingerprint)
    for device_id, fps in open_fps.items():
        devices[device_id].open = frozenset(fps)
    return devices, Scorer(weights, intel_facts(kb, sorted(cves)).enrichment())

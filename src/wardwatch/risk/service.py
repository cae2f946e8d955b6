"""Evaluate the inventory against the knowledge base: findings, scores, remediation actions (issue 4).

:func:`evaluate` matches every device (vendor, model, firmware or software) and every SBOM attached to a
device model against the knowledge base, adds hygiene findings from facts and flows (and MDS2
contradictions), enriches each finding with CISA KEV, FIRST EPSS and CISA SSVC, persists findings
idempotently, scores every device and lists the candidate remediation actions. :func:`ensure_fresh`
re-evaluates only when the inventory, the knowledge base, a person's finding decision or the ``[risk]``
settings changed since the last evaluation. :func:`wardwatch.risk.reload.load_state` rebuilds the planner's
input from the stored evaluation without matching again.

At scale (100 000 devices) the work that gives the same result for every device of a group is done once per
group: matching per (vendor, model, version), enrichment per (finding, context facts), scores and action
costs per profile of identical devices; findings and assessments are written in bulk.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.device import Device
from wardwatch.domain.risk import RiskAssessment
from wardwatch.intel.store import KnowledgeBase
from wardwatch.intel.tables import imports as intel_imports
from wardwatch.inventory import tables as t
from wardwatch.risk import tables as rt
from wardwatch.risk.actions import Candidate, candidates
from wardwatch.risk.assemble import Assembler, Enricher, cves_of
from wardwatch.risk.context import ContextBuilder, load_devices, load_views
from wardwatch.risk.findings import IntelFacts
from wardwatch.risk.profiles import ProfileBuilder
from wardwatch.risk.score import RiskWeights
from wardwatch.risk.store import SYSTEM_ACTOR, FindingState, persist_assessments, persist_findings
from wardwatch.risk.whatif import DeviceRisk, Scorer

#: Bumped when the evaluation's logic changes, so stored results are recomputed (2: digest of the whole row).
LOGIC_VERSION = "2"


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


def intel_facts(kb: KnowledgeBase, cves: Sequence[str]) -> IntelFacts:
    """KEV, EPSS (of ``cves`` only) and SSVC from the knowledge base."""
    return IntelFacts(kev=kb.kev(), epss=kb.epss(sorted(set(cves))), ssvc=kb.ssvc())


def evaluate(inventory: Any, kb: KnowledgeBase, settings: Any = None, *,
             devices: Sequence[Device] | None = None) -> EvaluationReport:
    """Match, check hygiene, enrich, persist findings, score every device, list candidate actions.

    Work that gives the same result for every device of a group is done once per group (see
    :mod:`wardwatch.risk.assemble` and :mod:`wardwatch.risk.profiles`); rows are written in bulk.
    """
    started = time.time()
    weights = risk_weights(settings)
    engine: sa.Engine = inventory.engine
    current = stamp(engine, weights)
    everything = devices is None
    devices = load_devices(engine) if devices is None else list(devices)
    views = load_views(engine, devices)
    builder = ContextBuilder(weights)
    assembler = Assembler(kb.advisories(), kb.sboms(), kb.mds2_profiles())
    raws = {v.id: assembler.raw(v) for v in views}
    intel = intel_facts(kb, cves_of(raws))
    enrichment = intel.enrichment()
    enricher = Enricher(intel, enrichment, weights)
    contexts = {v.id: builder.context(v) for v in views}
    lists = [(v.id, enricher.scored(raws[v.id], contexts[v.id])) for v in views]
    del raws
    ids = [v.id for v in views]
    with engine.begin() as conn:
        summary, exceptions = persist_findings(conn, lists, ids, started)
    held: dict[int, dict[str, FindingState]] = defaultdict(dict)
    for (device_id, fp), st in exceptions.items():
        held[device_id][fp] = st
    profiles = ProfileBuilder()
    for view, (device_id, scored) in zip(views, lists, strict=True):
        profiles.add(device_id, contexts[device_id], scored, clinical=builder.clinical(view.device),
                     vendor=view.device.value("vendor") or "", model=view.device.value("model") or "",
                     states=held.get(device_id))
    state = profiles.finish()
    scorer = Scorer(weights, enrichment)
    per_profile = {p: scorer.assess(p.ctx, p.scored) for p in profiles.profiles.values()}
    assessments = {i: _for_device(per_profile[p], i) for i, p in state.items()}
    proposed = candidates(per_profile, scorer, weights)
    with engine.begin() as conn:
        persist_assessments(conn, ((a, p.ctx, _extra(p), p.ids) for p, a in per_profile.items()), ids, started,
                            everything=everything)
        evaluation_id = conn.execute(sa.insert(rt.evaluations).returning(rt.evaluations.c.id), {
            "started_at": started, "finished_at": time.time(), "stamp": current, "devices": len(ids),
            "findings": summary.findings, "opened": summary.opened, "fixed": summary.fixed,
            "actions": [_action_summary(c) for c in sorted(proposed, key=lambda c: -c.action.risk_removed)[:500]],
        }).scalar_one()
    return EvaluationReport(int(evaluation_id), len(ids), sum(enricher.statuses.values()), summary.opened,
                            summary.fixed, dict(enricher.statuses), round(time.time() - started, 3),
                            round(sum(a.score for a in assessments.values()), 2), assessments, proposed, state, scorer)


def _for_device(a: RiskAssessment, device_id: int) -> RiskAssessment:
    return RiskAssessment(device_id, a.score, a.level, a.likelihood, a.impact, a.factors)


def _extra(device: DeviceRisk) -> dict[str, Any]:
    return {"vendor": device.vendor, "model": device.model, "clinical": device.clinical}


def _action_summary(c: Candidate) -> dict[str, Any]:
    a = c.action
    return {"id": a.id, "kind": a.kind.value, "title": a.title, "owner_team": a.owner_team,
            "effort_hours": a.effort_hours, "downtime_hours": a.downtime_hours, "risk_removed": a.risk_removed,
            "due_days": a.due_days, "devices": len(a.device_ids)}

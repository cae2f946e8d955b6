"""Re-deriving a device's attributes from its facts and the fingerprint rules, with history.

The kinds table and the precedence / no-flapping rule are :mod:`wardwatch.identify.decide`; this module
offers the rule matches to the pool with their evidence and records what changed as history events.
"""

from __future__ import annotations

from wardwatch.domain.device import AttributeSource, Evidence, HistoryEvent
from wardwatch.identify import decide
from wardwatch.identify.interface import RuleEvaluator
from wardwatch.identify.state import DeviceState


def derive_attributes(state: DeviceState, evaluator: RuleEvaluator | None, evidence_cap: int) -> None:
    """Recompute ``state.attributes``; note changed/removed names and append history events."""
    pool = decide.pool_from_facts(state.facts.values())
    if evaluator is not None:
        _offer_rules(state, pool, evaluator)
    new = decide.decide_all(pool, state.attributes, evidence_cap)
    ts = state.last_seen
    for name, attribute in new.items():
        old = state.attributes.get(name)
        if old == attribute:
            continue
        state.changed_attributes.add(name)
        if old is not None and old.value != attribute.value:
            top = attribute.evidence[0] if attribute.evidence else None
            state.history.append(HistoryEvent(
                ts=top.ts if top is not None else ts,
                kind="hostname_changed" if name == "hostname" else "attribute_changed",
                attribute=name, old=old.value, new=attribute.value,
                evidence=_describe(top, attribute.source),
            ))
    for name in set(state.attributes) - set(new):
        state.removed_attributes.add(name)
        old = state.attributes[name]
        state.history.append(HistoryEvent(ts=ts, kind="attribute_removed", attribute=name,
                                          old=old.value, new=None))
    state.attributes = new


def _offer_rules(state: DeviceState, pool: decide.Pool, evaluator: RuleEvaluator) -> None:
    facts: dict[str, set[str]] = {}
    for kind, value in state.facts:
        facts.setdefault(kind, set()).add(value)
    for match in evaluator.evaluate(facts):
        evidences = []
        for kind, value in match.matched:
            fact = state.facts.get((kind, value))
            if fact is not None:
                evidences.append(Evidence(kind, value, fact.last_seen, fact.sensor, fact.excerpt,
                                          rule=match.rule_id))
        if not evidences:
            evidences.append(Evidence("rule", match.rule_id, state.last_seen, state.sensor,
                                      rule=match.rule_id))
        for name, value in match.attributes.items():
            if not value:
                continue
            for evidence in evidences:
                decide.offer(pool, name, value, AttributeSource.RULE, match.confidence, evidence)


def _describe(evidence: Evidence | None, source: AttributeSource) -> str:
    if evidence is None:
        return str(source)
    text = f"{source}: {evidence.kind}={evidence.value}"
    if evidence.rule:
        text += f" (rule {evidence.rule})"
    return text[:200]

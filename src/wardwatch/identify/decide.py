"""Choosing each attribute's value from its candidates: precedence, confidence, and no flapping.

The rule, applied per attribute name on every change of a device's facts:

1. **Source precedence.** A person's value (``manual``) beats an import, which beats a fingerprint rule,
   which beats a plain observation. The highest tier that has a candidate decides alone.
2. **Manual and import tiers**: the most recent statement wins (a person re-setting a value, a newer
   asset-register export). An empty manual value clears the manual tier, handing the decision down.
3. **Rule and observed tiers**: candidate values are grouped case-insensitively; a group's strength is
   its highest confidence, then its number of distinct evidences, then its last seen time. The
   strongest group replaces the current value (the incumbent) only if

   * its confidence exceeds the incumbent's by more than :data:`CONFIDENCE_MARGIN` — a *weaker or
     equally strong* observation never flips a stronger attribute; or
   * within that margin (equal strength) it has strictly more evidence; or
   * equal strength and evidence, and it was seen more than :data:`HOLD_SECONDS` after the incumbent
     was last seen (hysteresis: two values alternating within the hold time do not flap).

4. **Specific beats generic (``device_class`` only).** After steps 1-3 pick a class, a candidate of the
   same tier whose class *descends* from the winner in the taxonomy (``ct_scanner`` under
   ``imaging_modality``, ``syringe_pump`` under ``infusion_pump``) takes its place when its confidence is
   at least the winner's minus :data:`SPECIFICITY_MARGIN`. A vendor rule that can only say "an imaging
   modality" and a DICOM rule that says "a CT scanner" agree; the more specific answer is the useful
   one. The deepest such descendant wins (then the strongest). Classes that are not ancestor and
   descendant (``patient_monitor`` vs ``central_station``) still compete on strength alone.

The choice is a function of the facts and the incumbent only, so replaying observations leaves every
attribute as it was (idempotent), and the order two captures are ingested in does not matter when their
facts are far enough apart in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wardwatch.domain.device import Attribute, AttributeSource, Evidence
from wardwatch.identify.kinds import mappings_for
from wardwatch.identify.state import FactState
from wardwatch.identify.taxonomy import Taxonomy, default_taxonomy

#: Confidence difference under which two candidates count as equally strong.
CONFIDENCE_MARGIN = 0.05
#: Seconds a newer, equally supported value must postdate the incumbent to replace it.
HOLD_SECONDS = 300.0
#: How much less confident a more specific class (a taxonomy descendant) may be and still replace its ancestor.
SPECIFICITY_MARGIN = 0.1
#: The attribute whose values form the taxonomy.
CLASS_ATTRIBUTE = "device_class"

TIER_RANK: dict[AttributeSource, int] = {
    AttributeSource.MANUAL: 3,
    AttributeSource.IMPORT: 2,
    AttributeSource.RULE: 1,
    AttributeSource.OBSERVED: 0,
}


@dataclass(slots=True)
class Candidate:
    """All the support one value of one attribute has from one source tier."""

    name: str
    value: str
    norm: str
    source: AttributeSource
    confidence: float
    last_seen: float
    evidence: dict[tuple[str, str, str | None], Evidence] = field(default_factory=dict)
    value_confidence: float = -1.0

    def add(self, value: str, confidence: float, evidence: Evidence) -> None:
        """Fold one more piece of support in."""
        if confidence > self.value_confidence or (
            confidence == self.value_confidence and evidence.ts > self.last_seen
        ):
            self.value, self.value_confidence = value, confidence
        self.confidence = max(self.confidence, confidence)
        self.last_seen = max(self.last_seen, evidence.ts)
        self.evidence.setdefault(evidence.identity(), evidence)


Pool = dict[str, dict[tuple[AttributeSource, str], Candidate]]


def normalize(value: str) -> str:
    """Grouping key of a value: case-folded, trimmed, without a trailing dot."""
    return value.strip().rstrip(".").casefold()


def fact_source(fact: FactState) -> AttributeSource:
    """Tier of a fact: ``manual.*`` kinds, ``import.*`` kinds or import-sourced facts, else observed."""
    if fact.kind.startswith("manual."):
        return AttributeSource.MANUAL
    if fact.kind.startswith("import.") or fact.source == "import":
        return AttributeSource.IMPORT
    return AttributeSource.OBSERVED


def offer(pool: Pool, name: str, value: str, source: AttributeSource, confidence: float,
          evidence: Evidence) -> None:
    """Add one (attribute, value) candidate with its evidence to ``pool``."""
    norm = normalize(value)
    group = pool.setdefault(name, {})
    candidate = group.get((source, norm))
    if candidate is None:
        candidate = Candidate(name, value, norm, source, confidence, evidence.ts)
        group[(source, norm)] = candidate
    candidate.add(value, confidence, evidence)


def pool_from_facts(facts: Iterable[FactState]) -> Pool:
    """Candidates of every attribute the facts support through the kinds table."""
    pool: Pool = {}
    for fact in facts:
        mappings = mappings_for(fact.kind)
        if not mappings:
            continue
        source = fact_source(fact)
        evidence = Evidence(fact.kind, fact.value, fact.last_seen, fact.sensor, fact.excerpt)
        for mapping in mappings:
            value = mapping.transform(fact.value)
            if not value and source is not AttributeSource.MANUAL:
                continue
            confidence = fact.confidence if fact.confidence is not None else mapping.confidence
            offer(pool, mapping.attribute, value, source, confidence, evidence)
    return pool


def _latest(candidates: list[Candidate]) -> Candidate:
    return max(candidates, key=lambda c: (c.last_seen, c.confidence, c.norm))


def _strength(candidate: Candidate) -> tuple[float, int, float, str]:
    return (candidate.confidence, len(candidate.evidence), candidate.last_seen, candidate.norm)


def _beats(challenger: Candidate, incumbent: Candidate) -> bool:
    if challenger.confidence > incumbent.confidence + CONFIDENCE_MARGIN:
        return True
    if challenger.confidence < incumbent.confidence - CONFIDENCE_MARGIN:
        return False
    if len(challenger.evidence) != len(incumbent.evidence):
        return len(challenger.evidence) > len(incumbent.evidence)
    return challenger.last_seen > incumbent.last_seen + HOLD_SECONDS


def refine(winner: Candidate, group: Iterable[Candidate], taxonomy: Taxonomy | None = None) -> Candidate:
    """The most specific class candidate of ``group`` that descends from ``winner``'s class with a
    confidence within :data:`SPECIFICITY_MARGIN` of it (rule 4 of the module docstring), else ``winner``."""
    tax = taxonomy or default_taxonomy()
    best, depth = winner, len(tax.lineage(winner.value))
    floor = winner.confidence - SPECIFICITY_MARGIN - 1e-9
    for candidate in group:
        if candidate is winner or candidate.confidence < floor or candidate.norm == winner.norm:
            continue
        lineage = tax.lineage(candidate.value)
        if winner.value not in lineage[1:]:
            continue
        if (len(lineage), _strength(candidate)) > (depth, _strength(best)):
            best, depth = candidate, len(lineage)
    return best


def choose(candidates: Iterable[Candidate], incumbent: Attribute | None) -> Candidate | None:
    """The winning candidate of one attribute (see the module docstring), or ``None``."""
    candidates = list(candidates)
    winner = _choose(candidates, incumbent)
    if winner is None or winner.name != CLASS_ATTRIBUTE or winner.source not in (
        AttributeSource.RULE, AttributeSource.OBSERVED
    ):
        return winner
    return refine(winner, [c for c in candidates if c.source is winner.source])


def _choose(candidates: Iterable[Candidate], incumbent: Attribute | None) -> Candidate | None:
    tiers: dict[AttributeSource, list[Candidate]] = {}
    for candidate in candidates:
        tiers.setdefault(candidate.source, []).append(candidate)
    for source in sorted(tiers, key=TIER_RANK.__getitem__, reverse=True):
        group = tiers[source]
        if source in (AttributeSource.MANUAL, AttributeSource.IMPORT):
            latest = _latest(group)
            if latest.norm:
                return latest
            continue
        best = max(group, key=_strength)
        if incumbent is None or incumbent.source is not source:
            return best
        norm = normalize(incumbent.value)
        current = next((c for c in group if c.norm == norm), None)
        if current is None or current is best:
            return best
        return best if _beats(best, current) else current
    return None


def to_attribute(candidate: Candidate, incumbent: Attribute | None, cap: int) -> Attribute:
    """The Attribute for a winning candidate; keeps the incumbent's spelling of the same value."""
    value = candidate.value
    if incumbent is not None and incumbent.source is candidate.source and normalize(incumbent.value) == (
        candidate.norm
    ):
        value = incumbent.value
    evidence = sorted(candidate.evidence.values(), key=lambda e: (-e.ts, e.kind, e.value, e.rule or ""))
    return Attribute(name=candidate.name, value=value, confidence=round(candidate.confidence, 4),
                     evidence=tuple(evidence[:cap]), source=candidate.source)


def decide_all(pool: Pool, incumbents: Mapping[str, Attribute], cap: int) -> dict[str, Attribute]:
    """Every attribute's value for one device."""
    out: dict[str, Attribute] = {}
    for name, group in pool.items():
        incumbent = incumbents.get(name)
        winner = choose(group.values(), incumbent)
        if winner is not None:
            out[name] = to_attribute(winner, incumbent, cap)
    return out

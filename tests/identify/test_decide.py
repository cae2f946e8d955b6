"""Rule 4 of identify.decide: a more specific class (a taxonomy descendant) beats its ancestor when the
two are about as confident; unrelated classes and far weaker descendants do not."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pytest

from wardwatch.domain.device import Attribute, AttributeSource, Evidence
from wardwatch.domain.observation import Observation
from wardwatch.identify import decide
from wardwatch.identify.resolver import Resolver, RuleMatch
from wardwatch.identify.state import MemoryStore
from wardwatch.identify.taxonomy import default_taxonomy

MAC = "00:09:5c:12:34:56"


def _candidate(value: str, confidence: float, ts: float = 1.0, name: str = "device_class",
               source: AttributeSource = AttributeSource.RULE) -> decide.Candidate:
    pool: decide.Pool = {}
    decide.offer(pool, name, value, source, confidence, Evidence("rule", value, ts, "s1", rule=f"r.{value}"))
    return next(iter(pool[name].values()))


def test_taxonomy_has_the_lineages_the_rule_relies_on() -> None:
    tax = default_taxonomy()
    assert tax.lineage("ct_scanner") == ("ct_scanner", "imaging_modality")
    assert "infusion_pump" in tax.lineage("syringe_pump")
    assert "patient_monitor" not in tax.lineage("central_station")


@pytest.mark.parametrize(("generic", "g_conf", "specific", "s_conf", "want"), [
    ("imaging_modality", 0.85, "ct_scanner", 0.8, "ct_scanner"),        # within the margin: specific wins
    ("imaging_modality", 0.85, "ct_scanner", 0.75, "ct_scanner"),       # exactly at the margin
    ("imaging_modality", 0.85, "ct_scanner", 0.7, "imaging_modality"),  # far weaker: the generic stays
    ("infusion_pump", 0.6, "syringe_pump", 0.6, "syringe_pump"),
    ("patient_monitor", 0.8, "central_station", 0.75, "patient_monitor"),  # not a descendant: strength decides
])
def test_specific_class_within_margin_wins(generic: str, g_conf: float, specific: str, s_conf: float,
                                           want: str) -> None:
    got = decide.choose([_candidate(generic, g_conf), _candidate(specific, s_conf)], None)
    assert got is not None and got.value == want


def test_deepest_descendant_wins_and_other_attributes_are_untouched() -> None:
    got = decide.choose([_candidate("patient_monitor", 0.8), _candidate("vital_signs_monitor", 0.75),
                         _candidate("central_station", 0.7)], None)
    assert got is not None and got.value == "vital_signs_monitor"
    # only device_class has a taxonomy: another attribute keeps the plain strongest value
    other = decide.choose([_candidate("imaging_modality", 0.85, name="role"),
                           _candidate("ct_scanner", 0.8, name="role")], None)
    assert other is not None and other.value == "imaging_modality"


def test_incumbent_generic_is_refined_and_refinement_is_stable() -> None:
    incumbent = Attribute("device_class", "imaging_modality", 0.85, source=AttributeSource.RULE)
    cands = [_candidate("imaging_modality", 0.85), _candidate("mr_scanner", 0.8)]
    first = decide.choose(cands, incumbent)
    assert first is not None and first.value == "mr_scanner"
    again = decide.choose(cands, decide.to_attribute(first, incumbent, 5))
    assert again is not None and again.value == "mr_scanner"


def test_a_higher_tier_is_not_overridden_by_a_specific_rule() -> None:
    manual = _candidate("imaging_modality", 1.0, source=AttributeSource.MANUAL)
    got = decide.choose([manual, _candidate("ct_scanner", 0.8)], None)
    assert got is manual


class _Rules:
    """Two rules on one fact: a vendor rule saying 'imaging modality', a DICOM rule saying 'CT'."""

    def evaluate(self, facts: Mapping[str, Collection[str]]) -> Sequence[RuleMatch]:
        if "dicom.modality" not in facts:
            return []
        return [RuleMatch("vendor.modality", {"device_class": "imaging_modality"}, 0.85,
                          (("dicom.modality", "CT"),)),
                RuleMatch("dicom.ct", {"device_class": "ct_scanner"}, 0.8, (("dicom.modality", "CT"),))]


def test_resolver_applies_the_rule_end_to_end() -> None:
    store = MemoryStore()
    result = Resolver(evaluator=_Rules()).resolve(
        [Observation(ts=1.0, sensor="s1", kind="dicom.modality", value="CT", mac=MAC)], store)
    store.save(result.devices, result.removed_keys)
    attribute = store.devices[f"mac:{MAC}"].attributes["device_class"]
    assert attribute.value == "ct_scanner" and attribute.evidence[0].rule == "dicom.ct"

"""The evaluation service on a real inventory and knowledge base: persisted findings, state history, scores,
actions and the exact what-if (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import sqlalchemy as sa
from tests.risk.conftest import flow

from wardwatch.domain.finding import FindingKind
from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import Inventory
from wardwatch.risk import queries
from wardwatch.risk import tables as rt
from wardwatch.risk.planning import Planner
from wardwatch.risk.service import evaluate, is_stale, risk_weights
from wardwatch.risk.store import history, set_state


def _id(inventory: Inventory, ip: str) -> int:
    device_id = inventory.get_device(ip).id
    assert device_id is not None
    return device_id


def _by_cve(rows: list[dict], cve: str) -> dict:
    return next(r for r in rows if r["cve"] == cve)


def test_findings_scores_and_explanations(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    inventory, kb = hospital
    report = evaluate(inventory, kb)
    engine = inventory.engine
    portal, pacs, dcmtk, dcmtk_fixed, pump, pc = (_id(inventory, f"10.{x}") for x in
                                                   ("1.0.11", "1.0.12", "1.0.13", "1.0.14", "2.0.21", "3.0.31"))
    assert report.devices == 6
    # ICSMA-18-058-02: all versions of IntelliSpace Portal 8.0.x; CVE-2017-0144 (EternalBlue) is in KEV
    eternal = _by_cve(queries.findings_for(engine, portal), "CVE-2017-0144")
    assert eternal["status"] == "affected" and eternal["advisory"] == "ICSMA-18-058-02"
    assert "CISA KEV" in eternal["explanation"] and "EPSS 0." in eternal["explanation"]
    assert "SSVC deployer decision" in eternal["explanation"] and eternal["ssvc"] in ("Attend", "Act")
    assert eternal["sla_days"] == 14
    # DCMTK < 3.6.7 (ICSMA-22-174-01): 3.6.6 affected with CISA's SSVC from vulnrichment; 3.6.7 not flagged
    dcmtk_rows = queries.findings_for(engine, dcmtk)
    enriched = _by_cve(dcmtk_rows, "CVE-2022-2121")
    assert "CISA SSVC: exploitation" in enriched["explanation"]
    assert not [r for r in queries.findings_for(engine, dcmtk_fixed) if r["status"] == "affected"]
    # the pump has no firmware: possibly affected, not silence and not certainty
    pump_rows = queries.findings_for(engine, pump)
    assert {r["status"] for r in pump_rows if r["kind"] == "vulnerability"} == {"possibly_affected"}
    assert any(r["title"] == "Telnet in use" for r in pump_rows)
    assert any(r["title"] == "Talks to the internet" for r in queries.findings_for(engine, pc))
    # scores: every factor listed; the life-sustaining pump weighs its criticality; PHI from HL7/DICOM flows
    pump_risk = queries.risk_for(engine, pump)
    assert pump_risk is not None and pump_risk["context"]["criticality"] == "life_sustaining"
    assert pump_risk["context"]["handles_phi"] is True
    names = {f["name"] for f in pump_risk["factors"]}
    assert {"CVSS", "Hygiene", "Clinical criticality", "PHI"} <= names
    pacs_risk = queries.risk_for(engine, pacs)
    assert pacs_risk is not None and any(f["name"] == "CISA KEV" for f in pacs_risk["factors"])
    assert queries.risk_for(engine, dcmtk_fixed)["score"] == 0.0  # type: ignore[index]
    assert round(sum(a.score for a in report.assessments.values()), 2) == report.risk_total
    # actions: patch per model, disable telnet on the pump (clinical engineering), segment the internet talker
    titles = {c.action.title: c.action for c in report.candidates}
    telnet = next(a for t, a in titles.items() if t.startswith("Disable the service: Telnet"))
    assert telnet.owner_team == "clinical_engineering" and telnet.device_ids == (pump,)
    assert any(t.startswith("Segment") and a.owner_team == "it" and pc in a.device_ids for t, a in titles.items())
    assert any(a.kind.value == "patch" and a.due_days == 14 for a in titles.values())  # KEV SLA


def test_reevaluation_is_idempotent_and_states_survive(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    inventory, kb = hospital
    engine = inventory.engine
    evaluate(inventory, kb)
    assert not is_stale(engine, risk_weights(None))
    before = {r["id"]: (r["device_id"], r["cve"], r["state"]) for r in queries.list_findings(engine)}
    pacs = _id(inventory, "10.1.0.12")
    pacs_rows = queries.findings_for(engine, pacs)
    accepted = _by_cve(pacs_rows, "CVE-2020-1938")["id"]
    set_state(engine, accepted, "accepted", "ce-lead", "vendor patch scheduled")
    assert is_stale(engine, risk_weights(None))  # a person's decision invalidates the stored results
    score_before = queries.risk_for(engine, pacs)["score"]  # type: ignore[index]
    evaluate(inventory, kb)
    again = {r["id"]: (r["device_id"], r["cve"], r["state"]) for r in queries.list_findings(engine)}
    assert again.keys() == before.keys()  # nothing duplicated
    assert again[accepted][2] == "accepted"
    assert queries.risk_for(engine, pacs)["score"] == score_before  # type: ignore[index]  # accepted still counts
    mitigated = [r["id"] for r in pacs_rows if r["kind"] == FindingKind.VULNERABILITY.value and r["id"] != accepted]
    for finding_id in mitigated:
        set_state(engine, finding_id, "mitigated", "ce-lead")
    evaluate(inventory, kb)
    states = {r["id"]: r["state"] for r in queries.findings_for(engine, pacs)}
    assert all(states[i] == "mitigated" for i in mitigated)
    assert queries.risk_for(engine, pacs)["score"] < score_before  # type: ignore[index]
    # the firmware is upgraded past the advisory's range: the findings become fixed, with history
    inventory.set_manual(pacs, "firmware", "12.3.0.0", "ce-lead")
    evaluate(inventory, kb)
    after = {r["id"]: r for r in queries.findings_for(engine, pacs)}
    assert after[accepted]["state"] == "fixed"
    assert [h["new_state"] for h in history(engine, accepted)] == ["accepted", "fixed"]
    inventory.set_manual(pacs, "firmware", "12.1.0.0", "ce-lead")  # rolled back: open again
    evaluate(inventory, kb)
    assert {r["id"]: r["state"] for r in queries.findings_for(engine, pacs)}[accepted] == "open"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rt.findings)).scalar() == len(before)


def test_manual_criticality_and_controls(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    inventory, kb = hospital
    engine = inventory.engine
    evaluate(inventory, kb)
    dcmtk = _id(inventory, "10.1.0.13")
    base = queries.risk_for(engine, dcmtk)
    assert base is not None and base["context"]["criticality"] == "diagnostic"
    inventory.set_manual(dcmtk, "criticality", "life_sustaining", "ce-lead")
    evaluate(inventory, kb)
    raised = queries.risk_for(engine, dcmtk)
    assert raised is not None and raised["score"] > base["score"]
    assert any(f["name"] == "Clinical criticality" and "manual" in f["source"] for f in raised["factors"])
    inventory.set_manual(dcmtk, "controls", "segmented, nac", "netops")
    evaluate(inventory, kb)
    controlled = queries.risk_for(engine, dcmtk)
    assert controlled is not None and controlled["score"] < raised["score"]
    assert {f["value"] for f in controlled["factors"] if f["name"] == "Control"} == {"segmented", "nac"}


def test_plan_risk_removed_is_the_exact_what_if(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    inventory, kb = hospital
    report = evaluate(inventory, kb)
    planner = Planner(inventory.engine, kb, risk_weights(None))
    assert round(sum(planner.baseline.values()), 2) == report.risk_total
    result = planner.plan(12.0)
    assert result.hours <= 12.0 and result.chosen
    simulated = planner.simulate([c.action.id for c in result.chosen])
    assert simulated.before == result.risk_before == report.risk_total
    assert simulated.removed == result.risk_removed > 0
    everything = planner.simulate(list(planner.by_id))
    assert everything.after <= result.risk_after
    # more hours never buy less
    assert [g for _, g in result.marginal] == sorted(g for _, g in result.marginal)


def test_new_flows_make_results_stale(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    inventory, kb = hospital
    evaluate(inventory, kb)
    assert not is_stale(inventory.engine, risk_weights(None))
    inventory.ingest([], [flow("10.2.0.21", "8.8.8.8", 443)], source="more traffic")
    assert is_stale(inventory.engine, risk_weights(None))
    evaluate(inventory, kb)
    pump = _id(inventory, "10.2.0.21")
    assert queries.risk_for(inventory.engine, pump)["context"]["internet_exposed"] is True  # type: ignore[index]
    by_sev = dict(queries.findings_by_severity(inventory.engine, ("ICU",)))
    assert by_sev and sum(by_sev.values()) == len([r for r in queries.findings_for(inventory.engine, pump)
                                                   if r["status"] in ("affected", "possibly_affected")])
    top = queries.devices_with_open_problems(inventory.engine, None, 3)
    assert [d["score"] for d in top] == sorted((d["score"] for d in top), reverse=True)

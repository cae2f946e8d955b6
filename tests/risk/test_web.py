"""Findings, risk, the plan and attack paths in the web application after ``evaluate`` (issues 4 and 5):
the device API and page, the findings list, the dashboards and reports, scoped to a clinician's departments
(SQLite, and PostgreSQL when configured). Requests carry API tokens (TestClient, real application)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import Inventory
from wardwatch.risk import queries
from wardwatch.risk.service import evaluate
from wardwatch.web.app import create_app
from wardwatch.web.auth.roles import Role
from wardwatch.web.auth.store import AccessStore
from wardwatch.web.routes import all_routes

PASSWORD = "correct horse battery staple"
Client = Callable[[Role], TestClient]


def _app(inventory: Inventory) -> FastAPI:
    """The real application; the risk router is included when ``web/app.py`` does not include it yet."""
    app = create_app(str(inventory.engine.url.render_as_string(hide_password=False)), secret_key="test-secret")
    if "/api/v1/plan" not in {path for path, _ in all_routes(app)}:
        from wardwatch.web.routes import risk_api

        app.include_router(risk_api.router)
    return app


@pytest.fixture
def client(hospital: tuple[Inventory, KnowledgeBase]) -> Iterator[Client]:
    """A client with the API token of a role (the clinician works in the ICU)."""
    inventory, _kb = hospital
    app = _app(inventory)
    access = AccessStore(inventory.engine)
    tokens = {}
    for role in (Role.security_analyst, Role.clinician, Role.manager):
        departments = ("ICU",) if role is Role.clinician else ()
        access.add_user(f"u-{role.value}", role, PASSWORD, departments, actor="test")
        tokens[role] = access.create_token(f"u-{role.value}", name="test")

    def make(role: Role) -> TestClient:
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {tokens[role]}"
        return c

    yield make


def _ids(inventory: Inventory) -> tuple[int, int, int]:
    pump, pacs, pc = (inventory.get_device(ip).id for ip in ("10.2.0.21", "10.1.0.12", "10.3.0.31"))
    assert pump is not None and pacs is not None and pc is not None
    return pump, pacs, pc


def test_not_computed_before_evaluation(hospital: tuple[Inventory, KnowledgeBase], client: Client) -> None:
    inventory, _kb = hospital
    pump, _pacs, _pc = _ids(inventory)
    analyst = client(Role.security_analyst)
    assert analyst.get("/api/v1/findings").json() == {"computed": False, "items": []}
    assert analyst.get(f"/api/v1/devices/{pump}/risk").json()["computed"] is False
    assert analyst.get(f"/api/v1/devices/{pump}/findings").json()["items"] == []
    assert analyst.get("/api/v1/plan", params={"hours": 8}).json()["computed"] is False
    assert client(Role.clinician).get("/api/v1/plan").status_code == 200
    assert TestClient(analyst.app).get("/api/v1/plan").status_code == 401  # no token


def test_findings_and_risk_on_the_device_api_and_page(hospital: tuple[Inventory, KnowledgeBase],
                                                      client: Client) -> None:
    inventory, kb = hospital
    evaluate(inventory, kb)
    pump, pacs, pc = _ids(inventory)
    analyst = client(Role.security_analyst)

    found = analyst.get(f"/api/v1/devices/{pump}/findings")
    assert found.status_code == 200
    items = found.json()["items"]
    assert [f["id"] for f in items] == [f["id"] for f in queries.findings_for(inventory.engine, pump)]
    assert any(f["title"] == "Telnet in use" for f in items)
    assert {f["status"] for f in items if f["kind"] == "vulnerability"} == {"possibly_affected"}
    risk = analyst.get(f"/api/v1/devices/{pump}/risk").json()
    stored = queries.risk_for(inventory.engine, pump)
    assert risk["computed"] and stored is not None and risk["risk"]["score"] == stored["score"]
    assert "Clinical criticality" in risk["risk"]["summary"]

    page = analyst.get(f"/devices/{pacs}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    pacs_risk = queries.risk_for(inventory.engine, pacs)
    assert pacs_risk is not None and f"Risk {pacs_risk['level']} ({pacs_risk['score']})" in text
    assert "CISA KEV" in text  # the finding's explanation is on the page

    from wardwatch.web.extensions import TableExtensions

    every = queries.list_findings(inventory.engine)
    ext = TableExtensions(inventory.engine)
    page_two = ext.findings_page(None, None, limit=3, offset=3)
    assert page_two is not None and page_two[0] == len(every)
    assert [f["id"] for f in page_two[1]] == [f["id"] for f in every[3:6]]
    high = ext.findings_page(None, "HIGH", limit=1000)
    assert high is not None and high[0] == len([f for f in every if f["severity"] == "high"]) == len(high[1])
    listed = analyst.get("/api/v1/findings").json()
    assert listed["computed"] and len(listed["items"]) == len(queries.list_findings(inventory.engine))
    assert "Telnet in use" in html.unescape(analyst.get("/findings").text)
    # dashboards: findings by severity (analyst), devices with open problems (manager), riskiest first
    dashboard = html.unescape(analyst.get("/").text)
    top_severity = queries.findings_by_severity(inventory.engine, None)[0][0]
    assert f"/findings?severity={top_severity}" in dashboard
    manager = html.unescape(client(Role.manager).get("/").text)
    assert f'href="/devices/{pacs}"' in manager and "risk, score" in manager
    # reports: the findings export and the PDF's risk sections come from the same stored data
    csv_text = analyst.get("/api/v1/reports/findings.csv").text
    assert csv_text.count("\n") == len(queries.list_findings(inventory.engine)) + 1

    # the plan for a budget, not recorded; attack paths from the internet talker
    plan = analyst.get("/api/v1/plan", params={"hours": 12}).json()
    assert plan["computed"] and not plan["stale"] and plan["hours"] <= 12 and plan["actions"]
    assert plan["risk_before"] == round(sum(r["score"] for r in queries.all_risks(inventory.engine)), 2)
    assert queries.latest_plan(inventory.engine) is None
    paths = analyst.get("/api/v1/risk/paths").json()
    assert {e["node"]: e["why"] for e in paths["entries"]}[pc] == "talks to the internet"
    assert pump in paths["targets"]


def test_clinician_sees_only_their_departments(hospital: tuple[Inventory, KnowledgeBase], client: Client) -> None:
    inventory, kb = hospital
    evaluate(inventory, kb)
    pump, pacs, _pc = _ids(inventory)
    nurse = client(Role.clinician)
    assert nurse.get(f"/api/v1/devices/{pump}/findings").status_code == 200
    assert nurse.get(f"/api/v1/devices/{pacs}/findings").status_code == 404  # Radiology
    assert nurse.get(f"/api/v1/devices/{pacs}/risk").status_code == 404
    devices = {f["device_id"] for f in nurse.get("/api/v1/findings").json()["items"]}
    assert devices == {pump}
    dashboard = html.unescape(nurse.get("/").text)  # the clinician's open problems, in plain words
    assert f'href="/devices/{pump}"' in dashboard and f'href="/devices/{pacs}"' not in dashboard
    assert "Telnet in use" in dashboard or "more (" in dashboard
    plan = nurse.get("/api/v1/plan", params={"hours": 100}).json()
    assert plan.get("scoped") and "risk_before" not in plan
    assert all(set(a["device_ids"]) <= {pump} for a in plan["actions"])
    paths = nurse.get("/api/v1/risk/paths").json()
    assert all(n == "internet" or n == pump for p in paths["paths"] for n in p["nodes"])


def test_reports_carry_risk_and_the_plan(hospital: tuple[Inventory, KnowledgeBase]) -> None:
    """The executive report's risk sections and top actions come from the stored evaluation and plan."""
    from wardwatch.reports.build import build
    from wardwatch.reports.data import gather
    from wardwatch.risk.planning import Planner
    from wardwatch.risk.service import risk_weights
    from wardwatch.web.extensions import TableExtensions

    inventory, kb = hospital
    sources = TableExtensions(inventory.engine)
    before = gather(inventory.engine, sources)
    assert before.risk_by_department is None and before.plan is None
    report = evaluate(inventory, kb)
    chosen = Planner(inventory.engine, kb, risk_weights(None), report).plan(12.0)
    data = gather(inventory.engine, sources)
    assert data.risk_by_department is not None
    departments = {name for name, _score, _n in data.risk_by_department}
    assert departments == {"Radiology", "ICU", "IT"}
    icu = next(score for name, score, _n in data.risk_by_department if name == "ICU")
    pump = inventory.get_device("10.2.0.21").id
    assert pump is not None and icu == round(queries.risk_for(inventory.engine, pump)["score"], 1)  # type: ignore[index]
    assert data.plan is not None and [a["id"] for a in data.plan] == [c.action.id for c in chosen.chosen]
    scoped = gather(inventory.engine, sources, ("ICU",))
    assert scoped.findings_by_severity and sum(n for _s, n in scoped.findings_by_severity) == len(
        [f for f in queries.findings_for(inventory.engine, pump) if f["status"] in ("affected", "possibly_affected")])
    assert build(inventory.engine, sources, "pdf").startswith(b"%PDF")

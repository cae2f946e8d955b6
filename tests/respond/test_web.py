"""Incident, alert-lifecycle and feed routes over HTTP: walk an incident through the API, read the pages,
and check the permissions (a manager reads, only alert writers act)."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient

from tests.conftest import require_tool
from tests.respond.test_incident_cli import _prepare
from wardwatch.intel.indicators import IndicatorBatch, Tlp
from wardwatch.intel.ti_store import IndicatorStore
from wardwatch.inventory import Inventory
from wardwatch.respond.playbook import Phase
from wardwatch.web.app import create_app
from wardwatch.web.auth.roles import Role
from wardwatch.web.auth.store import AccessStore
from wardwatch.web.routes import feeds, incidents


def _client(url: str, role: Role) -> TestClient:
    app = create_app(url, secret_key="test-secret")
    for module in (incidents, feeds):  # the integrator includes these in web/app.py
        app.include_router(module.router)
        app.include_router(module.api)
    access = AccessStore(app.state.services.engine)
    access.add_user(f"u-{role.value}", role, "a long enough password 1")
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {access.create_token(f'u-{role.value}', name='t')}"
    return client


def test_incident_over_the_api(sqlite_url: str) -> None:
    alert_id, pump_key = _prepare(sqlite_url)
    analyst = _client(sqlite_url, Role.security_analyst)
    manager = _client(sqlite_url, Role.manager)
    assert manager.post("/api/v1/incidents", json={"title": "x"}).status_code == 403
    created = analyst.post("/api/v1/incidents", json={"title": "Pump C2", "alert_ids": [alert_id]})
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["devices"] == [pump_key] and incident["playbook"] == "infusion_pump"
    path = f"/api/v1/incidents/{incident['id']}"
    assert analyst.post(f"{path}/advance").status_code == 409  # open preparation tasks
    for phase in Phase:
        for task in [t for t in analyst.get(path).json()["tasks"] if t["phase"] == phase.value]:
            assert analyst.post(f"{path}/tasks/{task['key']}", json={"note": "ok"}).status_code == 200
        if phase is not Phase.POST_INCIDENT:
            assert analyst.post(f"{path}/advance").json()["phase"] == phase.next().value  # type: ignore[union-attr]
    assert analyst.post(f"{path}/close").json()["status"] == "closed"
    assert manager.get(path).status_code == 200
    page = manager.get(f"/incidents/{incident['id']}")
    assert page.status_code == 200 and "Pump C2" in page.text and "Post-Incident Activity" in page.text
    pdf = manager.get(f"/incidents/{incident['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = subprocess.run([require_tool("pdftotext"), "-", "-"], input=pdf.content, capture_output=True,
                          check=True).stdout.decode()
    assert "Eradication & Recovery" in text
    assert analyst.get("/api/v1/incidents/999").status_code == 404


def test_alert_actions_and_feeds(sqlite_url: str) -> None:
    alert_id, _ = _prepare(sqlite_url)
    with Inventory.open(sqlite_url) as inventory:
        batch = IndicatorBatch(feed="isac")
        batch.add("ip", "203.0.113.9", tlp=Tlp.RED)
        batch.add("domain", "c2.example", tlp=Tlp.AMBER)
        IndicatorStore(inventory.engine).store(batch, kind="taxii", now=1.0)
    it_user, clinician = _client(sqlite_url, Role.it_network), _client(sqlite_url, Role.clinician)
    assert it_user.post(f"/api/v1/alerts/{alert_id}/assign", json={"team": "it"}).json()["teams"] == ["it"]
    suppressed = it_user.post(f"/api/v1/alerts/{alert_id}/suppress", json={"reason": "maintenance", "hours": 2})
    assert suppressed.status_code == 200 and suppressed.json()["suppressed_until"] is not None
    assert it_user.post(f"/api/v1/alerts/{alert_id}/ack").json()["status"] == "acknowledged"
    assert it_user.post(f"/api/v1/alerts/{alert_id}/suppress", json={"reason": "", "hours": 2}).status_code == 422
    feeds_json = it_user.get("/api/v1/feeds").json()["items"]
    assert feeds_json[0]["tlp"] == {"TLP:RED": 1, "TLP:AMBER": 1}
    page = it_user.get("/feeds")
    assert page.status_code == 200 and "isac" in page.text and "203.0.113.9" not in page.text
    assert clinician.post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 403
    assert it_user.get("/api/v1/training/completion").json() == {"items": []}

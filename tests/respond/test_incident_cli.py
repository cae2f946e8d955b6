"""Must show 4: an incident is walked through every NIST SP 800-61 phase with the CLI, and the
post-incident PDF lists its timeline (read back with pdftotext)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import require_tool
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.cli.alert_cmd import alert_app, incident_app
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.observation import Observation
from wardwatch.inventory import Inventory
from wardwatch.respond.playbook import Phase, playbook_for, playbooks

T0 = 1_700_000_000.0
PUMP = "00:09:fb:11:22:33"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(incident_app, name="incident")
    app.add_typer(alert_app, name="alert")
    return app


def _prepare(url: str) -> tuple[int, str]:
    with Inventory.open(url) as inventory:
        inventory.ingest([Observation(ts=T0, sensor="s1", kind=f"manual.{k}", value=v, mac=PUMP, ip="10.1.20.11",
                                      source="manual", confidence=1.0)
                          for k, v in (("vendor", "B. Braun"), ("model", "Space Infusomat"), ("firmware", "688M"),
                                       ("device_class", "infusion_pump"))], source="register")
        pump = inventory.get_device(PUMP)
        raised = AlertDesk(inventory.engine).raise_alerts([Alert(
            rule="early-warning-indicator", severity=Severity.HIGH, title="pump talked to a C2 address",
            devices=(pump.key,), evidence=("10.1.20.11:40000 → 203.0.113.9:443 tcp",), dedup_key="x", ts=T0)],
            devices=[pump], now=T0)
        assert raised[0].alert.id is not None
        return raised[0].alert.id, pump.key


def test_walk_all_phases_and_report(sqlite_url: str, tmp_path: Path) -> None:
    pdftotext = require_tool("pdftotext")
    alert_id, pump_key = _prepare(sqlite_url)
    runner, app, db = CliRunner(), _app(), ["--db", sqlite_url]

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*args, *db, "--format", "json"])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    opened = run("incident", "open", "--title", "Pump beaconing to C2", "--alert", str(alert_id),
                 "--lead", "dana", "--by", "erin", "--now", str(T0 + 60))
    incident_id = str(opened["id"])
    assert opened["playbook"] == "infusion_pump" and opened["devices"] == [pump_key]
    blocked = runner.invoke(app, ["incident", "advance", incident_id, *db, "--by", "erin"])
    assert blocked.exit_code == 2 and "open tasks" in blocked.output  # preparation tasks first
    clock = T0 + 120
    for phase in Phase:
        state = run("incident", "show", incident_id)
        assert state["phase"] == phase.value
        for task in [t for t in state["tasks"] if t["phase"] == phase.value]:  # type: ignore[union-attr]
            clock += 60
            run("incident", "task", incident_id, task["key"], "--by", "frank", "--note", f"done {task['key']}",
                "--now", str(clock))
        if phase is not Phase.POST_INCIDENT:
            clock += 60
            run("incident", "advance", incident_id, "--by", "dana", "--now", str(clock))
    capture = tmp_path / "excerpt.pcap"
    capture.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(20))
    run("incident", "evidence", incident_id, "--kind", "capture", "--ref", str(capture), "--file", str(capture),
        "--by", "frank", "--now", str(clock + 30))
    closed = run("incident", "close", incident_id, "--by", "dana", "--now", str(clock + 60))
    assert closed["status"] == "closed"
    timeline = closed["timeline"]
    assert [e["action"] for e in timeline].count("phase") == 4  # type: ignore[union-attr]

    pdf = tmp_path / "report.pdf"
    result = runner.invoke(app, ["incident", "report", incident_id, *db, "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Pump beaconing to C2" in flat and "Timeline" in flat
    for entry in timeline:  # type: ignore[union-attr]
        assert " ".join(str(entry["detail"]).split())[:60] in flat, entry  # every timeline entry is listed
    for phase in Phase:
        assert phase.label in flat
    assert "switch running infusions to manual/backup pumps".lower() in flat.lower()


def test_notifications_and_playbook_choice(sqlite_url: str) -> None:
    alert_id, _ = _prepare(sqlite_url)
    runner, app = CliRunner(), _app()
    result = runner.invoke(app, ["incident", "open", "--title", "t", "--alert", str(alert_id), "--db", sqlite_url,
                                 "--format", "json"])
    incident_id = str(json.loads(result.output)["id"])
    letter = runner.invoke(app, ["incident", "notify", incident_id, "manufacturer", "--organisation", "St Elsewhere",
                                 "--db", sqlite_url])
    assert letter.exit_code == 0
    assert "B. Braun Space Infusomat firmware 688M" in letter.output and "St Elsewhere" in letter.output
    authority = runner.invoke(app, ["incident", "notify", incident_id, "authority", "--db", sqlite_url])
    assert "MedWatch" in authority.output
    assert set(playbooks()) == {"generic_it", "infusion_pump", "patient_monitor", "imaging_modality", "pacs",
                                "lab_analyzer"}
    assert playbook_for(["printer", "ct_scanner"]).name == "imaging_modality"  # via the parent class
    assert playbook_for(["printer"]).name == "generic_it"
    assert playbook_for(["pacs_archive", "syringe_pump"]).name == "infusion_pump"  # the most clinical wins
    for book in playbooks().values():
        assert {t.phase for t in book.tasks} >= {Phase.DETECTION_ANALYSIS, Phase.CONTAINMENT, Phase.POST_INCIDENT}


@pytest.mark.parametrize("command", [["ack"], ["resolve"], ["assign", "--person", "bob"]])
def test_alert_commands(sqlite_url: str, command: list[str]) -> None:
    alert_id, _ = _prepare(sqlite_url)
    result = CliRunner().invoke(_app(), ["alert", command[0], str(alert_id), *command[1:], "--db", sqlite_url,
                                         "--by", "zoe", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = {"ack": ("status", "acknowledged"), "resolve": ("status", "resolved"), "assign": ("assignee", "bob")}
    key, value = expected[command[0]]
    assert data[key] == value
    missing = CliRunner().invoke(_app(), ["alert", command[0], "999", *command[1:], "--db", sqlite_url])
    assert missing.exit_code == 1


def test_a_broken_alerting_section_stops_delivery_not_the_alert_desk(sqlite_url: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Acknowledging an alert keeps working (with a warning) while [alerting] is misconfigured; escalating,
    which delivers, refuses with the configuration error."""
    alert_id, _ = _prepare(sqlite_url)
    config = tmp_path / "wardwatch.toml"
    config.write_text('[alerting.notifiers.hook]\ntype = "webhook"\nurl = "nope"\n', encoding="utf-8")
    monkeypatch.setenv("WARDWATCH_CONFIG", str(config))
    acked = CliRunner().invoke(_app(), ["alert", "ack", str(alert_id), "--db", sqlite_url, "--by", "zoe",
                                        "--format", "json"])
    assert acked.exit_code == 0, acked.output
    assert "warning: invalid setting alerting.notifiers.hook" in acked.output
    assert json.loads(acked.output[acked.output.index("{"):])["status"] == "acknowledged"
    escalated = CliRunner().invoke(_app(), ["alert", "escalate", "--db", sqlite_url])
    assert escalated.exit_code != 0

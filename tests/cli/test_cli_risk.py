"""End to end through the real Typer application: an inventory of devices named in real ICSMA advisories, ``intel
import`` of ../shared/data, then ``findings``, ``risk`` and ``plan --hours 40`` give consistent JSON (issue 4)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer
from tests.conftest import require_shared
from typer.testing import CliRunner, Result

from wardwatch.inventory import Inventory
from wardwatch.inventory.imports import import_assets


def _app() -> typer.Typer:
    """The real application, with the risk commands registered when it does not (yet) register them."""
    from wardwatch.cli import risk_cmd
    from wardwatch.cli.app import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    for command in (risk_cmd.findings, risk_cmd.risk, risk_cmd.plan):
        if command.__name__ not in names:
            app.command()(command)
    if "intel" not in {g.name for g in app.registered_groups}:
        app.add_typer(risk_cmd.intel_app, name="intel")
    return app


APP = _app()

ROWS = [  # product names and versions as written in the advisories
    ("00:16:3e:00:00:01", "10.10.0.1", "Philips", "IntelliSpace Portal 8.0.x", "", "imaging_workstation"),
    ("00:16:3e:00:00:02", "10.10.0.2", "Philips", "Vue PACS", "12.1.0.0", "pacs_archive"),
    ("00:16:3e:00:00:03", "10.10.0.3", "OFFIS", "DCMTK", "3.6.6", "imaging_workstation"),
    ("00:16:3e:00:00:04", "10.10.0.4", "B. Braun Medical", "Battery pack SP with WiFi", "", "infusion_pump"),
    ("00:16:3e:00:00:05", "10.10.0.5", "Baxter", "ExactaMix EM2400", "1.10", "medication_dispensing"),
    ("00:16:3e:00:00:06", "10.10.0.6", "Acme", "Nothing Known 1", "1.0", "printer"),
]


def run(db: str, *args: str) -> Result:
    """The command in-process (Typer's runner), stdout and stderr apart."""
    return CliRunner().invoke(APP, list(args), env={"WARDWATCH_DATABASE_URL": db, "COLUMNS": "200"})


def ok_json(db: str, *args: str) -> object:
    result = run(db, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_import_findings_risk_plan(tmp_path: Path, sqlite_url: str) -> None:
    register = tmp_path / "devices.csv"
    with register.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mac", "ip", "manufacturer", "model", "firmware", "device_class"])
        writer.writerows(ROWS)
    with Inventory.open(sqlite_url) as inventory:
        assert import_assets(inventory, register).imported == len(ROWS)
    # EPSS: one year file for speed (the KEV CVEs of ICSMA-18-058-02 are from 2017)
    imported = run(sqlite_url, "intel", "import", str(require_shared("csaf-icsma")),
                   str(require_shared("kev", "known_exploited_vulnerabilities.json")),
                   str(require_shared("vulnrichment")), str(require_shared("epss", "CVE_2017_EPSS.csv")))
    assert imported.exit_code == 3, imported.stderr  # the MANIFEST.md files are skipped
    assert "rejected 0" in imported.stdout

    findings = ok_json(sqlite_url, "findings")
    assert isinstance(findings, list) and findings
    for row in findings:
        assert {"device_id", "kind", "cve", "advisory", "status", "severity", "explanation"} <= row.keys()
        assert row["status"] in ("affected", "possibly_affected", "not_affected", "fixed")
    by_device: dict[int, list[dict]] = {}
    for row in findings:
        by_device.setdefault(row["device_id"], []).append(row)
    devices = {d["ips"][0]: d["id"] for d in ok_json(sqlite_url, "devices")}  # type: ignore[union-attr]
    assert devices["10.10.0.6"] not in by_device  # an unknown product: no finding
    exacta = by_device[devices["10.10.0.5"]]
    assert any(r["cve"] == "CVE-2017-0143" and r["status"] == "affected" and "CISA KEV" in r["explanation"]
               for r in exacta)  # ICSMA-20-170-01 lists 1.10
    assert {r["status"] for r in by_device[devices["10.10.0.4"]]} == {"possibly_affected"}
    kev_first = findings[0]  # most urgent first
    assert "CISA KEV" in kev_first["explanation"] and "EPSS" in kev_first["explanation"]

    risks = ok_json(sqlite_url, "risk")
    assert isinstance(risks, list)
    scores = {r["device_id"]: r["score"] for r in risks}
    assert set(scores) == set(devices.values())
    one = ok_json(sqlite_url, "risk", "10.10.0.2")
    assert isinstance(one, dict) and one["score"] == scores[devices["10.10.0.2"]]
    assert all({"name", "value", "contribution", "source"} <= f.keys() for f in one["factors"])

    tickets = tmp_path / "tickets.json"
    plan = ok_json(sqlite_url, "plan", "--hours", "40", "--tickets", str(tickets))
    assert isinstance(plan, dict)
    assert plan["hours"] <= 40 and plan["actions"]
    assert plan["risk_before"] == round(sum(scores.values()), 2)
    ids = [a["id"] for a in plan["actions"]]
    what_if = ok_json(sqlite_url, "plan", *[x for i in ids for x in ("--do", i)])
    assert isinstance(what_if, dict)
    assert what_if["risk_before"] == plan["risk_before"] and what_if["risk_removed"] == plan["risk_removed"]
    assert [m["risk_removed"] for m in plan["marginal"]] == sorted(m["risk_removed"] for m in plan["marginal"])
    written = json.loads(tickets.read_text())
    assert [t["external_id"] for t in written] == ids and all(t["due_date"] for t in written)
    csv_out = run(sqlite_url, "plan", "--hours", "40", "--format", "csv")
    assert csv_out.exit_code == 0 and csv_out.stdout.splitlines()[0].startswith("id,kind,title,owner_team")


def test_accepted_status_survives_reevaluation(tmp_path: Path, sqlite_url: str) -> None:
    register = tmp_path / "devices.csv"
    register.write_text("mac,ip,vendor,model,firmware\n00:16:3e:00:00:02,10.10.0.2,Philips,Vue PACS,12.1.0.0\n")
    with Inventory.open(sqlite_url) as inventory:
        import_assets(inventory, register)
    advisory = require_shared("csaf-icsma", "icsma-21-187-01.json")
    assert run(sqlite_url, "intel", "import", str(advisory)).exit_code == 0
    first = ok_json(sqlite_url, "findings")
    assert isinstance(first, list) and first
    target = first[0]["id"]
    changed = run(sqlite_url, "findings", "--accept", str(target), "--note", "patch in the next window")
    assert changed.exit_code == 0, changed.stderr
    with Inventory.open(sqlite_url) as inventory:  # new traffic: the next command re-evaluates
        inventory.ingest([], [], source="another analyze")
    again = ok_json(sqlite_url, "findings", "--status", "accepted")
    assert [r["id"] for r in again] == [target]  # type: ignore[union-attr]
    assert len(ok_json(sqlite_url, "findings")) == len(first)  # type: ignore[arg-type]
    missing = run(sqlite_url, "findings", "--accept", "999999")
    assert missing.exit_code == 1 and "no finding" in missing.stderr


PUMPS = [  # ICSMA-20-317-01 (read by hand, see tests/intel/test_handchecked.py): Model 8015 up to 9.33.1
    ("00:0a:0b:00:00:01", "10.2.0.1", "BD", "Alaris PC Unit Model 8015", "9.33.1", "infusion_pump"),
    ("00:0a:0b:00:00:02", "10.2.0.2", "Becton Dickinson", "Alaris PC Unit Model 8015", "9.33.1", "infusion_pump"),
    ("00:0a:0b:00:00:03", "10.2.0.3", "BD", "Alaris PC Unit Model 8015", "9.33.2", "infusion_pump"),
    ("00:0a:0b:00:00:04", "10.2.0.4", "Philips", "IntelliVue MX40 Patient Worn Monitor (WLAN only)", "B.06.17",
     "patient_monitor"),
]


def test_intel_import_raises_one_early_warning_for_a_new_advisory(tmp_path: Path, sqlite_url: str) -> None:
    """Issue 9, must show 2, through ``wardwatch intel import``: a CSAF file not yet in the knowledge base that
    names a model of the inventory raises exactly one alert listing exactly the affected devices."""
    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.detect.early_warning import ADVISORY_RULE

    register = tmp_path / "pumps.csv"
    with register.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mac", "ip", "manufacturer", "model", "firmware", "device_class"])
        writer.writerows(PUMPS)
    with Inventory.open(sqlite_url) as inventory:
        assert import_assets(inventory, register).imported == len(PUMPS)
        affected = {inventory.get_device(mac).key for mac in ("00:0a:0b:00:00:01", "00:0a:0b:00:00:02")}

    def advisory_alerts() -> list:
        with Inventory.open(sqlite_url) as inventory:
            return [v.alert for v in AlertDesk(inventory.engine).views() if v.alert.rule == ADVISORY_RULE]

    known = run(sqlite_url, "intel", "import", str(require_shared("csaf-icsma", "icsma-17-255-01.json")))
    assert known.exit_code == 0, known.stderr
    before = advisory_alerts()
    assert not [a for a in before if a.details["advisory"].upper() == "ICSMA-20-317-01"]

    newer = require_shared("csaf-icsma", "icsma-20-317-01.json")
    result = run(sqlite_url, "intel", "import", str(newer), "--format", "json")
    assert result.exit_code == 0, result.stderr
    warned = json.loads(result.stdout)["early_warning"]
    assert len(warned) == 1 and warned[0]["new"] and set(warned[0]["devices"]) == affected
    after = advisory_alerts()
    assert len(after) == len(before) + 1
    alert = next(a for a in after if a.details["advisory"].upper() == "ICSMA-20-317-01")
    assert set(alert.devices) == affected and set(alert.details["affected"]) == affected
    assert not alert.details["possibly_affected"]  # 9.33.2 is fixed; the Philips monitor is another product

    again = run(sqlite_url, "intel", "import", str(newer), "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["early_warning"] == []  # nothing new
    assert len(advisory_alerts()) == len(after)


def test_risk_paths_from_entry_points_to_critical_devices(sqlite_url: str) -> None:
    """``wardwatch risk --paths``: the internet → a workstation → an infusion pump, the workstation ranked as
    the weakest point; a device nobody reaches is not on any path."""
    from tests.risk.conftest import flow, observations

    devices = [("00:16:3e:00:01:01", "10.20.0.5", {"device_class": "workstation", "hostname": "ward-pc"}),
               ("00:16:3e:00:01:02", "10.30.0.7", {"device_class": "infusion_pump", "hostname": "pump-7"}),
               ("00:16:3e:00:01:03", "10.30.0.8", {"device_class": "infusion_pump", "hostname": "pump-8"})]
    with Inventory.open(sqlite_url) as inventory:
        obs = [o for mac, ip, attrs in devices for o in observations(mac, ip, attrs, 1_700_000_000.0)]
        inventory.ingest(obs, [flow("10.20.0.5", "93.184.216.34", 443), flow("10.20.0.5", "10.30.0.7", 8080)],
                         source="ward")
        pc, pump, lonely = (inventory.get_device(ip).id for ip in ("10.20.0.5", "10.30.0.7", "10.30.0.8"))
    data = ok_json(sqlite_url, "risk", "--paths")
    assert isinstance(data, dict)
    assert {pump, lonely} <= set(data["targets"])
    entries = {e["node"]: e["why"] for e in data["entries"]}
    assert entries[pc] == "talks to the internet"
    to_pump = [p for p in data["paths"] if p["target"] == pump]
    assert to_pump and all(p["nodes"][-2:] == [pc, pump] for p in to_pump)
    assert not [p for p in data["paths"] if p["target"] == lonely]
    assert data["weak_points"][0]["node"] == pc and data["weak_points"][0]["targets"] == [pump]
    table = run(sqlite_url, "risk", "--paths")
    assert table.exit_code == 0 and "pump-7" in table.stdout and "Weakest points" in table.stdout


def test_intel_update_warns_of_a_new_kev_entry(tmp_path: Path, sqlite_url: str) -> None:
    """``wardwatch intel update`` from a local mirror: a CVE that enters CISA KEV and that an advisory ties to
    a device of the inventory raises one early-warning alert naming that device."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.detect.early_warning import KEV_RULE

    register = tmp_path / "devices.csv"
    register.write_text("mac,ip,vendor,model,device_class\n"
                        "00:16:3e:00:00:01,10.10.0.1,Philips,IntelliSpace Portal 8.0.x,imaging_workstation\n")
    with Inventory.open(sqlite_url) as inventory:
        import_assets(inventory, register)
        portal = inventory.get_device("10.10.0.1").key
    assert run(sqlite_url, "intel", "import", str(require_shared("csaf-icsma", "icsma-18-058-02.json"))).exit_code == 0
    catalog = json.loads(require_shared("kev", "known_exploited_vulnerabilities.json").read_text())
    catalog["vulnerabilities"] = [v for v in catalog["vulnerabilities"] if v["cveID"] == "CVE-2017-0144"]
    catalog["count"] = 1
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "kev.json").write_text(json.dumps(catalog))  # the other feeds are missing from the mirror
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(mirror))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run(sqlite_url, "intel", "update", "--base-url", url, "--cache", str(tmp_path / "cache"))
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 3, result.stderr  # two feeds failed (404), KEV imported
    with Inventory.open(sqlite_url) as inventory:
        kev_alerts = [v.alert for v in AlertDesk(inventory.engine).views() if v.alert.rule == KEV_RULE]
    assert [a.details["cve"] for a in kev_alerts] == ["CVE-2017-0144"]
    assert kev_alerts[0].devices == (portal,)
    assert "early warning: CVE-2017-0144" in result.stderr

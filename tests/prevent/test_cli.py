"""The prevention CLI: baseline, policy generate|diff|export|replay|apply, alerts (run through Typer)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.detect.scenes import normal_day
from wardwatch.alerting.store import AlertStore
from wardwatch.cli.prevent_cmd import alerts, baseline_app, policy_app
from wardwatch.domain.alert import Alert, Severity
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import analyze_captures

app = typer.Typer()
app.add_typer(baseline_app, name="baseline")
app.add_typer(policy_app, name="policy")
app.command()(alerts)
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ww.db'}"
    with Inventory.open(url) as inventory:
        analyze_captures([normal_day().write(tmp_path / "normal.pcap")], inventory)
    return url


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_policy_workflow(db: str, tmp_path: Path) -> None:
    assert "entries for 4 devices" in run("baseline", "--db", db, "--window", "30")
    entries = json.loads(run("baseline", "show", "--db", db, "--format", "json"))
    dns = next(e for e in entries if e["port"] == 53 and e["direction"] == "out" and e["scope"] == "device")
    run("baseline", "reject", str(dns["id"]), "--by", "Jo Biomed", "--db", db)
    assert "version 1" in run("policy", "generate", "--db", db)
    run("baseline", "accept", str(dns["id"]), "--by", "Jo Biomed", "--db", db)
    assert "version 2" in run("policy", "generate", "--db", db)
    diff = json.loads(run("policy", "diff", "1", "2", "--db", db, "--format", "json"))
    assert [(r["proto"], r["port"]) for r in diff["added"]] == [(17, 53)] and diff["removed"] == []
    out = tmp_path / "acl"
    run("policy", "export", "--format", "cisco", "-o", str(out), "--db", db)
    text = (out / "default.ios.acl").read_text()
    assert "permit tcp host 10.1.1.10 host 10.1.2.20 eq 104" in text
    report = json.loads(run("policy", "replay", "--db", db, "--format", "json", "--version", "1"))
    assert report["blocked"] == 3 and all("udp/53" in b for d in report["devices"] for b in d["blocked"])
    assert json.loads(run("policy", "replay", "--db", db, "--format", "json"))["blocked"] == 0
    missing = runner.invoke(app, ["policy", "apply", "--db", db])
    assert missing.exit_code != 0  # --approver is required
    if os.geteuid() == 0 and shutil.which("nft"):
        shown = run("policy", "apply", "--approver", "Dr. Ruth Ng", "--db", db, "--state-dir", str(tmp_path))
        assert "dry run" in shown and "policy drop" in shown


def test_alerts_listing(db: str) -> None:
    with Inventory.open(db) as inventory:
        AlertStore(inventory.engine).record([Alert(rule="scan", severity=Severity.HIGH, title="port scan",
                                                   devices=("ip:local/10.1.9.99",), evidence=("30 ports",),
                                                   dedup_key="scan:x", ts=1.0)])
    rows = json.loads(run("alerts", "--db", db, "--format", "json"))
    assert [(r["rule"], r["severity"], r["status"]) for r in rows] == [("scan", "high", "open")]
    assert "port scan" in run("alerts", "--db", db)
    assert runner.invoke(app, ["alerts", "--db", db, "--status", "bogus"]).exit_code == 2

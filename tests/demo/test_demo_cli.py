"""``wardwatch demo`` end to end in a subprocess: the steps work, and the served dashboard answers."""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from wardwatch.inventory.repository import Inventory

PASSWORD = "demo-password-for-tests"


def _argv(*args: str) -> list[str]:
    """``wardwatch demo ARGS``."""
    return [sys.executable, "-m", "wardwatch.cli", "demo", *args]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDWATCH_")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # no intel cache of the person running the tests
    env["XDG_DATA_HOME"] = str(tmp / "data")
    return env


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("democli")
    db = tmp / "demo.sqlite"
    done = subprocess.run(_argv("--no-serve", "--json", "--devices", "60", "--rounds", "4",
                                "--workdir", str(tmp / "work"),
                                "--db", f"sqlite:///{db}", "--demo-password", PASSWORD),
                          capture_output=True, text=True, env=_env(tmp), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), db


def _step(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in summary["steps"] if s["name"] == name)


def test_generate_and_analyze_fill_the_inventory(prepared: tuple[dict[str, Any], Path]) -> None:
    summary, db = prepared
    assert summary["ok"] is True
    assert _step(summary, "generate")["figures"]["devices"] == 60
    analyzed = _step(summary, "analyze")
    assert analyzed["status"] == "done"
    with Inventory.open(f"sqlite:///{db}") as inventory:
        listed = inventory.list_devices(limit=None)
    devices = len(listed)
    classes = len({d.value("device_class") for d in listed} - {None})
    departments = {d.value("department") for d in listed}
    assert 60 <= devices <= analyzed["figures"]["devices"]  # the asset register may merge IP-only twins
    assert classes >= 10  # a hospital's mix, classified from traffic
    assert {"ICU", "Radiology"} <= departments  # from the demo's asset register


def test_intel_findings_plan_and_alerts(prepared: tuple[dict[str, Any], Path]) -> None:
    summary, _ = prepared
    intel = _step(summary, "intel")
    assert intel["status"] == "done" and intel["figures"]["builtin_files"] >= 10
    risk = _step(summary, "risk")
    if risk["status"] == "skipped":
        pytest.skip(risk["note"])
    assert risk["status"] == "done", risk["note"]
    assert risk["figures"]["risk_findings"] > 0 and risk["figures"]["plan_actions"] > 0
    detect = _step(summary, "detect")
    if detect["status"] != "skipped":
        assert detect["status"] == "done", detect["note"]
        assert detect["figures"]["alerts"] > 0


def test_one_account_per_role(prepared: tuple[dict[str, Any], Path]) -> None:
    summary, _ = prepared
    roles = {a["role"] for a in summary["accounts"]}
    assert roles == {"admin", "security_analyst", "it_network", "biomed", "manager", "clinician"}
    clinician = next(a for a in summary["accounts"] if a["role"] == "clinician")
    assert clinician["departments"] and all(a["password"] == PASSWORD for a in summary["accounts"])


def test_random_passwords_differ_per_account(tmp_path: Path) -> None:
    from wardwatch.demo.run.accounts import create_accounts

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    first = create_accounts(engine, None)
    again = create_accounts(engine, None)  # a second run resets, never fails on existing users
    assert len({a.password for a in first}) == len(first)
    assert {a.password for a in first}.isdisjoint({a.password for a in again})


def _wait_for_line(proc: subprocess.Popen[str], pattern: re.Pattern[str], deadline: float) -> re.Match[str]:
    """Read stderr until a line matches (bounded by ``deadline``; the select has a timeout, no sleep)."""
    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen: list[str] = []
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = pattern.search(line)
        if match:
            return match
    raise AssertionError("no 'serving on' line; stderr:\n" + "".join(seen)[-3000:])


def test_serves_login_and_dashboard(tmp_path: Path) -> None:
    db = tmp_path / "serve.sqlite"
    proc = subprocess.Popen(_argv("--json", "--devices", "50", "--rounds", "2", "--port", "0",
                                  "--workdir", str(tmp_path / "w"),
                                  "--db", f"sqlite:///{db}", "--demo-password", PASSWORD),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    try:
        match = _wait_for_line(proc, re.compile(r"serving on (http://127\.0\.0\.1:\d+/)"), time.monotonic() + 240)
        base = match.group(1)
        with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as client:
            login = client.get("/login")
            assert login.status_code == 200 and "password" in login.text
            token = re.search(r'name="csrf_token"\s+value="([^"]+)"', login.text)
            assert token is not None
            answer = client.post("/login", data={"username": "demo-admin", "password": PASSWORD,
                                                 "csrf_token": token.group(1)})
            assert answer.status_code == 303, answer.text[:500]
            dashboard = client.get("/")
            assert dashboard.status_code == 200
            assert "demo-admin" in dashboard.text
            assert client.get("/devices").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)

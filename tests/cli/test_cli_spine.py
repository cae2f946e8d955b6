"""The spine's CLI through a real subprocess: analyze, devices, device, exit codes, bad input (issue 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import require_shared

from wardwatch.native import missing_extensions

WARDWATCH = [sys.executable, "-m", "wardwatch.cli"]


def run(db: str, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARDWATCH_DATABASE_URL": db, "COLUMNS": "200"}
    return subprocess.run([*WARDWATCH, *args], capture_output=True, text=True, env=env, timeout=300,
                          input=input_text)


def devices_json(db: str) -> list[dict]:
    result = run(db, "devices", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_analyze_then_list_and_show(sqlite_url: str) -> None:
    capture = require_shared("iot-sentinel", "Aria", "Setup-A-1-STA.pcap")
    mac = (capture.parent / "_iotdevice-mac.txt").read_text().strip().lower()
    result = run(sqlite_url, "analyze", "--quiet", str(capture))
    assert result.returncode == 0, result.stderr
    assert "packets/s" in result.stdout
    found = [d for d in devices_json(sqlite_url) if d["mac"] == mac]
    assert len(found) == 1
    device = found[0]
    for key in ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os", "firmware", "asset_tag",
                "department", "first_seen", "last_seen", "attributes"):
        assert key in device
    shown = run(sqlite_url, "device", mac, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)
    assert profile["id"] == device["id"]
    assert all(a["evidence"] for a in profile["attributes"].values())
    by_ip = run(sqlite_url, "device", device["ips"][0], "--format", "json")
    assert json.loads(by_ip.stdout)["id"] == device["id"]
    csv_out = run(sqlite_url, "devices", "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("id,mac,ips")
    assert mac in csv_out.stdout


def _evidence_count(devices: list[dict]) -> int:
    return sum(len(a["evidence"]) for d in devices for a in d["attributes"].values())


def test_reanalysis_is_idempotent_and_captures_merge(sqlite_url: str) -> None:
    first = require_shared("iot-sentinel", "WeMoSwitch2")
    captures = sorted(first.glob("*.pcap"))
    assert run(sqlite_url, "analyze", "-q", str(captures[0])).returncode == 0
    once = devices_json(sqlite_url)
    assert run(sqlite_url, "analyze", "-q", str(captures[0])).returncode == 0
    twice = devices_json(sqlite_url)
    assert [d["id"] for d in once] == [d["id"] for d in twice]
    assert _evidence_count(once) == _evidence_count(twice)
    assert {d["mac"]: d["attributes"].keys() for d in once} == {d["mac"]: d["attributes"].keys() for d in twice}
    assert run(sqlite_url, "analyze", "-q", str(captures[1])).returncode == 0
    merged = devices_json(sqlite_url)
    mac = (first / "_iotdevice-mac.txt").read_text().strip().lower()
    assert len([d for d in merged if d["mac"] == mac]) == 1


@pytest.mark.parametrize("content", [b"", b"this is not a capture at all\n" * 10,
                                     bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000") + b"\x01\x02"])
def test_bad_captures_exit_3_with_a_clear_line(tmp_path: Path, sqlite_url: str, content: bytes) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(content)
    result = run(sqlite_url, "analyze", "-q", str(bad))
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout


def test_truncated_capture_counts_skips(tmp_path: Path, sqlite_url: str) -> None:
    capture = require_shared("zeek-traces", "dhcp_dhcp.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture[: len(capture) - 7])
    result = run(sqlite_url, "analyze", "-q", str(cut))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr


def test_usage_and_lookup_errors(sqlite_url: str, tmp_path: Path) -> None:
    missing = run(sqlite_url, "analyze", str(tmp_path / "nope.pcap"))
    assert missing.returncode == 2
    unknown = run(sqlite_url, "device", "99999")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().startswith("error:") and "Traceback" not in unknown.stderr
    assert run(sqlite_url, "devices", "--format", "yaml").returncode == 2


def test_inventory_import_reports_unknown_columns(sqlite_url: str, tmp_path: Path) -> None:
    sheet = tmp_path / "cmms.csv"
    sheet.write_text("MAC,IP,Hostname,Manufacturer,Model,Asset Tag,Department,Colour\n"
                     "00:09:fb:01:02:03,10.20.0.5,icu-mon-5,Philips,IntelliVue MX450,A-1001,ICU,blue\n")
    result = run(sqlite_url, "inventory", "import", str(sheet))
    assert result.returncode == 3, result.stderr
    assert "colour" in (result.stdout + result.stderr).lower()
    device = json.loads(run(sqlite_url, "device", "00:09:fb:01:02:03", "--format", "json").stdout)
    assert device["asset_tag"] == "A-1001"
    assert device["department"] == "ICU"
    assert device["attributes"]["model"]["source"] == "import"


def test_portable_path_gives_the_same_inventory_and_says_it_ran(sqlite_url: str, tmp_path: Path) -> None:
    """The Python references of the C hot path (forced) make the same devices, with a note that they ran."""
    capture = require_shared("iot-sentinel", "Aria", "Setup-A-1-STA.pcap")
    fast = run(sqlite_url, "analyze", "--quiet", str(capture))
    assert fast.returncode == 0, fast.stderr
    assert ("portable Python path ran" in fast.stdout) == bool(missing_extensions())
    portable_db = f"sqlite:///{tmp_path / 'portable.db'}"
    env = {**os.environ, "WARDWATCH_DATABASE_URL": portable_db, "COLUMNS": "200",
           "WARDWATCH_PURE_PYTHON_KERNELS": "1"}
    slow = subprocess.run([*WARDWATCH, "analyze", "--quiet", str(capture)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert slow.returncode == 0, slow.stderr
    assert "portable Python path ran" in slow.stdout

    def comparable(db: str) -> list[dict[str, object]]:
        return sorted(({k: v for k, v in d.items() if k != "id"} for d in devices_json(db)),
                      key=lambda d: (d["mac"] or "", d["ips"]))

    assert comparable(sqlite_url) == comparable(portable_db)

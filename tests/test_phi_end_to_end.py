"""Issue 3, must show 2: PHI never lands.

Real DICOM and HL7 traffic carrying distinctive patient names, MRNs and birth dates goes through the
whole pipeline (analyze with debug logging, the CLI's outputs, the REST API, the CSV export); then the
database files, the logs and every output are searched for those strings, and none is found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.peers.dicom import PHI, capture_pynetdicom_store, with_phi
from tests.peers.dicom import testdata as dicom_file
from tests.peers.hl7 import capture_mllp

NEEDLES = [PHI["mrn"], PHI["birth_date"], *PHI["name"].split("^"), PHI["name"]]


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARDWATCH_DATABASE_URL": db, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "wardwatch.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _assert_clean(label: str, text: str | bytes) -> None:
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    for needle in NEEDLES:
        assert needle.encode() not in blob, f"{needle!r} found in {label}"
        assert needle.encode("utf-16-le") not in blob, f"{needle!r} (UTF-16) found in {label}"


def test_phi_on_the_wire_never_lands_anywhere(tmp_path: Path) -> None:
    dicom = capture_pynetdicom_store(tmp_path, [with_phi(dicom_file("CT_small.dcm"), tmp_path / "ct.dcm")])
    hl7 = capture_mllp(tmp_path)
    wire = dicom.pcap.read_bytes() + hl7.pcap.read_bytes()
    assert PHI["mrn"].encode() in wire and PHI["name"].split("^")[0].encode() in wire  # the test is meaningful

    db_file = tmp_path / "inventory.db"
    db = f"sqlite:///{db_file}"
    outputs: dict[str, str] = {}
    analyzed = _cli(db, "-vv", "analyze", "--quiet", str(dicom.pcap), str(hl7.pcap))
    assert analyzed.returncode == 0, analyzed.stderr
    outputs["analyze stdout"], outputs["analyze debug log"] = analyzed.stdout, analyzed.stderr
    listed = _cli(db, "devices", "--format", "json")
    outputs["devices json"] = listed.stdout
    devices = json.loads(listed.stdout)
    assert devices, "the pipeline found no device"
    outputs["devices csv"] = _cli(db, "devices", "--format", "csv").stdout
    outputs["devices table"] = _cli(db, "devices").stdout
    for device in devices:
        outputs[f"device {device['id']} json"] = _cli(db, "device", str(device["id"]), "--format", "json").stdout
        outputs[f"device {device['id']} table"] = _cli(db, "device", str(device["id"])).stdout

    from fastapi.testclient import TestClient

    from wardwatch.web.app import create_app
    from wardwatch.web.auth.roles import Role

    app = create_app(db)
    app.state.access.add_user("auditor", Role.admin, "correct horse battery staple")
    token = app.state.access.create_token("auditor")
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        outputs["api list"] = client.get("/api/v1/devices", headers=headers).text
        for device in devices:
            outputs[f"api device {device['id']}"] = client.get(f"/api/v1/devices/{device['id']}", headers=headers).text
            outputs[f"api history {device['id']}"] = client.get(f"/api/v1/devices/{device['id']}/history",
                                                                headers=headers).text
        outputs["api dashboard"] = client.get("/api/v1/dashboard", headers=headers).text

    for label, text in outputs.items():
        _assert_clean(label, text)
    for path in tmp_path.glob("inventory.db*"):
        _assert_clean(path.name, path.read_bytes())

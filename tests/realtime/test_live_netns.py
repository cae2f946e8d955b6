"""Must show 1 (issue 8): live capture on a veth while real DICOM and DHCP cross it; devices appear live.

A gateway namespace routes between a modality and a PACS namespace. ``wardwatch sensor --interface``
(all-in-one mode, SQLite) captures on the gateway's modality-side veth. The modality broadcasts a
hand-built DHCPDISCOVER and runs a real pynetdicom C-ECHO + C-STORE to the PACS SCP; the test polls the
inventory (bounded loops) and finds both facts on the modality's device while the sensor still runs.
Then SIGTERM: the sensor flushes and exits 0, and its status row reports the packets it processed.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.prevent.netns import Lab, can_netns, serve
from tests.realtime.procs import ROOT, realtime, spawn, stop, wait_for
from wardwatch.errors import NotFoundError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.ledger import sensor_status

pytestmark = [pytest.mark.netns, pytest.mark.slow]
PORT = 11112


def _attribute(inventory: Inventory, mac: str, name: str) -> str | None:
    try:
        device = inventory.get_device(mac)
    except NotFoundError:
        return None
    attribute = device.attributes.get(name)
    return attribute.value if attribute is not None else None


def _ae_titles(inventory: Inventory, mac: str) -> set[str]:
    try:
        device = inventory.get_device(mac)
    except NotFoundError:
        return set()
    return {f.value for f in inventory.facts(device.id) if f.kind.startswith("dicom.")}


def test_live_capture_dicom_and_dhcp(tmp_path: Path) -> None:
    reason = can_netns()
    if reason:
        pytest.skip(reason)
    lab = Lab(prefix=f"wl{os.getpid() % 100000}", net=78)
    db = f"sqlite:///{tmp_path / 'live.db'}"
    Inventory.open(db).close()
    sensor = None
    try:
        lab.start(["mod", "pacs"])
        mod, pacs = lab.hosts["mod"], lab.hosts["pacs"]
        mod_if = f"{lab.prefix}h1"
        mac = lab.exec(mod.ns, "cat", f"/sys/class/net/{mod_if}/address").stdout.strip()
        with serve(lab, pacs.ns, "scp", pacs.ip, str(PORT), "PACS", cwd=ROOT):
            sensor = spawn(realtime("sensor", "--interface", lab.gw_if("mod"), "--site", "icu", "--name", "gw1",
                                    "--interval", "0.3", "--db", db), log=tmp_path / "sensor.log",
                           prefix=("ip", "netns", "exec", lab.gateway))
            inventory = Inventory.open(db)

            def dhcp_seen() -> bool:
                assert sensor is not None and sensor.poll() is None, (tmp_path / "sensor.log").read_text()
                lab.exec(mod.ns, sys.executable, "-m", "tests.realtime.dhcp_ns", mod_if, "infusion-pump-7",
                         "BBraun-Space")  # resent each round until the capture has caught one
                return _attribute(inventory, mac, "hostname") == "infusion-pump-7"

            wait_for(dhcp_seen, 60, "the DHCP client in the inventory", interval=0.3)
            done = lab.exec(mod.ns, sys.executable, "-m", "tests.prevent.dicom_ns", "scu", pacs.ip, str(PORT),
                            "CT_SCANNER", "PACS", check=False, timeout=60)
            assert done.returncode == 0, done.stderr
            wait_for(lambda: "CT_SCANNER" in _ae_titles(inventory, mac), 60, "the DICOM AE title in the inventory")
            assert sensor.poll() is None  # all of it while the capture is still running
            pacs_device = inventory.get_device(pacs.ip)
            assert "PACS" in {f.value for f in inventory.facts(pacs_device.id) if f.kind.startswith("dicom.")}
            assert stop(sensor, signal.SIGTERM) == 0, (tmp_path / "sensor.log").read_text()
            with inventory.engine.connect() as conn:
                (status,) = sensor_status(conn)
            assert status.name == "gw1" and status.source == "interface"
            assert status.counters["packets"] > 0
            assert status.counters["drops"] == 0
            inventory.close()
    finally:
        if sensor is not None:
            stop(sensor)
        lab.close()

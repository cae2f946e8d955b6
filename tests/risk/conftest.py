"""Fixtures of the risk tests: an inventory with devices named in real ICSMA advisories and a knowledge base."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require_shared

from wardwatch.domain.flow import PROTO_TCP, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import Inventory

#: Advisories of different shapes: KEV CVEs on all versions (ICSMA-18-058-02), a KEV CVE in a range
#: (ICSMA-21-187-01), a vulnrichment-enriched range (ICSMA-22-174-01), a version-less pump (ICSMA-21-294-01).
ADVISORIES = ("icsma-18-058-02.json", "icsma-21-187-01.json", "icsma-22-174-01.json", "icsma-21-294-01.json")

#: (mac, ip, attributes) of the test hospital.
DEVICES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("00:11:22:33:44:01", "10.1.0.11", {"vendor": "Philips", "model": "IntelliSpace Portal 8.0.x",
                                        "device_class": "imaging_workstation", "department": "Radiology"}),
    ("00:11:22:33:44:02", "10.1.0.12", {"vendor": "Philips", "model": "Vue PACS", "firmware": "12.1.0.0",
                                        "device_class": "pacs_archive", "department": "Radiology"}),
    ("00:11:22:33:44:03", "10.1.0.13", {"vendor": "OFFIS", "model": "DCMTK", "firmware": "3.6.6",
                                        "device_class": "imaging_workstation", "department": "Radiology"}),
    ("00:11:22:33:44:04", "10.1.0.14", {"vendor": "OFFIS", "model": "DCMTK", "firmware": "3.6.7",
                                        "device_class": "imaging_workstation", "department": "Radiology"}),
    ("00:11:22:33:44:05", "10.2.0.21", {"vendor": "B. Braun Medical", "model": "Battery pack SP with WiFi",
                                        "device_class": "infusion_pump", "department": "ICU"}),
    ("00:11:22:33:44:06", "10.3.0.31", {"vendor": "Acme", "model": "Workstation 1", "device_class": "workstation",
                                        "department": "IT"}),
)


def observations(mac: str, ip: str, attrs: dict[str, str], ts: float) -> list[Observation]:
    """``import.*`` observations creating one device (as a CMMS import would)."""
    out = [Observation(ts=ts, sensor="local", kind="import.ip", value=ip, mac=mac, ip=ip, source="import")]
    out += [Observation(ts=ts, sensor="local", kind=f"import.{k}", value=v, mac=mac, ip=ip, source="import")
            for k, v in attrs.items()]
    return out


def flow(src: str, dst: str, port: int, app: str | None = None, ts: float = 1_700_000_000.0) -> FlowRecord:
    """One TCP flow with answers."""
    return FlowRecord(src, dst, PROTO_TCP, 50000, port, None, None, ts, ts + 1, 5, 5, 500, 500, app=app)


@pytest.fixture(scope="session")
def intel_files() -> list[Path]:
    """The real advisories, KEV, vulnrichment and one EPSS year of ../shared/data."""
    folder = require_shared("csaf-icsma")
    return [*(folder / name for name in ADVISORIES),
            require_shared("kev", "known_exploited_vulnerabilities.json"),
            require_shared("vulnrichment", "CVE-2022-2121.json"),
            require_shared("epss", "CVE_2017_EPSS.csv")]


@pytest.fixture
def hospital(database_url: str, intel_files: list[Path]) -> Iterator[tuple[Inventory, KnowledgeBase]]:
    """The test hospital (devices, a telnet fact, internet and HL7 flows) and its knowledge base."""
    inventory = Inventory.open(database_url)
    ts = time.time()
    obs = [o for mac, ip, attrs in DEVICES for o in observations(mac, ip, attrs, ts)]
    obs.append(Observation(ts=ts, sensor="local", kind="telnet.seen", value="true", mac="00:11:22:33:44:05",
                           ip="10.2.0.21"))
    flows = [flow("10.3.0.31", "93.184.216.34", 443), flow("10.3.0.31", "10.1.0.12", 104, "dicom"),
             flow("10.1.0.12", "10.2.0.21", 2575, "hl7")]
    inventory.ingest(obs, flows, source="test hospital")
    kb = KnowledgeBase(inventory.engine, create=False)
    report = import_paths(kb, intel_files)
    assert not report.rejected, report.rejected
    try:
        yield inventory, kb
    finally:
        inventory.close()

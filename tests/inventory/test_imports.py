"""CMMS / asset-register import from CSV and XLSX (files made in the test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from wardwatch.domain.observation import Observation
from wardwatch.errors import ImportRejectedError
from wardwatch.inventory import Inventory, device_to_json, import_assets

PUMP = "00:1b:63:84:45:e6"

CSV_TEXT = """\
MAC Address;IP;Host Name;Manufacturer;Model;Firmware;Serial Number;Asset Tag;Dept;Location;Criticality;Owner;Colour
00-1B-63-84-45-E6;10.1.2.3;pump-12;B. Braun;Space;4.2.1;SN-001;A-1001;ICU;Room 4;high;Biomed;blue
;10.1.2.4;monitor-3;Philips;MX450;;;A-1002;ICU;Room 5;high;Biomed;red
zz:zz;10.1.2.5;bad;X;;;;;;;;;
;;;orphan;;;;;;;;;
aa:bb:cc:dd:ee:ff;300.1.2.3;badip;;;;;;;;;;
"""


def test_csv_import_creates_devices_and_reports(inventory: Inventory, tmp_path: Path) -> None:
    path = tmp_path / "cmms.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    summary = import_assets(inventory, path, sensor="s1")
    assert summary.rows == 5 and summary.imported == 2 and summary.devices_new == 2
    assert summary.unknown_columns == ("Colour",)
    assert [n for n, _ in summary.malformed] == [4, 5, 6]
    assert "MAC" in summary.malformed[0][1] and "neither" in summary.malformed[1][1]
    assert "IP" in summary.malformed[2][1]
    pump = device_to_json(inventory.get_device(PUMP))
    assert pump["ips"] == ["10.1.2.3"]
    assert (pump["vendor"], pump["model"], pump["firmware"], pump["asset_tag"], pump["department"]) == (
        "B. Braun", "Space", "4.2.1", "A-1001", "ICU")
    assert pump["attributes"]["vendor"]["source"] == "import"
    assert pump["attributes"]["criticality"]["value"] == "high"
    monitor = inventory.get_device("10.1.2.4")
    assert monitor.key == "ip:s1/10.1.2.4" and monitor.value("model") == "MX450"


def test_import_beats_observed_and_reimport_is_stable(inventory: Inventory, tmp_path: Path) -> None:
    inventory.ingest([Observation(ts=10, sensor="s1", kind="dhcp.hostname", value="observed-name", mac=PUMP)])
    path = tmp_path / "cmms.csv"
    path.write_text("mac,hostname\n00:1b:63:84:45:e6,register-name\n", encoding="utf-8")
    import_assets(inventory, path, sensor="s1", now=1000)
    import_assets(inventory, path, sensor="s1", now=1000)
    device = inventory.get_device(PUMP)
    assert device.value("hostname") == "register-name"
    assert device.id is not None
    assert len([f for f in inventory.facts(device.id) if f.kind == "import.hostname"]) == 1


def test_xlsx_import(inventory: Inventory, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["  ASSET_TAG ", "mac", "ip address", "serial", "department", "Unknown Thing"])
    sheet.append(["A-7", "00:09:fb:12:34:56", "10.9.0.7", 123456, "Radiology", "x"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["A-8", "not-a-mac", None, None, None, None])
    path = tmp_path / "assets.xlsx"
    book.save(path)
    summary = import_assets(inventory, path)
    assert (summary.rows, summary.imported) == (2, 1)
    assert summary.malformed[0][0] == 4 and summary.unknown_columns == ("Unknown Thing",)
    device = inventory.get_device("00:09:fb:12:34:56")
    assert device.value("serial") == "123456" and device.value("asset_tag") == "A-7"
    assert device.ips == ("10.9.0.7",)


@pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", b""),
    ("noid.csv", b"hostname,model\npump,Space\n"),
    ("binary.csv", b"\x00\x01\x02garbage\x00"),
    ("fake.xlsx", b"this is not a zip"),
    ("assets.pdf", b"%PDF-1.4"),
])
def test_wrong_shape_is_rejected_and_nothing_stored(inventory: Inventory, tmp_path: Path, name: str,
                                                    content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejectedError, match=re.escape(name)):
        import_assets(inventory, path)
    assert inventory.list_devices() == [] and inventory.ingest_runs() == []


def test_missing_file_is_rejected(inventory: Inventory, tmp_path: Path) -> None:
    with pytest.raises(ImportRejectedError, match=re.escape("nope.csv")):
        import_assets(inventory, tmp_path / "nope.csv")

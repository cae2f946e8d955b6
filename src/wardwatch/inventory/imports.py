"""CMMS / asset-register import (CSV or XLSX) into the inventory, as ``import.*`` Observations.

Each data row becomes Observations ``import.<attribute>`` about the row's MAC and/or IP with
``source="import"``, so imported values take the IMPORT tier of the resolver (above rules and
observations, below a person's manual value) and a row naming both MAC and IP binds them.

Headers are matched case-, space-, dash- and underscore-insensitively against :data:`ALIASES`; unknown
columns are reported, not fatal. A row with a malformed MAC or IP, or with neither, is skipped and
reported with its row number (the header is row 1). A file that is not a readable CSV/XLSX table, or
whose header has neither a MAC nor an IP column, is rejected with :class:`ImportRejectedError` and
nothing is stored; everything else is stored in one transaction.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wardwatch.domain.observation import MAX_EXCERPT, MAX_VALUE, Observation, clip
from wardwatch.errors import ImportRejectedError
from wardwatch.identify.oui import is_multicast, normalize_mac
from wardwatch.identify.ownership import normalize_ip
from wardwatch.inventory.repository import Inventory

#: Most data rows read from one file (a register of a very large hospital group fits).
MAX_ROWS = 1_000_000

#: Header (normalized) → attribute. ``mac`` and ``ip`` identify the device.
ALIASES: dict[str, str] = {
    **dict.fromkeys(("mac", "mac_address", "macaddress", "hardware_address", "ethernet_address", "mac_addr"),
                    "mac"),
    **dict.fromkeys(("ip", "ip_address", "ipaddress", "ipv4", "ipv4_address", "ipv6", "ipv6_address", "ip_addr"),
                    "ip"),
    **dict.fromkeys(("hostname", "host_name", "host", "device_name", "name", "dns_name", "network_name"),
                    "hostname"),
    **dict.fromkeys(("vendor", "manufacturer", "make", "mfr", "brand"), "vendor"),
    **dict.fromkeys(("model", "model_name", "model_number", "product"), "model"),
    **dict.fromkeys(("firmware", "firmware_version", "fw", "fw_version", "software_version"), "firmware"),
    **dict.fromkeys(("serial", "serial_number", "serial_no", "sn"), "serial"),
    **dict.fromkeys(("asset_tag", "asset", "asset_id", "asset_number", "asset_no", "tag", "equipment_id"),
                    "asset_tag"),
    **dict.fromkeys(("department", "dept", "unit", "ward", "cost_center"), "department"),
    **dict.fromkeys(("location", "room", "site", "building"), "location"),
    **dict.fromkeys(("criticality", "clinical_criticality", "risk_class", "priority"), "criticality"),
    **dict.fromkeys(("owner", "responsible", "contact", "custodian"), "owner"),
    **dict.fromkeys(("device_class", "class", "device_type", "type", "category"), "device_class"),
    **dict.fromkeys(("os", "operating_system"), "os"),
    **dict.fromkeys(("udi", "udi_di", "gudid"), "udi"),
    **dict.fromkeys(("notes", "note", "comment", "comments", "description"), "notes"),
}
_NON_WORD = re.compile(r"[\s\-./]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did."""

    path: str
    rows: int
    imported: int
    devices_new: int
    devices_updated: int
    unknown_columns: tuple[str, ...]
    malformed: tuple[tuple[int, str], ...]
    run_id: int | None


def normalize_header(text: str) -> str:
    """``"  Asset Tag "`` → ``asset_tag``."""
    return _NON_WORD.sub("_", text.strip().lower()).strip("_")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clip(_CONTROL.sub("", str(value)).strip(), MAX_VALUE)


def _rows_csv(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise ImportRejectedError(f"{path}: not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise ImportRejectedError(f"{path}: unreadable CSV ({exc})") from None


def _rows_xlsx(path: Path) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportRejectedError(f"{path}: not a readable XLSX workbook ({exc.__class__.__name__})") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportRejectedError(f"{path}: the workbook has no sheet")
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def read_table(path: Path) -> Iterator[list[str]]:
    """Rows of a CSV or XLSX file, as lists of cleaned strings."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ImportRejectedError(f"{path}: no such file")
    if suffix in (".xlsx", ".xlsm"):
        return _rows_xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _rows_csv(path)
    raise ImportRejectedError(f"{path}: unsupported file type {suffix or '(none)'} (use .csv or .xlsx)")


def import_assets(inventory: Inventory, path: Path | str, *, sensor: str = "local",
                  now: float | None = None) -> ImportSummary:
    """Create or update devices from an asset-register export; see the module docstring."""
    path = Path(path)
    ts = time.time() if now is None else now
    rows = read_table(path)
    header: list[str] | None = None
    header_row = 0
    for number, row in enumerate(rows, start=1):
        if any(_cell(c) for c in row):
            header, header_row = [_cell(c) for c in row], number
            break
    if header is None:
        raise ImportRejectedError(f"{path}: the file is empty")
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for index, name in enumerate(header):
        attribute = ALIASES.get(normalize_header(name))
        if attribute is None:
            if name:
                unknown.append(name)
        elif attribute not in columns.values():
            columns[index] = attribute
    if "mac" not in columns.values() and "ip" not in columns.values():
        raise ImportRejectedError(f"{path}: no MAC or IP column in the header (found: {', '.join(header)[:200]})")

    observations: list[Observation] = []
    malformed: list[tuple[int, str]] = []
    total = imported = 0
    for number, row in enumerate(rows, start=header_row + 1):
        values = {attr: _cell(row[i]) for i, attr in columns.items() if i < len(row)}
        if not any(values.values()):
            continue
        total += 1
        if total > MAX_ROWS:
            raise ImportRejectedError(f"{path}: more than {MAX_ROWS} rows")
        problem, mac, ip = _identity(values.get("mac", ""), values.get("ip", ""))
        if problem:
            malformed.append((number, problem))
            continue
        imported += 1
        excerpt = clip(f"{path.name} row {number}", MAX_EXCERPT)
        if ip is not None:
            observations.append(Observation(ts=ts, sensor=sensor, kind="import.ip", value=ip, mac=mac, ip=ip,
                                            excerpt=excerpt, source="import"))
        else:
            observations.append(Observation(ts=ts, sensor=sensor, kind="import.mac", value=mac or "", mac=mac,
                                            excerpt=excerpt, source="import"))
        for attribute, value in values.items():
            if attribute in ("mac", "ip") or not value:
                continue
            observations.append(Observation(ts=ts, sensor=sensor, kind=f"import.{attribute}", value=value,
                                            mac=mac, ip=ip, excerpt=excerpt, source="import"))
    summary = inventory.ingest(observations, source=f"import {path.name}") if observations else None
    return ImportSummary(
        path=str(path), rows=total, imported=imported,
        devices_new=summary.devices_new if summary else 0,
        devices_updated=summary.devices_updated if summary else 0,
        unknown_columns=tuple(unknown), malformed=tuple(malformed),
        run_id=summary.run_id if summary else None,
    )


def _identity(mac_text: str, ip_text: str) -> tuple[str, str | None, str | None]:
    """(problem, mac, ip) of one row."""
    mac = ip = None
    if mac_text:
        mac = normalize_mac(mac_text)
        if mac is None:
            return f"malformed MAC {mac_text[:40]!r}", None, None
        if is_multicast(mac):
            return f"MAC {mac} is a group (multicast) address", None, None
    if ip_text:
        ip = normalize_ip(ip_text)
        if ip is None:
            return f"malformed IP {ip_text[:50]!r}", None, None
    if mac is None and ip is None:
        return "neither MAC nor IP", None, None
    return "", mac, ip

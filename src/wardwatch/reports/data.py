"""What a report shows, gathered once from the inventory and the optional capabilities.

Sections that another capability computes (risk, remediation plan, findings) come through the web
layer's :class:`~wardwatch.web.services.Extensions`; when it has nothing, the section is ``None`` and the
renderers say "not computed yet" rather than showing an empty table as if the answer were zero.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from wardwatch.domain.device import Device
from wardwatch.inventory import queries
from wardwatch.inventory import tables as t
from wardwatch.inventory.queries import DeviceQuery
from wardwatch.inventory.read import load_devices

#: Columns of the inventory export, in order.
INVENTORY_COLUMNS = ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os", "firmware",
                     "serial", "asset_tag", "department", "location", "owner", "criticality", "first_seen",
                     "last_seen")


class ReportSources(Protocol):
    """What the report reads beyond the inventory tables (``web.services.Extensions`` satisfies it)."""

    def findings_by_severity(self, departments: tuple[str, ...] | None) -> list[tuple[str, int]]: ...
    def all_findings(self, departments: tuple[str, ...] | None) -> list[dict[str, Any]] | None: ...
    def plan(self) -> list[dict[str, Any]] | None: ...
    def risk_by(self, attribute: str, departments: tuple[str, ...] | None
                ) -> list[tuple[str, float, int]] | None: ...


@dataclass
class ReportData:
    """Everything the executive report shows."""

    generated: float
    scope: tuple[str, ...] | None
    total: int
    unknown: int
    by_class: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    by_vendor: list[tuple[str, int]]
    subnets: list[tuple[str, int]]
    protocols: list[tuple[str, int]]
    new_per_week: list[tuple[str, int]]
    findings_by_severity: list[tuple[str, int]]
    risk_by_department: list[tuple[str, float, int]] | None
    risk_by_class: list[tuple[str, float, int]] | None
    plan: list[dict[str, Any]] | None
    newest: list[Device] = field(default_factory=list)


def iso_day(ts: float | None) -> str:
    """``YYYY-MM-DD HH:MM`` UTC of an epoch time (empty for none)."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _weeks(conn: sa.Connection, departments: tuple[str, ...] | None, weeks: int = 12) -> list[tuple[str, int]]:
    """Devices first seen per ISO week (the last ``weeks`` weeks that have any)."""
    where = queries.conditions(DeviceQuery(departments=departments)) if departments is not None else []
    counts: dict[str, int] = {}
    for (first,) in conn.execute(sa.select(t.devices.c.first_seen).where(*where)):
        year, week, _ = dt.datetime.fromtimestamp(first, tz=dt.UTC).isocalendar()
        label = f"{year}-W{week:02d}"
        counts[label] = counts.get(label, 0) + 1
    return sorted(counts.items())[-weeks:]


def _protocols(conn: sa.Connection, limit: int = 10) -> list[tuple[str, int]]:
    """Application protocols seen on the network (flows per protocol), most common first."""
    app = sa.func.coalesce(t.flows.c.app, "other")
    stmt = sa.select(app, sa.func.count()).group_by(app).order_by(sa.func.count().desc()).limit(limit)
    return [(str(a), int(n)) for a, n in conn.execute(stmt)]


def gather(engine: sa.Engine, sources: ReportSources, departments: tuple[str, ...] | None = None,
           newest: int = 25) -> ReportData:
    """Collect the report's numbers (scoped to ``departments`` when given)."""
    with engine.connect() as conn:
        by_class = queries.count_by_attribute(conn, "device_class", departments, limit=1000)
        unknown = sum(n for label, n in by_class if label in ("", "unknown"))
        page = queries.device_page(conn, DeviceQuery(sort="-first_seen", limit=newest, departments=departments))
        return ReportData(
            generated=time.time(), scope=departments, total=queries.count_devices(conn, departments),
            unknown=unknown, by_class=by_class[:15],
            by_department=queries.count_by_attribute(conn, "department", departments, limit=15),
            by_vendor=queries.count_by_attribute(conn, "vendor", departments, limit=10),
            subnets=queries.count_by_subnet(conn, departments, limit=10),
            protocols=_protocols(conn) if departments is None else [],
            new_per_week=_weeks(conn, departments),
            findings_by_severity=sources.findings_by_severity(departments),
            risk_by_department=sources.risk_by("department", departments),
            risk_by_class=sources.risk_by("device_class", departments),
            plan=sources.plan(),
            newest=load_devices(conn, page[1]),
        )


def inventory_rows(engine: sa.Engine, departments: tuple[str, ...] | None = None,
                   batch: int = 2000) -> list[list[str]]:
    """The inventory export: a header row, then one row per device (scoped), by id."""
    out: list[list[str]] = [list(INVENTORY_COLUMNS)]
    with engine.connect() as conn:
        _total, ids = queries.device_page(conn, DeviceQuery(sort="id", limit=None, departments=departments))
        for start in range(0, len(ids), batch):
            for device in load_devices(conn, ids[start:start + batch]):
                out.append(_device_row(device))
    return out


def _device_row(device: Device) -> list[str]:
    row: list[str] = []
    for column in INVENTORY_COLUMNS:
        if column == "id":
            row.append(str(device.id))
        elif column == "mac":
            row.append(device.mac or "")
        elif column == "ips":
            row.append(";".join(device.ips))
        elif column in ("first_seen", "last_seen"):
            row.append(iso_day(getattr(device, column)))
        elif column == "vendor":
            row.append(device.value("vendor") or device.value("mac_vendor") or "")
        else:
            row.append(device.value(column) or "")
    return row


def dict_rows(items: Sequence[dict[str, Any]]) -> list[list[str]]:
    """A header (the union of keys, in first-seen order) and one row per dict."""
    columns: list[str] = []
    for item in items:
        for key in item:
            if key not in columns:
                columns.append(key)
    return [columns] + [["" if item.get(c) is None else str(item.get(c)) for c in columns] for item in items]

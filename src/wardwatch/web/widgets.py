"""Dashboard widgets: what each shows, which roles get it by default, and where each number links.

A widget is data, not a page: ``compute`` returns a small dict rendered by one of four generic templates
(``number``, ``bars``, ``rows``, ``search``). Every number carries the link to the filtered list behind
it (issue 5: drill-down everywhere). A user's layout is a list of ``{"id", "size"}`` entries saved per
user; the role default applies until they change it, and "reset" returns to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from wardwatch.web.auth.roles import Permission, Role

SIZES = ("s", "m", "l")


class DashboardData(Protocol):
    """What widgets read; implemented by :class:`wardwatch.web.services.InventoryStats`."""

    def device_count(self, departments: tuple[str, ...] | None) -> int: ...
    def count_by(self, attribute: str, departments: tuple[str, ...] | None, limit: int = 12
                 ) -> list[tuple[str, int]]: ...
    def subnets(self, departments: tuple[str, ...] | None, limit: int = 12) -> list[tuple[str, int]]: ...
    def findings_by_severity(self, departments: tuple[str, ...] | None) -> list[tuple[str, int]]: ...
    def recent_alerts(self, departments: tuple[str, ...] | None, limit: int = 8) -> list[dict[str, Any]]: ...
    def devices_with_open_problems(self, departments: tuple[str, ...] | None, limit: int = 12
                                   ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class WidgetContext:
    """What a widget computes from: the data service and the viewer's department scope."""

    data: DashboardData
    departments: tuple[str, ...] | None


@dataclass(frozen=True)
class Widget:
    """One widget kind."""

    id: str
    title: str
    template: str
    permission: Permission
    compute: Callable[[WidgetContext], dict[str, Any]]
    default_size: str = "s"


def devices_link(**filters: str) -> str:
    """The inventory list URL filtered by ``filters``."""
    clean = {k: v for k, v in filters.items() if v}
    return "/devices" + (f"?{urlencode(clean)}" if clean else "")


def _bars(rows: list[tuple[str, int]], key: str) -> dict[str, Any]:
    return {"rows": [{"label": label or "unknown", "count": count,
                      "href": devices_link(**{key: label or "unknown"})} for label, count in rows]}


def _device_total(ctx: WidgetContext) -> dict[str, Any]:
    return {"value": ctx.data.device_count(ctx.departments), "href": devices_link(), "caption": "devices seen"}


def _unknown(ctx: WidgetContext) -> dict[str, Any]:
    rows = dict(ctx.data.count_by("device_class", ctx.departments, limit=1000))
    return {"value": rows.get("", 0) + rows.get("unknown", 0), "href": devices_link(device_class="unknown"),
            "caption": "devices not yet classified"}


def _findings(ctx: WidgetContext) -> dict[str, Any]:
    rows = ctx.data.findings_by_severity(ctx.departments)
    return {"rows": [{"label": sev, "count": n, "href": f"/findings?severity={sev}", "css": f"sev-{sev}"}
                     for sev, n in rows], "empty": "No findings yet: import advisories with `wardwatch intel import`."}


def _alerts(ctx: WidgetContext) -> dict[str, Any]:
    alerts = ctx.data.recent_alerts(ctx.departments)
    return {"rows": [{"label": a.get("title", ""), "detail": a.get("severity", ""), "href": a.get("href", "/alerts")}
                     for a in alerts], "empty": "No alerts."}


def _problems(ctx: WidgetContext) -> dict[str, Any]:
    rows = ctx.data.devices_with_open_problems(ctx.departments)
    return {"rows": [{"label": r["label"], "detail": r["problem"], "href": f"/devices/{r['id']}"} for r in rows],
            "empty": "No open problems on these devices."}


WIDGETS: dict[str, Widget] = {w.id: w for w in (
    Widget("device_total", "Devices", "number", Permission.devices_read, _device_total),
    Widget("unknown_devices", "Unknown devices", "number", Permission.devices_read, _unknown),
    Widget("by_class", "Devices by class", "bars", Permission.devices_read,
           lambda c: _bars(c.data.count_by("device_class", c.departments), "device_class"), "m"),
    Widget("by_vendor", "Devices by vendor", "bars", Permission.devices_read,
           lambda c: _bars(c.data.count_by("vendor", c.departments), "vendor"), "m"),
    Widget("by_model", "Medical devices by model", "bars", Permission.devices_read,
           lambda c: _bars(c.data.count_by("model", c.departments), "model"), "m"),
    Widget("by_department", "Devices by department", "bars", Permission.devices_read,
           lambda c: _bars(c.data.count_by("department", c.departments), "department"), "m"),
    Widget("subnets", "Subnets", "bars", Permission.devices_read,
           lambda c: _bars(c.data.subnets(c.departments), "subnet"), "m"),
    Widget("findings_by_severity", "Findings by severity", "bars", Permission.findings_read, _findings, "m"),
    Widget("recent_alerts", "Recent alerts", "rows", Permission.alerts_read, _alerts, "m"),
    Widget("open_problems", "Devices with open problems", "rows", Permission.findings_read, _problems, "m"),
    Widget("inventory_search", "Inventory search", "search", Permission.devices_read, lambda c: {}, "s"),
)}

ROLE_DEFAULTS: dict[Role, tuple[str, ...]] = {
    Role.admin: ("device_total", "unknown_devices", "findings_by_severity", "recent_alerts", "by_class"),
    Role.manager: ("device_total", "findings_by_severity", "recent_alerts", "open_problems", "by_department"),
    Role.clinician: ("device_total", "open_problems", "by_class"),
    Role.biomed: ("device_total", "by_class", "by_model", "findings_by_severity", "open_problems"),
    Role.it_network: ("device_total", "unknown_devices", "subnets", "by_vendor", "recent_alerts"),
    Role.security_analyst: ("inventory_search", "device_total", "findings_by_severity", "recent_alerts",
                            "unknown_devices", "by_class"),
}


def default_layout(role: Role) -> list[dict[str, Any]]:
    """The role's default widgets, each at its default size."""
    return [{"id": wid, "size": WIDGETS[wid].default_size} for wid in ROLE_DEFAULTS[role]]


def clean_layout(layout: object, role: Role) -> list[dict[str, Any]]:
    """A layout from the client, kept only where it names known widgets the role may see."""
    from wardwatch.web.auth.roles import allowed

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    if not isinstance(layout, list):
        raise ValueError("a layout is a list of widgets")
    for item in layout[:40]:
        if not isinstance(item, dict):
            raise ValueError("each widget is an object with id and size")
        wid, size = item.get("id"), item.get("size", "s")
        if wid not in WIDGETS or wid in seen:
            raise ValueError(f"unknown or repeated widget: {wid!r}")
        if size not in SIZES:
            raise ValueError(f"unknown size: {size!r}")
        if not allowed(role, WIDGETS[wid].permission):
            raise ValueError(f"widget {wid} is not available to your role")
        seen.add(wid)
        out.append({"id": wid, "size": size})
    return out

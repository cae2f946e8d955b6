"""Rendering helpers shared by the page routes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from wardwatch.web.auth.roles import Permission, allowed
from wardwatch.web.auth.store import User
from wardwatch.web.security import csrf_token


def when(ts: float | None) -> str:
    """A timestamp as an ISO 8601 UTC string (empty for none)."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def nav_for(user: User | None) -> list[dict[str, str]]:
    """Extra navigation entries the user's role may open."""
    if user is None:
        return []
    items = []
    if allowed(user.role, Permission.findings_read):
        items.append({"href": "/findings", "label": "Findings"})
    if allowed(user.role, Permission.alerts_read):
        items.append({"href": "/alerts", "label": "Alerts"})
    if allowed(user.role, Permission.reports_read):
        items.append({"href": "/reports", "label": "Reports"})
    if allowed(user.role, Permission.devices_write):
        items.append({"href": "/devices/import", "label": "Import"})
    return items


def page(request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
         ) -> HTMLResponse:
    """Render ``template`` with the common context (user, CSRF token, navigation)."""
    templates = request.app.state.templates
    oidc = getattr(request.app.state, "oidc", None)
    common = {"user": user, "csrf": csrf_token(request), "extra_nav": nav_for(user),
              "oidc_name": oidc.display_name if oidc is not None else None}
    response: HTMLResponse = templates.TemplateResponse(
        request, template, {**common, **context},
        status_code=status_code,
    )
    return response

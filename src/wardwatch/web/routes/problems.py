"""Findings and alerts: pages (``/findings``, ``/alerts``) and API (``/api/v1/findings``, ``/api/v1/alerts``).

Both read through ``services.Extensions`` and are scoped to the viewer's departments; until the risk and
alerting capabilities fill them, the pages say so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.render import page
from wardwatch.web.routes.pages import services
from wardwatch.web.security import department_scope, require

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["findings and alerts"])

FindingReader = Annotated[User, Depends(require(Permission.findings_read))]
AlertReader = Annotated[User, Depends(require(Permission.alerts_read))]


def _findings(request: Request, user: User, severity: str | None) -> list[dict[str, Any]] | None:
    found = services(request).extensions.all_findings(department_scope(user))
    if found is None or not severity:
        return found
    return [f for f in found if str(f.get("severity", "")).lower() == severity.lower()]


@router.get("/findings", response_class=HTMLResponse)
def findings_page(request: Request, user: FindingReader, severity: str | None = None) -> HTMLResponse:
    """Findings in scope, optionally of one severity."""
    return page(request, "problems.html", user, heading="Findings", items=_findings(request, user, severity),
                severity=severity, kind="findings")


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: AlertReader) -> HTMLResponse:
    """Recent alerts in scope."""
    items = services(request).extensions.recent_alerts(department_scope(user), 200)
    return page(request, "problems.html", user, heading="Alerts", items=items, severity=None, kind="alerts")


@api.get("/findings")
def api_findings(request: Request, user: FindingReader, severity: str | None = None) -> dict[str, Any]:
    """Findings in scope (``computed`` is false until findings exist)."""
    found = _findings(request, user, severity)
    return {"computed": found is not None, "items": found or []}


@api.get("/alerts")
def api_alerts(request: Request, user: AlertReader,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The newest alerts in scope."""
    return {"items": services(request).extensions.recent_alerts(department_scope(user), limit)}

"""Reports from the UI (``/reports``) and the API (``/api/v1/reports/...``): the executive PDF and
CSV/XLSX exports, scoped like every other read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from wardwatch.reports.build import FORMATS, MEDIA_TYPES, TABLES, ReportError, build, filename
from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.render import page
from wardwatch.web.routes.pages import services
from wardwatch.web.security import department_scope, require

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["reports"])

Reporter = Annotated[User, Depends(require(Permission.reports_read))]


def _download(request: Request, user: User, fmt: str, what: str) -> Response:
    if fmt not in FORMATS or what not in TABLES:
        raise HTTPException(404, "no such report")
    svc = services(request)
    try:
        body = build(svc.engine, svc.extensions, fmt, what, department_scope(user))
    except ReportError as exc:
        raise HTTPException(404, str(exc)) from exc
    request.app.state.access.audit(user.username, "report.download", f"{what}.{fmt}")
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename(fmt, what)}"'})


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: Reporter) -> HTMLResponse:
    """Downloads: the executive PDF and the exports that exist."""
    ext = services(request).extensions
    scope = department_scope(user)
    available = {"inventory": True, "findings": ext.all_findings(scope) is not None, "plan": ext.plan() is not None}
    return page(request, "reports.html", user, available=available)


@router.get("/reports/executive.pdf")
def executive_pdf(request: Request, user: Reporter) -> Response:
    """The executive report as PDF."""
    return _download(request, user, "pdf", "inventory")


@router.get("/reports/{what}.{fmt}")
def export(request: Request, what: str, fmt: str, user: Reporter) -> Response:
    """An export (inventory, findings or plan) as CSV or XLSX."""
    return _download(request, user, fmt, what)


@api.get("/reports/executive.pdf")
def api_executive_pdf(request: Request, user: Reporter) -> Response:
    """The executive report as PDF."""
    return _download(request, user, "pdf", "inventory")


@api.get("/reports/{what}.{fmt}")
def api_export(request: Request, what: str, fmt: str, user: Reporter) -> Response:
    """An export (``inventory``, ``findings`` or ``plan``) as ``csv`` or ``xlsx``."""
    return _download(request, user, fmt, what)

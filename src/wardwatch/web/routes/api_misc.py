"""REST API for the signed-in user, dashboards, widgets, audit log and users (``/api/v1``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from wardwatch.web.auth.roles import Permission, allowed
from wardwatch.web.auth.store import User
from wardwatch.web.routes.pages import layout_for, render_widgets, services
from wardwatch.web.security import require
from wardwatch.web.widgets import WIDGETS, clean_layout

router = APIRouter(prefix="/api/v1", tags=["platform"])

Reader = Annotated[User, Depends(require(Permission.devices_read))]
Auditor = Annotated[User, Depends(require(Permission.audit_read))]
Admin = Annotated[User, Depends(require(Permission.users_admin))]


class Layout(BaseModel):
    """A dashboard layout: widgets in order, each with a size s/m/l."""

    widgets: list[dict[str, Any]]


@router.get("/me")
def me(user: Reader) -> dict[str, Any]:
    """Who the caller is."""
    return {"id": user.id, "username": user.username, "role": user.role.value,
            "departments": list(user.departments)}


@router.get("/dashboard")
def get_dashboard(request: Request, user: Reader) -> dict[str, Any]:
    """The caller's dashboard: layout and every widget's data (with drill-down links)."""
    layout = layout_for(request, user)
    return {"widgets": render_widgets(services(request), user, layout)}


@router.put("/dashboard")
def put_dashboard(request: Request, body: Layout, user: Reader) -> dict[str, Any]:
    """Save the caller's widget layout."""
    try:
        layout = clean_layout(body.widgets, user.role)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    request.app.state.access.save_dashboard(user, layout)
    return {"widgets": layout}


@router.delete("/dashboard")
def reset_dashboard(request: Request, user: Reader) -> dict[str, Any]:
    """Back to the role default."""
    request.app.state.access.reset_dashboard(user)
    return {"widgets": layout_for(request, user)}


@router.get("/widgets/{widget_id}")
def widget(request: Request, widget_id: str, user: Reader) -> dict[str, Any]:
    """One widget's data."""
    found = WIDGETS.get(widget_id)
    if found is None or not allowed(user.role, found.permission):
        raise HTTPException(404, "no such widget")
    return render_widgets(services(request), user, [{"id": widget_id, "size": found.default_size}])[0]


@router.get("/audit")
def audit(request: Request, user: Auditor, limit: int = 200) -> list[dict[str, Any]]:
    """The newest audit log entries."""
    return list(request.app.state.access.audit_entries(min(max(limit, 1), 1000)))


@router.get("/users")
def users(request: Request, user: Admin) -> list[dict[str, Any]]:
    """Every user with role and departments."""
    return [{"id": u.id, "username": u.username, "role": u.role.value, "departments": list(u.departments),
             "disabled": u.disabled} for u in request.app.state.access.list_users()]

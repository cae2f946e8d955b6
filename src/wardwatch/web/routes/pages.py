"""Server-rendered pages: sign-in, the role dashboard, the inventory list and the device page."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wardwatch.errors import NotFoundError
from wardwatch.web.auth.roles import Permission, allowed
from wardwatch.web.auth.store import User
from wardwatch.web.render import page, when
from wardwatch.web.security import csrf_token, department_scope, require
from wardwatch.web.services import COUNT_CAP, DeviceQuery, WebServices
from wardwatch.web.widgets import WIDGETS, WidgetContext, clean_layout, default_layout

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
PROFILE_FIELDS = ("hostname", "vendor", "model", "device_class", "os", "firmware", "software", "serial",
                  "department", "location", "owner", "criticality", "asset_tag", "role", "modality")
MANUAL_FIELDS = ("department", "location", "owner", "criticality", "asset_tag", "notes")
LIST_COLUMNS = (("name", "Name"), ("ip", "Addresses"), ("mac", "MAC"), ("vendor", "Vendor"), ("model", "Model"),
                ("device_class", "Class"), ("department", "Department"), ("last_seen", "Last seen"))
ROLE_TITLES = {"admin": "Administrator", "security_analyst": "Security analyst", "it_network": "IT / network",
               "biomed": "Clinical engineering", "manager": "Manager", "clinician": "Clinician"}


def services(request: Request) -> WebServices:
    """The application's services."""
    svc: WebServices = request.app.state.services
    return svc


Reader = Annotated[User, Depends(require(Permission.devices_read))]
Editor = Annotated[User, Depends(require(Permission.devices_write))]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return page(request, "login.html", None)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form(alias="csrf_token")] = "") -> Response:
    """Check the CSRF token, the throttle and the password; start a session."""
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(expected), csrf):
        return page(request, "login.html", None, status_code=403, error="Your form expired; please try again.")
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"ip:{client}")
    access = request.app.state.access
    if throttle.blocked(*keys):
        access.audit(username, "login.throttled", client)
        return page(request, "login.html", None, status_code=429,
                    error="Too many failed sign-ins; wait 15 minutes and try again.")
    user = access.authenticate(username, password)
    if user is None:
        throttle.fail(*keys)
        access.audit(username, "login.failed", client)
        return page(request, "login.html", None, status_code=401, error="Wrong user name or password.")
    throttle.succeed(*keys)
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    access.audit(user.username, "login", client)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, user: Reader) -> Response:
    """End the session."""
    request.app.state.access.audit(user.username, "logout", "")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def render_widgets(svc: WebServices, user: User, layout: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compute each widget of a layout the user may see."""
    ctx = WidgetContext(svc.stats, department_scope(user))
    out = []
    with svc.stats.view():  # one look at the change marker for every widget of this view
        for item in layout:
            widget = WIDGETS.get(item["id"])
            if widget is None or not allowed(user.role, widget.permission):
                continue
            out.append({"id": widget.id, "title": widget.title, "template": widget.template,
                        "size": item.get("size", widget.default_size), "data": widget.compute(ctx)})
    return out


def layout_for(request: Request, user: User) -> list[dict[str, Any]]:
    """The user's saved layout, or the default of their role."""
    saved = request.app.state.access.dashboard(user.id)
    if saved is None:
        return default_layout(user.role)
    try:
        return clean_layout(saved, user.role)
    except ValueError:
        return default_layout(user.role)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: Reader) -> HTMLResponse:
    """The user's dashboard."""
    svc = services(request)
    layout = layout_for(request, user)
    shown = {w["id"] for w in layout}
    available = [w for w in WIDGETS.values() if w.id not in shown and allowed(user.role, w.permission)]
    return page(request, "dashboard.html", user, widgets=render_widgets(svc, user, layout), available=available,
                role_title=ROLE_TITLES.get(user.role.value, user.role.value))


@router.post("/dashboard/reset")
def dashboard_reset(request: Request, user: Reader) -> Response:
    """Back to the role's default widgets."""
    request.app.state.access.reset_dashboard(user)
    return RedirectResponse("/", status_code=303)


def device_query(request: Request, user: User) -> DeviceQuery:
    """Filters, sort and page of the inventory list from the query string, scoped to the user."""
    params = request.query_params
    try:
        page_no = max(1, int(params.get("page", "1")))
    except ValueError:
        page_no = 1
    return DeviceQuery(
        search=params.get("q") or None, vendor=params.get("vendor") or None,
        device_class=params.get("device_class") or None, department=params.get("department") or None,
        subnet=params.get("subnet") or None, model=params.get("model") or None,
        sort=params.get("sort") or "name", limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE,
        departments=department_scope(user), count_cap=COUNT_CAP,
    )


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, user: Reader) -> HTMLResponse:
    """The inventory list with search, filters, sorting and pagination."""
    svc = services(request)
    query = device_query(request, user)
    try:
        total, found = svc.list_devices(query)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    base = {k: v for k, v in request.query_params.items() if k != "page"}
    page_no = query.offset // PAGE_SIZE + 1

    def with_(**changes: Any) -> str:
        merged = {**base, **{k: str(v) for k, v in changes.items()}}
        return urlencode(merged)

    def sort_query(column: str) -> str:
        current = base.get("sort", "name")
        return with_(sort=f"-{column}" if current == column else column)

    rows = [svc.device_row(d) for d in found]
    filters = {**base, "sort": base.get("sort", "name")}
    shown_total = f"{COUNT_CAP:,}+".replace(",", "\u2009") if total > COUNT_CAP else str(total)
    return page(request, "devices.html", user, devices=rows, total=shown_total, filters=filters, page=page_no,
                columns=LIST_COLUMNS, sort_query=sort_query, query=urlencode(base),
                prev_query=with_(page=page_no - 1) if page_no > 1 else None,
                next_query=with_(page=page_no + 1) if query.offset + PAGE_SIZE < total else None)


@router.get("/devices.csv")
def devices_csv(request: Request, user: Reader) -> Response:
    """The filtered inventory list as CSV."""
    svc = services(request)
    query = device_query(request, user)
    query = DeviceQuery(**{**query.__dict__, "limit": None, "offset": 0, "count_cap": None})
    _, found = svc.list_devices(query)
    return Response(svc.devices_csv(found), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="devices.csv"'})


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device_page(request: Request, device_id: int, user: Reader) -> HTMLResponse:
    """One device: profile, evidence, history, communication map, findings, alerts."""
    svc = services(request)
    try:
        device = svc.get_device(device_id, department_scope(user))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc
    history = [{"kind": e.kind, "attribute": e.attribute, "old": e.old, "new": e.new, "when": when(e.ts)}
               for e in svc.history(device_id)][-50:]
    manual = {n: a.value for n, a in device.attributes.items() if a.source == "manual"}
    title = device.value("hostname") or device.mac or (device.ips[0] if device.ips else f"device {device_id}")
    return page(request, "device.html", user, device=device, title=title, history=history,
                profile_fields=PROFILE_FIELDS, manual_fields=MANUAL_FIELDS, manual=manual,
                can_edit=allowed(user.role, Permission.devices_write),
                graph_json=json.dumps(svc.comm_graph(device)), findings=svc.findings_for(device_id),
                risk=svc.risk_for(device_id), alerts=svc.alerts_for(device_id))


@router.post("/devices/{device_id}/context")
async def device_context(request: Request, device_id: int, user: Editor) -> Response:
    """Save the context a person sets on a device (manual values win over inferred ones)."""
    svc = services(request)
    try:
        svc.get_device(device_id, department_scope(user))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc
    form = await request.form()
    for name in MANUAL_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            svc.set_manual(device_id, name, value.strip()[:256], user.username)
    csrf_token(request)
    return RedirectResponse(f"/devices/{device_id}", status_code=303)

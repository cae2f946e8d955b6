"""Incidents and the alert lifecycle: pages (``/incidents``) and API (``/api/v1/incidents``, alert actions).

Reading needs ``alerts:read``; acting (open, complete a task, advance, close, acknowledge, assign, resolve,
suppress) needs ``alerts:write``; the PDF report needs ``reports:read``. A department-scoped viewer sees
only incidents that involve a device of their departments. Form posts are CSRF-checked by
``security.current_user``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.domain.alert import Severity
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.inventory import queries
from wardwatch.inventory import tables as t
from wardwatch.inventory.queries import DeviceQuery
from wardwatch.respond.model import Incident
from wardwatch.respond.playbook import Phase
from wardwatch.respond.service import IncidentService
from wardwatch.web.auth.roles import Permission, allowed
from wardwatch.web.auth.store import User
from wardwatch.web.render import page
from wardwatch.web.routes.pages import services
from wardwatch.web.security import department_scope, require

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["incidents"])

Reader = Annotated[User, Depends(require(Permission.alerts_read))]
Writer = Annotated[User, Depends(require(Permission.alerts_write))]
ReportReader = Annotated[User, Depends(require(Permission.reports_read))]


def _service(request: Request) -> IncidentService:
    return IncidentService(services(request).engine)


def _visible(request: Request, user: User, incident: Incident) -> bool:
    scope = department_scope(user)
    if scope is None:
        return True
    keys = [k for k, _ in incident.devices]
    if not keys:
        return False
    with services(request).engine.connect() as conn:
        where = queries.conditions(DeviceQuery(departments=scope))
        return conn.execute(sa.select(t.devices.c.id).where(t.devices.c.key.in_(keys), *where).limit(1)).first() \
            is not None


def _get(request: Request, user: User, incident_id: int) -> Incident:
    try:
        incident = _service(request).get(incident_id)
    except NotFoundError as exc:
        raise HTTPException(404, "no such incident") from exc
    if not _visible(request, user, incident):
        raise HTTPException(404, "no such incident")
    return incident


def _json(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "title": incident.title, "severity": incident.severity.name.lower(),
            "phase": incident.phase.value, "status": incident.status, "playbook": incident.playbook,
            "lead": incident.lead, "opened_at": incident.opened_at, "closed_at": incident.closed_at,
            "alerts": list(incident.alert_ids), "devices": [k for k, _ in incident.devices],
            "tasks": [{"key": k.key, "phase": k.phase.value, "title": k.title, "kind": k.kind, "done_by": k.done_by,
                       "done_at": k.done_at} for k in incident.tasks],
            "timeline": [{"ts": e.ts, "actor": e.actor, "action": e.action, "detail": e.detail}
                         for e in incident.timeline]}


def _act(call: Any, *args: Any, **kw: Any) -> Any:
    try:
        return call(*args, **kw)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except WardwatchError as exc:
        raise HTTPException(409, str(exc)) from exc


# -- pages ---------------------------------------------------------------------------------------------
@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, user: Reader) -> HTMLResponse:
    """Incidents in scope, newest first."""
    items = [i for i in _service(request).list() if _visible(request, user, i)]
    return page(request, "incidents/list.html", user, items=items)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: int, user: Reader) -> HTMLResponse:
    """One incident: phase, tasks, timeline, evidence."""
    incident = _get(request, user, incident_id)
    return page(request, "incidents/detail.html", user, incident=incident, phases=list(Phase),
                can_act=allowed(user.role, Permission.alerts_write) and incident.status == "open")


@router.post("/incidents/{incident_id}/tasks/{key}")
def incident_task_form(request: Request, incident_id: int, key: str, user: Writer) -> Response:
    """Complete a task from the page."""
    _get(request, user, incident_id)
    _act(_service(request).complete_task, incident_id, key, user.username)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/advance")
def incident_advance_form(request: Request, incident_id: int, user: Writer) -> Response:
    """Advance to the next phase from the page."""
    _get(request, user, incident_id)
    _act(_service(request).advance, incident_id, user.username)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.get("/incidents/{incident_id}/report.pdf")
def incident_report(request: Request, incident_id: int, user: ReportReader) -> Response:
    """The post-incident report."""
    from wardwatch.respond.report import post_incident_pdf

    incident = _get(request, user, incident_id)
    return Response(post_incident_pdf(incident), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="INC-{incident.id}.pdf"'})


# -- API -----------------------------------------------------------------------------------------------
class OpenIncident(BaseModel):
    """Body of ``POST /api/v1/incidents``."""

    title: str = Field(min_length=1, max_length=300)
    alert_ids: list[int] = Field(default_factory=list, max_length=500)
    devices: list[str] = Field(default_factory=list, max_length=500)
    severity: str = "high"
    summary: str = Field(default="", max_length=5000)
    lead: str | None = Field(default=None, max_length=128)


class TaskDone(BaseModel):
    """Body of a task completion."""

    note: str = Field(default="", max_length=500)


class Suppression(BaseModel):
    """Body of an alert suppression."""

    reason: str = Field(min_length=1, max_length=300)
    hours: float = Field(gt=0, le=24 * 90)


class Assignment(BaseModel):
    """Body of an alert assignment."""

    person: str | None = Field(default=None, max_length=128)
    team: str | None = Field(default=None, max_length=64)


@api.get("/incidents")
def api_incidents(request: Request, user: Reader) -> dict[str, Any]:
    """Incidents in scope."""
    return {"items": [_json(i) for i in _service(request).list() if _visible(request, user, i)]}


@api.get("/incidents/{incident_id}")
def api_incident(request: Request, incident_id: int, user: Reader) -> dict[str, Any]:
    """One incident."""
    return _json(_get(request, user, incident_id))


@api.post("/incidents", status_code=201)
def api_open(request: Request, body: OpenIncident, user: Writer) -> dict[str, Any]:
    """Open an incident over alerts and devices (the alerts' devices are included)."""
    svc = services(request)
    keys = list(body.devices)
    desk = AlertDesk(svc.engine)
    for alert_id in body.alert_ids:
        keys += list(_act(desk.get, alert_id).alert.devices)
    devices = [_act(svc.inventory.get_device, k) for k in dict.fromkeys(keys)]
    try:
        severity = Severity[body.severity.upper()]
    except KeyError as exc:
        raise HTTPException(422, "severity: info, low, medium, high or critical") from exc
    incident = _act(_service(request).open, body.title, user.username, devices=devices, alert_ids=body.alert_ids,
                    severity=severity, summary=body.summary, lead=body.lead)
    return _json(incident)


@api.post("/incidents/{incident_id}/tasks/{key}")
def api_task(request: Request, incident_id: int, key: str, body: TaskDone, user: Writer) -> dict[str, Any]:
    """Complete a task."""
    _get(request, user, incident_id)
    return _json(_act(_service(request).complete_task, incident_id, key, user.username, note=body.note))


@api.post("/incidents/{incident_id}/advance")
def api_advance(request: Request, incident_id: int, user: Writer) -> dict[str, Any]:
    """Advance to the next phase (409 while tasks of the current one are open)."""
    _get(request, user, incident_id)
    return _json(_act(_service(request).advance, incident_id, user.username))


@api.post("/incidents/{incident_id}/close")
def api_close(request: Request, incident_id: int, user: Writer) -> dict[str, Any]:
    """Close after post-incident activity."""
    _get(request, user, incident_id)
    return _json(_act(_service(request).close, incident_id, user.username))


def _alert_json(view: Any) -> dict[str, Any]:
    return {**view.alert.to_dict(), "teams": list(view.teams), "assignee": view.assignee,
            "suppressed_until": view.suppressed_until, "escalation_level": view.escalation_level}


@api.post("/alerts/{alert_id}/ack")
def api_alert_ack(request: Request, alert_id: int, user: Writer) -> dict[str, Any]:
    """Acknowledge an alert."""
    return _alert_json(_act(AlertDesk(services(request).engine).acknowledge, alert_id, user.username))


@api.post("/alerts/{alert_id}/resolve")
def api_alert_resolve(request: Request, alert_id: int, user: Writer) -> dict[str, Any]:
    """Resolve an alert."""
    return _alert_json(_act(AlertDesk(services(request).engine).resolve, alert_id, user.username))


@api.post("/alerts/{alert_id}/assign")
def api_alert_assign(request: Request, alert_id: int, body: Assignment, user: Writer) -> dict[str, Any]:
    """Assign an alert to a person and/or team."""
    return _alert_json(_act(AlertDesk(services(request).engine).assign, alert_id, user.username,
                            person=body.person, team=body.team))


@api.post("/alerts/{alert_id}/suppress")
def api_alert_suppress(request: Request, alert_id: int, body: Suppression, user: Writer) -> dict[str, Any]:
    """Suppress an alert for some hours with a reason."""
    now = time.time()
    return _alert_json(_act(AlertDesk(services(request).engine).suppress, alert_id, user.username,
                            reason=body.reason, until=now + body.hours * 3600, now=now))

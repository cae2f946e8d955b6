"""REST API for devices (``/api/v1``): the same data and authorization as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wardwatch.errors import NotFoundError
from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.render import when
from wardwatch.web.routes.pages import MANUAL_FIELDS, services
from wardwatch.web.security import department_scope, require
from wardwatch.web.services import COUNT_CAP, DeviceQuery

router = APIRouter(prefix="/api/v1", tags=["devices"])

Reader = Annotated[User, Depends(require(Permission.devices_read))]
Editor = Annotated[User, Depends(require(Permission.devices_write))]


class DeviceContext(BaseModel):
    """Context a person sets on a device; omitted fields stay as they are."""

    department: str | None = Field(None, max_length=256)
    location: str | None = Field(None, max_length=256)
    owner: str | None = Field(None, max_length=256)
    criticality: str | None = Field(None, max_length=64)
    asset_tag: str | None = Field(None, max_length=128)
    notes: str | None = Field(None, max_length=2000)


@router.get("/devices")
def list_devices(
    request: Request, user: Reader,
    q: str | None = None, vendor: str | None = None, device_class: str | None = None,
    department: str | None = None, subnet: str | None = None, model: str | None = None,
    sort: str = "name", limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Devices matching the filters, one page at a time.

    ``total`` counts the matches of a filter up to ``COUNT_CAP`` (5 000); beyond, it is 5 001 and
    ``total_exact`` is false (the unfiltered inventory is always counted exactly).
    """
    svc = services(request)
    query = DeviceQuery(search=q, vendor=vendor, device_class=device_class, department=department,
                        subnet=subnet, model=model, sort=sort, limit=limit, offset=offset,
                        departments=department_scope(user), count_cap=COUNT_CAP)
    try:
        total, found = svc.list_devices(query)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    # a Response as is: FastAPI's jsonable_encoder walk of 50 devices with evidence costs more than the query
    return JSONResponse({"total": total, "total_exact": total <= COUNT_CAP, "limit": limit, "offset": offset,
                         "items": [svc.device_json(d) for d in found]})


@router.get("/devices/{device_id}")
def get_device(request: Request, device_id: int, user: Reader) -> JSONResponse:
    """One device with every attribute, its confidence and evidence."""
    svc = services(request)
    try:
        return JSONResponse(svc.device_json(svc.get_device(device_id, department_scope(user))))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc


@router.get("/devices/{device_id}/history")
def device_history(request: Request, device_id: int, user: Reader) -> list[dict[str, Any]]:
    """What changed on a device, when, and on what evidence."""
    svc = services(request)
    try:
        svc.get_device(device_id, department_scope(user))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc
    return [{"time": when(e.ts), "kind": e.kind, "attribute": e.attribute, "old": e.old, "new": e.new,
             "evidence": e.evidence} for e in svc.history(device_id)]


@router.patch("/devices/{device_id}")
def set_context(request: Request, device_id: int, body: DeviceContext, user: Editor) -> dict[str, Any]:
    """Set department, location, owner, criticality, asset tag or notes (manual values win)."""
    svc = services(request)
    try:
        svc.get_device(device_id, department_scope(user))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc
    for name in MANUAL_FIELDS:
        value = getattr(body, name)
        if value is not None and value.strip():
            svc.set_manual(device_id, name, value.strip(), user.username)
    return svc.device_json(svc.get_device(device_id, None))

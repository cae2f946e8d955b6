"""Risk API (``/api/v1``): attack paths, the remediation plan for a budget, a device's findings and risk.

Everything here reads what the risk service stored (``wardwatch findings|risk|plan`` or the pipeline
evaluate the inventory); nothing is written: the plan of ``GET /api/v1/plan`` is not recorded as a plan run.
All routes need ``findings_read`` and are scoped like every read: a department-scoped viewer (clinician)
sees the paths and plan actions among the devices of their departments only, and no whole-hospital totals.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request

from wardwatch.errors import NotFoundError
from wardwatch.inventory import tables as t
from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.routes.pages import services
from wardwatch.web.security import department_scope, require

router = APIRouter(prefix="/api/v1", tags=["risk"])

FindingReader = Annotated[User, Depends(require(Permission.findings_read))]
_LOCK = threading.Lock()


def _weights(request: Request) -> Any:
    from wardwatch.risk.service import risk_weights

    return risk_weights(getattr(request.app.state, "settings", None))


def _in_scope(request: Request, departments: tuple[str, ...]) -> set[int]:
    """Ids of the devices of ``departments``."""
    with services(request).engine.connect() as conn:
        rows = conn.execute(sa.select(t.attributes.c.device_id).where(
            t.attributes.c.name == "department", t.attributes.c.value.in_(list(departments))))
        return {int(i) for i in rows.scalars()}


def _device(request: Request, user: User, device_id: int) -> None:
    try:
        services(request).get_device(device_id, department_scope(user))
    except NotFoundError as exc:
        raise HTTPException(404, "no such device") from exc


@router.get("/risk/paths")
def attack_paths(request: Request, user: FindingReader,
                 max_hops: Annotated[int, Query(ge=1, le=8)] = 4,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:
    """Attack paths from entry points (internet, user devices, remote access) to critical clinical devices
    over the observed communication graph, and the weakest points ranked by the critical devices they expose."""
    from wardwatch.risk.paths import analyze_inventory

    report = analyze_inventory(services(request).inventory, _weights(request), max_hops)
    scope = department_scope(user)
    if scope is not None:
        report = report.within(_in_scope(request, scope))
    return report.to_dict(limit)


def _planner(request: Request) -> Any:
    """The planner on the stored evaluation, kept until the next evaluation or finding decision."""
    from wardwatch.intel.store import KnowledgeBase
    from wardwatch.risk.planning import Planner
    from wardwatch.risk.service import last_evaluation

    engine = services(request).engine
    last = last_evaluation(engine)
    if last is None:
        return None
    marker = (last["id"], _decisions(engine))
    with _LOCK:
        kept = getattr(request.app.state, "risk_planner", None)
        if kept is not None and kept[0] == marker:
            return kept[1]
    planner = Planner(engine, KnowledgeBase(engine, create=False), _weights(request))
    with _LOCK:
        request.app.state.risk_planner = (marker, planner)
    return planner


def _decisions(engine: sa.Engine) -> int:
    from wardwatch.risk import tables as rt

    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(rt.finding_history.c.id))).scalar() or 0)


@router.get("/plan")
def remediation_plan(request: Request, user: FindingReader,
                     hours: Annotated[float, Query(ge=0, le=1_000_000)] = 40.0) -> dict[str, Any]:
    """The actions that remove the most risk within ``hours`` of work, the exact risk before and after,
    and the marginal gain of more hours (``computed`` is false until the inventory was evaluated)."""
    planner = _planner(request)
    if planner is None:
        return {"computed": False, "budget_hours": hours, "actions": [], "marginal": []}
    from wardwatch.risk.service import is_stale

    data: dict[str, Any] = {"computed": True, "stale": is_stale(services(request).engine, _weights(request)),
                            **planner.plan(hours, record=False).to_dict()}
    data.pop("plan_id", None)
    scope = department_scope(user)
    if scope is not None:
        mine = _in_scope(request, scope)
        actions = []
        for action in data["actions"]:
            ids = [i for i in action["device_ids"] if i in mine]
            if ids:
                actions.append({**action, "device_ids": ids})
        data = {"computed": True, "budget_hours": hours, "actions": actions, "scoped": True}
    return data


@router.get("/devices/{device_id}/findings")
def device_findings(request: Request, device_id: int, user: FindingReader) -> dict[str, Any]:
    """The device's vulnerability and hygiene findings, most urgent first, each with its explanation."""
    _device(request, user, device_id)
    return {"device_id": device_id, "items": services(request).findings_for(device_id)}


@router.get("/devices/{device_id}/risk")
def device_risk(request: Request, device_id: int, user: FindingReader) -> dict[str, Any]:
    """The device's risk score, level and every factor with its contribution and source."""
    _device(request, user, device_id)
    found = services(request).risk_for(device_id)
    return {"device_id": device_id, "computed": found is not None, "risk": found}

"""Threat-intelligence feeds and the training figure: page ``/feeds``, API ``/api/v1/feeds`` and
``/api/v1/training/completion`` (the manager dashboard's security-culture figure).

The feeds page shows each feed's health (last success, consecutive failures, last error) and how many
indicators it holds per TLP level; indicator values themselves are not listed (TLP:AMBER/RED content stays
inside the tools that need it).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from wardwatch.intel.indicators import Tlp
from wardwatch.intel.ti_store import IndicatorStore
from wardwatch.intel.ti_tables import ti_indicators
from wardwatch.training.register import completion_by_role
from wardwatch.web.auth.roles import Permission
from wardwatch.web.auth.store import User
from wardwatch.web.render import page
from wardwatch.web.routes.pages import services
from wardwatch.web.security import require

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["feeds"])

Reader = Annotated[User, Depends(require(Permission.alerts_read))]
ReportReader = Annotated[User, Depends(require(Permission.reports_read))]


def _feeds(request: Request) -> list[dict[str, Any]]:
    engine = services(request).engine
    by_tlp: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ti_indicators.c.feed, ti_indicators.c.tlp, sa.func.count())
                            .group_by(ti_indicators.c.feed, ti_indicators.c.tlp))
        for feed, tlp, count in rows:
            by_tlp.setdefault(feed, {})[Tlp(tlp).label] = int(count)
    return [{"name": f.name, "kind": f.kind, "last_attempt": f.last_attempt, "last_success": f.last_success,
             "failures": f.failures, "last_error": f.last_error, "items": f.items, "tlp": by_tlp.get(f.name, {})}
            for f in IndicatorStore(engine).feeds()]


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request, user: Reader) -> HTMLResponse:
    """Feed health and indicator counts."""
    return page(request, "incidents/feeds.html", user, feeds=_feeds(request))


@api.get("/feeds")
def api_feeds(request: Request, user: Reader) -> dict[str, Any]:
    """Feed health and indicator counts per TLP."""
    return {"items": _feeds(request)}


@api.get("/training/completion")
def api_training_completion(request: Request, user: ReportReader) -> dict[str, Any]:
    """Security-training completion per role."""
    return {"items": [{"role": c.role, "required": c.required, "current": c.current, "percent": c.percent}
                      for c in completion_by_role(services(request).engine, time.time())]}

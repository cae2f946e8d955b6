"""The alert lifecycle: raise (dedup, group, route, notify), assign, acknowledge, resolve, suppress.

Built on the detection helper's :class:`~wardwatch.alerting.store.AlertStore` (the ``alerts`` table and
its dedup on ``dedup_key``); what the alert row has no column for lives in ``alert_state`` keyed by the
alert id, and every action is an ``alert_events`` row (who, when, what). Time is always passed in.

* **dedup**: the same key while the alert is not resolved grows its count; only a new alert notifies.
* **grouping**: alerts share a ``group_key`` (rule and owning teams) so a list can fold them.
* **suppression**: a reason and an expiry; while active, repeats are counted but nobody is notified.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from wardwatch.alerting.lifecycle_tables import alert_events, alert_state, alert_suppressions
from wardwatch.alerting.routing import DeliveryReport, Routing, alert_tlp
from wardwatch.alerting.store import AlertStore
from wardwatch.alerting.tables import alerts
from wardwatch.domain.alert import Alert, AlertStatus
from wardwatch.domain.device import Device
from wardwatch.errors import NotFoundError, WardwatchError


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert with its lifecycle state."""

    alert: Alert
    teams: tuple[str, ...]
    assignee: str | None
    acknowledged_by: str | None
    resolved_by: str | None
    suppressed_until: float | None
    suppress_reason: str | None
    escalation_level: int
    group_key: str

    def suppressed(self, now: float) -> bool:
        """True while a suppression is in force."""
        return self.suppressed_until is not None and self.suppressed_until > now


@dataclass(frozen=True, slots=True)
class Raised:
    """What raising one alert did."""

    alert: Alert
    new: bool
    suppressed: bool
    delivery: DeliveryReport | None


class AlertDesk:
    """Alerts with owners: the lifecycle over the alert store."""

    def __init__(self, engine: sa.Engine, routing: Routing | None = None) -> None:
        self.engine = engine
        self.store = AlertStore(engine)
        self.routing = routing or Routing()

    # -- raising ------------------------------------------------------------------------------------
    def raise_alerts(self, items: Iterable[Alert], *, devices: Iterable[Device] = (), now: float | None = None,
                     teams: Iterable[str] | None = None, actor: str = "wardwatch") -> list[Raised]:
        """Record alerts; new, unsuppressed ones are delivered to their teams' routes."""
        moment = time.time() if now is None else now
        known = list(devices)
        by_ref = {d.key: d for d in known} | {str(d.id): d for d in known if d.id is not None}
        out = []
        for alert in items:
            involved = [by_ref[r] for r in alert.devices if r in by_ref]
            owners = list(teams) if teams is not None else self.routing.teams_for(involved)
            with self.engine.connect() as conn:
                existed = conn.execute(sa.select(alerts.c.id).where(
                    alerts.c.dedup_key == alert.dedup_key, alerts.c.status != AlertStatus.RESOLVED)).first()
                suppressed = conn.execute(sa.select(alert_suppressions.c.id).where(
                    alert_suppressions.c.dedup_key == alert.dedup_key,
                    alert_suppressions.c.expires > moment)).first() is not None
            stored = self.store.record([replace(alert, details={**alert.details, "teams": owners})])[0]
            assert stored.id is not None
            new = existed is None
            with self.engine.begin() as conn:
                if new:
                    conn.execute(alert_state.insert(), {
                        "alert_id": stored.id, "teams": owners, "escalation_level": 0,
                        "group_key": f"{alert.rule}:{'+'.join(owners)}"[:200], "tlp": int(alert_tlp(alert)),
                        "suppressed_until": None})
                    _event(conn, stored.id, moment, actor, "raised", alert.title)
                elif suppressed:
                    _event(conn, stored.id, moment, actor, "repeat-suppressed", f"count {stored.count}")
            delivery = self.routing.deliver(stored, owners) if new and not suppressed else None
            if delivery is not None:
                with self.engine.begin() as conn:
                    note = f"sent {len(delivery.sent)}, refused {len(delivery.refused)}, failed {len(delivery.failed)}"
                    _event(conn, stored.id, moment, actor, "notified", note)
            out.append(Raised(stored, new, suppressed, delivery))
        return out

    # -- lifecycle ----------------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, actor: str, *, now: float | None = None) -> AlertView:
        """Someone has seen the alert and works on it (stops escalation)."""
        moment = time.time() if now is None else now
        self.store.set_status(alert_id, AlertStatus.ACKNOWLEDGED)
        self._update(alert_id, moment, actor, "acknowledged", "", acknowledged_by=actor, acknowledged_at=moment)
        return self.get(alert_id)

    def assign(self, alert_id: int, actor: str, *, person: str | None = None, team: str | None = None,
               now: float | None = None) -> AlertView:
        """Give the alert to a person and/or a team."""
        if not person and not team:
            raise WardwatchError("assign to a person or a team")
        moment = time.time() if now is None else now
        values: dict[str, Any] = {}
        if person:
            values["assignee"] = person[:128]
        if team:
            values["teams"] = [team]
        self._update(alert_id, moment, actor, "assigned", f"person={person or '-'} team={team or '-'}", **values)
        return self.get(alert_id)

    def resolve(self, alert_id: int, actor: str, *, note: str = "", now: float | None = None) -> AlertView:
        """Close the alert (a repeat afterwards opens a new one)."""
        moment = time.time() if now is None else now
        self.store.set_status(alert_id, AlertStatus.RESOLVED)
        self._update(alert_id, moment, actor, "resolved", note, resolved_by=actor, resolved_at=moment)
        return self.get(alert_id)

    def suppress(self, alert_id: int, actor: str, *, reason: str, until: float, now: float | None = None
                 ) -> AlertView:
        """Silence the alert and its repeats until ``until``, for a stated reason."""
        moment = time.time() if now is None else now
        if not reason.strip():
            raise WardwatchError("a suppression needs a reason")
        if until <= moment:
            raise WardwatchError("a suppression needs an expiry in the future")
        view = self.get(alert_id)
        with self.engine.begin() as conn:
            conn.execute(alert_suppressions.insert(), {"dedup_key": view.alert.dedup_key, "reason": reason[:300],
                                                       "created_by": actor[:128], "created_at": moment,
                                                       "expires": until})
        self._update(alert_id, moment, actor, "suppressed", f"{reason} (until {until:.0f})",
                     suppressed_until=until, suppress_reason=reason[:300])
        return self.get(alert_id)

    def _update(self, alert_id: int, now: float, actor: str, action: str, note: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            if conn.execute(sa.select(alerts.c.id).where(alerts.c.id == alert_id)).first() is None:
                raise NotFoundError(f"no alert {alert_id}")
            has_state = sa.select(alert_state.c.alert_id).where(alert_state.c.alert_id == alert_id)
            if conn.execute(has_state).first() is None:
                rule = conn.execute(sa.select(alerts.c.rule).where(alerts.c.id == alert_id)).scalar_one()
                conn.execute(alert_state.insert(), {"alert_id": alert_id, "teams": [self.routing.default_team],
                                                    "escalation_level": 0, "group_key": f"{rule}:?", "tlp": 0})
            if values:
                conn.execute(alert_state.update().where(alert_state.c.alert_id == alert_id), values)
            _event(conn, alert_id, now, actor, action, note)

    # -- reading ------------------------------------------------------------------------------------
    def get(self, alert_id: int) -> AlertView:
        """One alert with its state."""
        found = self.views(alert_ids=[alert_id])
        if not found:
            raise NotFoundError(f"no alert {alert_id}")
        return found[0]

    def views(self, *, alert_ids: list[int] | None = None, status: AlertStatus | None = None,
              limit: int = 500) -> list[AlertView]:
        """Alerts with their state, newest first."""
        query = (sa.select(alerts, alert_state).select_from(alerts.outerjoin(alert_state,
                 alert_state.c.alert_id == alerts.c.id)).order_by(alerts.c.last_seen.desc(), alerts.c.id.desc())
                 .limit(limit))
        if alert_ids is not None:
            query = query.where(alerts.c.id.in_(alert_ids))
        if status is not None:
            query = query.where(alerts.c.status == status)
        from wardwatch.alerting.store import _alert

        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            m = row._mapping
            out.append(AlertView(alert=_alert(row), teams=tuple(m["teams"] or ()), assignee=m["assignee"],
                                 acknowledged_by=m["acknowledged_by"], resolved_by=m["resolved_by"],
                                 suppressed_until=m["suppressed_until"], suppress_reason=m["suppress_reason"],
                                 escalation_level=m["escalation_level"] or 0,
                                 group_key=m["group_key"] or f"{m['rule']}:?"))
        return out

    def groups(self, *, now: float | None = None) -> dict[str, list[AlertView]]:
        """Unresolved, unsuppressed alerts folded by group key."""
        moment = time.time() if now is None else now
        out: dict[str, list[AlertView]] = {}
        for view in self.views():
            if view.alert.status is not AlertStatus.RESOLVED and not view.suppressed(moment):
                out.setdefault(view.group_key, []).append(view)
        return out

    def events(self, alert_id: int) -> list[dict[str, Any]]:
        """The audit trail of one alert, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
                                .order_by(alert_events.c.ts, alert_events.c.id))
            return [dict(r._mapping) for r in rows]


def _event(conn: sa.Connection, alert_id: int, ts: float, actor: str, action: str, note: str) -> None:
    conn.execute(alert_events.insert(), {"alert_id": alert_id, "ts": ts, "actor": actor[:128], "action": action,
                                         "note": note[:500]})

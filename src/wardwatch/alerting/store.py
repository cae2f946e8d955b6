"""Alerts in the database: record with deduplication, list, move through the lifecycle.

An alert whose dedup key matches an alert that is not resolved is the same alert seen again: its count
and last-seen time grow, nothing new is inserted. A resolved alert that happens again opens a new one.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from wardwatch.alerting import tables as t
from wardwatch.domain.alert import Alert, AlertStatus, Severity
from wardwatch.errors import NotFoundError


class AlertStore:
    """Reads and writes alerts."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Store ``alerts``; returns them as stored (with ids; repeats with their grown count)."""
        return [alert for alert, _new in self.record_new(alerts)]

    def record_new(self, alerts: Iterable[Alert]) -> list[tuple[Alert, bool]]:
        """As :meth:`record`, with ``True`` beside each alert that was not already open (deliver those)."""
        table = t.alerts
        out = []
        with self.engine.begin() as conn:
            for alert in alerts:
                row = conn.execute(sa.select(table).where(table.c.dedup_key == alert.dedup_key,
                                                          table.c.status != AlertStatus.RESOLVED)
                                   .order_by(table.c.id.desc()).limit(1)).first()
                last = max(alert.last_seen or alert.ts, alert.ts)
                if row is not None:
                    conn.execute(sa.update(table).where(table.c.id == row.id).values(
                        count=row._mapping["count"] + alert.count, last_seen=max(row.last_seen, last),
                        first_seen=min(row.first_seen, alert.ts)))
                    alert_id, new = row.id, False
                else:
                    new = True
                    alert_id = conn.execute(sa.insert(table).returning(table.c.id), {
                        "rule": alert.rule, "severity": int(alert.severity), "title": alert.title[:300],
                        "devices": list(alert.devices), "evidence": list(alert.evidence),
                        "details": alert.details, "dedup_key": alert.dedup_key[:300],
                        "status": AlertStatus.OPEN, "capture_ref": alert.capture_ref, "first_seen": alert.ts,
                        "last_seen": last, "count": alert.count}).scalar_one()
                out.append((_alert(conn.execute(sa.select(table).where(table.c.id == alert_id)).one()), new))
        return out

    def list(self, *, status: AlertStatus | None = None, rule: str | None = None,
             limit: int | None = None) -> list[Alert]:
        """Alerts, newest first."""
        table = t.alerts
        query = sa.select(table).order_by(table.c.last_seen.desc(), table.c.id.desc())
        if status is not None:
            query = query.where(table.c.status == status)
        if rule is not None:
            query = query.where(table.c.rule == rule)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_alert(r) for r in conn.execute(query)]

    def set_status(self, alert_id: int, status: AlertStatus) -> Alert:
        """Acknowledge or resolve an alert."""
        table = t.alerts
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(table).where(table.c.id == alert_id).values(status=status))
            if done.rowcount == 0:
                raise NotFoundError(f"no alert {alert_id}")
            return _alert(conn.execute(sa.select(table).where(table.c.id == alert_id)).one())


def _alert(row: sa.Row[tuple[object, ...]]) -> Alert:
    m = row._mapping
    return Alert(rule=m["rule"], severity=Severity(m["severity"]), title=m["title"], devices=tuple(m["devices"]),
                 evidence=tuple(m["evidence"]), dedup_key=m["dedup_key"], ts=m["first_seen"],
                 status=AlertStatus(m["status"]), capture_ref=m["capture_ref"], details=dict(m["details"]),
                 id=m["id"], count=m["count"], last_seen=m["last_seen"])

"""Extensions read from the tables other capabilities write, when those tables exist.

Today that is the ``alerts`` table (``alerting/tables.py``, migration ``7a01``); findings, risk and the plan
fall back to "not computed" (``services.Extensions``) until their tables exist. An alert names its
devices by inventory key or id; a department-scoped viewer sees only alerts about devices in scope.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wardwatch.inventory import queries
from wardwatch.inventory import tables as t
from wardwatch.inventory.queries import DeviceQuery
from wardwatch.web.services import Extensions

#: Severity numbers (``domain.alert.Severity``) to words.
SEVERITY_WORDS = {1: "info", 3: "low", 5: "medium", 8: "high", 10: "critical"}


def severity_word(value: object) -> str:
    """``8`` → ``high`` (nearest lower level for numbers in between)."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value)
    best = "info"
    for level, word in sorted(SEVERITY_WORDS.items()):
        if number >= level:
            best = word
    return best


class TableExtensions(Extensions):
    """Reads alerts from the database when the table is there."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._alerts: sa.Table | None = None
        self._checked = False

    def _table(self) -> sa.Table | None:
        if not self._checked:
            self._checked = True
            if sa.inspect(self.engine).has_table("alerts"):
                self._alerts = sa.Table("alerts", sa.MetaData(), autoload_with=self.engine)
        return self._alerts

    def _in_scope(self, conn: sa.Connection, refs: list[str], departments: tuple[str, ...] | None) -> list[int]:
        """Ids of the devices named by ``refs`` that the viewer may see."""
        ids = [int(r) for r in refs if r.isdigit()]
        keys = [r for r in refs if not r.isdigit()]
        where: list[sa.ColumnElement[bool]] = []
        if departments is not None:
            where = queries.conditions(DeviceQuery(departments=departments))
        ref = sa.or_(t.devices.c.id.in_(ids), t.devices.c.key.in_(keys), t.devices.c.mac.in_(keys))
        return [int(i) for i in conn.execute(sa.select(t.devices.c.id).where(ref, *where)).scalars()]

    def _rows(self, departments: tuple[str, ...] | None, limit: int, device_id: int | None = None
              ) -> list[dict[str, Any]]:
        table = self._table()
        if table is None:
            return []
        out: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            stmt = sa.select(table).order_by(table.c.last_seen.desc()).limit(500)
            for row in conn.execute(stmt):
                refs = [str(r) for r in (row.devices or [])]
                visible = self._in_scope(conn, refs, departments) if (departments is not None or device_id) else []
                if departments is not None and not visible:
                    continue
                if device_id is not None and device_id not in visible:
                    continue
                out.append({"id": row.id, "title": row.title, "severity": severity_word(row.severity),
                            "status": row.status, "rule": row.rule, "last_seen": row.last_seen,
                            "href": f"/devices/{visible[0]}" if visible else "/devices"})
                if len(out) >= limit:
                    break
        return out

    def recent_alerts(self, departments: tuple[str, ...] | None, limit: int) -> list[dict[str, Any]]:
        """The newest alerts the viewer may see."""
        return self._rows(departments, limit)

    def alerts_for(self, device_id: int) -> list[dict[str, Any]]:
        """Alerts naming one device."""
        return self._rows(None, 50, device_id)

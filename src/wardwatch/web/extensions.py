"""Extensions read from the tables other capabilities write, when those tables exist.

* **alerts** (``alerting/tables.py``, migration ``7a01``): an alert names its devices by inventory key or
  id; a department-scoped viewer sees only alerts about devices in scope.
* **findings, risk and the plan** (``risk/tables.py``, migration ``4b01``), through
  :mod:`wardwatch.risk.queries`: "not computed" (None) until the risk service evaluated the inventory
  (``wardwatch findings|risk|plan`` or the pipeline); scoped to the viewer's departments. The dashboard
  aggregates are kept until the next evaluation or a person's decision on a finding (the change marker).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from wardwatch.inventory import queries
from wardwatch.inventory import tables as t
from wardwatch.inventory.queries import DeviceQuery
from wardwatch.risk import queries as risk_queries
from wardwatch.risk import tables as rt
from wardwatch.web.services import Extensions

_T = TypeVar("_T")
#: Plain words for a risk level (the clinician's dashboard speaks them).
LEVEL_WORDS = {"critical": "critical risk", "high": "high risk", "medium": "moderate risk", "low": "low risk"}

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


def risk_summary(risk: dict[str, Any]) -> str:
    """One line explaining a score: likelihood × impact and the factors that weigh most."""
    factors = sorted(risk.get("factors") or (), key=lambda f: -abs(float(f.get("contribution", 0.0))))
    top = "; ".join(f"{f['name']}: {f['value']} ({float(f['contribution']):+.2f}, {f['source']})"
                    for f in factors[:4])
    return f"likelihood {risk['likelihood']} × impact {risk['impact']}" + (f" — {top}" if top else "")


class TableExtensions(Extensions):
    """Reads alerts, findings, risk assessments and plans from the database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._alerts: sa.Table | None = None
        self._checked = False
        self._cache: dict[tuple[Any, ...], tuple[tuple[int, int], Any]] = {}
        self._lock = threading.Lock()

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

    # -- findings, risk, plan (wardwatch.risk) ------------------------------------------------------------
    def _marker(self) -> tuple[int, int]:
        """(newest evaluation, newest finding decision): what the risk numbers depend on; (0, 0) before any."""
        with self.engine.connect() as conn:
            evaluation = conn.execute(sa.select(sa.func.max(rt.evaluations.c.id))).scalar() or 0
            decision = conn.execute(sa.select(sa.func.max(rt.finding_history.c.id))).scalar() or 0
        return int(evaluation), int(decision)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        marker = self._marker()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] == marker:
            return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[key] = (marker, value)
        return value

    def evaluated(self) -> bool:
        """True once the risk service has evaluated the inventory."""
        return self._marker()[0] > 0

    def findings_by_severity(self, departments: tuple[str, ...] | None) -> list[tuple[str, int]]:
        """(severity, open findings) in scope, most severe first."""
        return self._cached(("severity", departments),
                            lambda: risk_queries.findings_by_severity(self.engine, departments))

    def devices_with_open_problems(self, departments: tuple[str, ...] | None, limit: int) -> list[dict[str, Any]]:
        """Devices with open findings, riskiest first, each with a label and its problem in plain words."""
        return self._cached(("problems", departments, limit), lambda: self._problems(departments, limit))

    def _problems(self, departments: tuple[str, ...] | None, limit: int) -> list[dict[str, Any]]:
        rows = risk_queries.devices_with_open_problems(self.engine, departments, limit)
        labels = self._labels([int(r["device_id"]) for r in rows])
        out = []
        for r in rows:
            count = int(r["open_findings"])
            worst = r["worst"] or "open finding"
            more = f" and {count - 1} more" if count > 1 else ""
            words = LEVEL_WORDS.get(str(r["level"]), str(r["level"]))
            out.append({**r, "id": r["device_id"], "label": labels.get(int(r["device_id"]), f"device {r['device_id']}"),
                        "problem": f"{worst}{more} ({words}, score {float(r['score']):.0f})"})
        return out

    def _labels(self, ids: list[int]) -> dict[int, str]:
        """A readable name per device: host name, else vendor and model, else an address."""
        if not ids:
            return {}
        values: dict[int, dict[str, str]] = {}
        with self.engine.connect() as conn:
            for device_id, name, value in conn.execute(
                    sa.select(t.attributes.c.device_id, t.attributes.c.name, t.attributes.c.value).where(
                        t.attributes.c.device_id.in_(ids), t.attributes.c.name.in_(("hostname", "vendor", "model")))):
                values.setdefault(int(device_id), {})[name] = value
            for device_id, ip in conn.execute(sa.select(t.device_ips.c.device_id, t.device_ips.c.ip).where(
                    t.device_ips.c.device_id.in_(ids)).order_by(t.device_ips.c.last_seen)):
                values.setdefault(int(device_id), {})["ip"] = ip
        out = {}
        for device_id, v in values.items():
            model = " ".join(x for x in (v.get("vendor"), v.get("model")) if x)
            out[device_id] = v.get("hostname") or model or v.get("ip") or f"device {device_id}"
        return out

    def findings_for(self, device_id: int) -> list[dict[str, Any]]:
        """The device's findings, most urgent first, with their explanation."""
        return risk_queries.findings_for(self.engine, device_id)

    def risk_for(self, device_id: int) -> dict[str, Any] | None:
        """The device's stored risk assessment with a one-line ``summary``, or None."""
        found = risk_queries.risk_for(self.engine, device_id)
        return None if found is None else {**found, "summary": risk_summary(found)}

    def all_findings(self, departments: tuple[str, ...] | None) -> list[dict[str, Any]] | None:
        """Every finding in scope (None until the inventory was evaluated)."""
        if not self.evaluated():
            return None
        return [{**f, "href": f"/devices/{f['device_id']}"} for f in risk_queries.all_findings(self.engine,
                                                                                                departments)]

    def findings_page(self, departments: tuple[str, ...] | None, severity: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]] | None:
        """One page of findings in scope, most urgent first, and their total (None until evaluated): what a
        list page should show at 100 000 devices instead of :meth:`all_findings`."""
        if not self.evaluated():
            return None
        total = risk_queries.count_findings(self.engine, departments=departments, severity=severity)
        rows = risk_queries.list_findings(self.engine, departments=departments, severity=severity, limit=limit,
                                          offset=offset)
        return total, [{**f, "href": f"/devices/{f['device_id']}"} for f in rows]

    def plan(self) -> list[dict[str, Any]] | None:
        """The actions of the newest remediation plan (``wardwatch plan``), or None."""
        return risk_queries.latest_plan(self.engine)

    def risk_by(self, attribute: str, departments: tuple[str, ...] | None) -> list[tuple[str, float, int]] | None:
        """(group, mean score, devices) by ``attribute`` (None until the inventory was evaluated)."""
        if not self.evaluated():
            return None
        return self._cached(("risk_by", attribute, departments),
                            lambda: risk_queries.risk_by(self.engine, attribute, departments))

"""Incidents after NIST SP 800-61r2: open from alerts and devices, work the playbook, advance, close.

An incident starts in *Preparation* with the tasks of the playbook chosen from its devices' classes; it
advances one phase at a time and only when the current phase's tasks are done (or a person forces it
with a reason, which the timeline records). Every action is a timeline entry (who, when, what).
Evidence: the alerts' contents, capture references with their SHA-256, device snapshots (attributes as
the inventory holds them), notes. The clock is passed in.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wardwatch.alerting.tables import alerts
from wardwatch.domain.alert import Severity
from wardwatch.domain.device import Device
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.respond import tables as t
from wardwatch.respond.model import EvidenceItem, Incident, Task, TimelineEntry
from wardwatch.respond.playbook import Phase, playbook_for, playbooks, render


class IncidentError(WardwatchError):
    """An incident action that the process does not allow (e.g. advancing with open tasks)."""


def snapshot(device: Device) -> dict[str, Any]:
    """A device as evidence: identity and attributes with confidence (no evidence excerpts)."""
    return {"key": device.key, "mac": device.mac, "ips": list(device.ips), "first_seen": device.first_seen,
            "last_seen": device.last_seen,
            "attributes": {n: {"value": a.value, "confidence": a.confidence, "source": str(a.source)}
                           for n, a in sorted(device.attributes.items())}}


class IncidentService:
    """Incidents in the inventory database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def open(self, title: str, actor: str, *, devices: Sequence[Device] = (), alert_ids: Iterable[int] = (),
             severity: Severity = Severity.HIGH, summary: str = "", lead: str | None = None,
             playbook: str | None = None, now: float | None = None) -> Incident:
        """Open an incident over alerts and devices; tasks come from the playbook of the devices' classes."""
        moment = time.time() if now is None else now
        book = playbooks()[playbook] if playbook else playbook_for(d.value("device_class") for d in devices)
        ids = sorted(set(alert_ids))
        with self.engine.begin() as conn:
            known = set(conn.execute(sa.select(alerts.c.id).where(alerts.c.id.in_(ids))).scalars()) if ids else set()
            if set(ids) - known:
                raise NotFoundError(f"no alert {sorted(set(ids) - known)[0]}")
            incident_id = int(conn.execute(t.incidents.insert().returning(t.incidents.c.id), {
                "title": title[:300], "severity": int(severity), "phase": Phase.PREPARATION.value, "status": "open",
                "playbook": book.name, "lead": lead, "summary": summary, "opened_by": actor[:128],
                "opened_at": moment, "closed_at": None}).scalar_one())
            if ids:
                conn.execute(t.incident_alerts.insert(), [{"incident_id": incident_id, "alert_id": i} for i in ids])
            if devices:
                conn.execute(t.incident_devices.insert(), [
                    {"incident_id": incident_id, "device_key": d.key, "device_class": d.value("device_class")}
                    for d in {d.key: d for d in devices}.values()])
            conn.execute(t.incident_tasks.insert(), [
                {"incident_id": incident_id, "phase": task.phase.value, "key": task.key, "title": task.title,
                 "kind": task.kind, "template": task.template} for task in book.tasks])
            _log(conn, incident_id, moment, actor, "opened", f"playbook {book.name}; {len(ids)} alert(s), "
                 f"{len(devices)} device(s)")
            for alert_id in ids:
                row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()
                _evidence(conn, incident_id, "alert", f"alert:{alert_id}", row.title, actor, moment,
                          content={"rule": row.rule, "severity": row.severity, "devices": row.devices,
                                   "evidence": row.evidence, "first_seen": row.first_seen})
            for device in devices:
                _evidence(conn, incident_id, "snapshot", device.key, f"device snapshot of {device.key}", actor,
                          moment, content=snapshot(device))
        return self.get(incident_id)

    def complete_task(self, incident_id: int, key: str, actor: str, *, note: str = "",
                      now: float | None = None) -> Incident:
        """Mark a task done."""
        moment = time.time() if now is None else now
        with self.engine.begin() as conn:
            self._open_row(conn, incident_id)
            done = conn.execute(t.incident_tasks.update().where(
                t.incident_tasks.c.incident_id == incident_id, t.incident_tasks.c.key == key,
                t.incident_tasks.c.done_at.is_(None)), {"done_by": actor[:128], "done_at": moment, "note": note[:500]})
            if done.rowcount == 0:
                raise IncidentError(f"incident {incident_id} has no open task {key!r}")
            title = conn.execute(sa.select(t.incident_tasks.c.title).where(
                t.incident_tasks.c.incident_id == incident_id, t.incident_tasks.c.key == key)).scalar_one()
            _log(conn, incident_id, moment, actor, "task", f"{key}: {title}" + (f" — {note}" if note else ""))
        return self.get(incident_id)

    def advance(self, incident_id: int, actor: str, *, force_reason: str | None = None,
                now: float | None = None) -> Incident:
        """Move to the next phase; open tasks block unless ``force_reason`` is given."""
        moment = time.time() if now is None else now
        with self.engine.begin() as conn:
            row = self._open_row(conn, incident_id)
            phase = Phase(row.phase)
            following = phase.next()
            if following is None:
                raise IncidentError(f"incident {incident_id} is in its last phase; close it")
            pending = list(conn.execute(sa.select(t.incident_tasks.c.key).where(
                t.incident_tasks.c.incident_id == incident_id, t.incident_tasks.c.phase == phase.value,
                t.incident_tasks.c.done_at.is_(None))).scalars())
            if pending and not force_reason:
                raise IncidentError(f"{phase.label} has open tasks: {', '.join(pending)}")
            conn.execute(t.incidents.update().where(t.incidents.c.id == incident_id), {"phase": following.value})
            detail = f"{phase.label} → {following.label}"
            if pending:
                detail += f" (forced: {force_reason}; open: {', '.join(pending)})"
            _log(conn, incident_id, moment, actor, "phase", detail)
        return self.get(incident_id)

    def add_evidence(self, incident_id: int, actor: str, *, kind: str, ref: str, description: str = "",
                     path: Path | None = None, content: dict[str, Any] | None = None,
                     now: float | None = None) -> Incident:
        """Attach evidence; a capture file is referenced by path with its SHA-256 (the file stays put)."""
        if kind not in ("capture", "snapshot", "alert", "note", "document"):
            raise IncidentError(f"unknown evidence kind {kind!r}")
        moment = time.time() if now is None else now
        digest = _sha256(path) if path is not None else None
        with self.engine.begin() as conn:
            self._open_row(conn, incident_id)
            _evidence(conn, incident_id, kind, ref, description, actor, moment, content=content, sha256=digest)
            suffix = f" sha256 {digest[:16]}…" if digest else ""
            _log(conn, incident_id, moment, actor, "evidence", f"{kind} {ref}{suffix}")
        return self.get(incident_id)

    def note(self, incident_id: int, actor: str, text: str, *, now: float | None = None) -> Incident:
        """A free-text timeline entry."""
        moment = time.time() if now is None else now
        with self.engine.begin() as conn:
            self._open_row(conn, incident_id)
            _log(conn, incident_id, moment, actor, "note", text)
        return self.get(incident_id)

    def close(self, incident_id: int, actor: str, *, now: float | None = None) -> Incident:
        """Close after post-incident activity with its tasks done."""
        moment = time.time() if now is None else now
        with self.engine.begin() as conn:
            row = self._open_row(conn, incident_id)
            if Phase(row.phase) is not Phase.POST_INCIDENT:
                raise IncidentError("an incident closes after Post-Incident Activity")
            pending = list(conn.execute(sa.select(t.incident_tasks.c.key).where(
                t.incident_tasks.c.incident_id == incident_id, t.incident_tasks.c.done_at.is_(None),
                t.incident_tasks.c.phase == Phase.POST_INCIDENT.value)).scalars())
            if pending:
                raise IncidentError(f"open post-incident tasks: {', '.join(pending)}")
            conn.execute(t.incidents.update().where(t.incidents.c.id == incident_id),
                         {"status": "closed", "closed_at": moment})
            _log(conn, incident_id, moment, actor, "closed", "incident closed")
        return self.get(incident_id)

    def notification(self, incident_id: int, template: str, *, organisation: str = "the hospital",
                     tlp: str = "TLP:AMBER") -> str:
        """A notification (manufacturer, clinical lead, authority) filled from the incident."""
        incident = self.get(incident_id)
        snapshots = {e.ref: e.content or {} for e in incident.evidence if e.kind == "snapshot"}
        lines, products = [], set()
        for key, device_class in incident.devices:
            attrs = snapshots.get(key, {}).get("attributes", {})
            vendor, model, firmware = (attrs.get(n, {}).get("value", "?") for n in ("vendor", "model", "firmware"))
            products.add(f"{vendor} {model}")
            lines.append(f"- {vendor} {model} firmware {firmware} ({device_class or 'unclassified'}, {key})")
        return render(template, incident_id=incident.id, organisation=organisation,
                      summary=incident.summary or incident.title, device_list="\n".join(lines) or "- (none recorded)",
                      lead=incident.lead or incident.opened_by, opened=_iso(incident.opened_at),
                      phase=incident.phase.label, products=", ".join(sorted(products)) or "your products", tlp=tlp)

    # -- reading ------------------------------------------------------------------------------------
    def _open_row(self, conn: sa.Connection, incident_id: int) -> Any:
        row = conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id)).first()
        if row is None:
            raise NotFoundError(f"no incident {incident_id}")
        if row.status != "open":
            raise IncidentError(f"incident {incident_id} is closed")
        return row

    def list(self, *, status: str | None = None) -> list[Incident]:
        """Incidents, newest first."""
        query = sa.select(t.incidents.c.id).order_by(t.incidents.c.opened_at.desc(), t.incidents.c.id.desc())
        if status:
            query = query.where(t.incidents.c.status == status)
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        return [self.get(i) for i in ids]

    def get(self, incident_id: int) -> Incident:
        """One incident with tasks, timeline and evidence."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id)).first()
            if row is None:
                raise NotFoundError(f"no incident {incident_id}")
            def where(table: sa.Table) -> sa.ColumnElement[bool]:
                return table.c.incident_id == incident_id

            alert_ids = tuple(conn.execute(sa.select(t.incident_alerts.c.alert_id).where(where(t.incident_alerts))
                                           .order_by(t.incident_alerts.c.alert_id)).scalars())
            devices = tuple((r.device_key, r.device_class) for r in conn.execute(
                sa.select(t.incident_devices).where(where(t.incident_devices)).order_by(t.incident_devices.c.device_key)))
            tasks = tuple(Task(r.key, Phase(r.phase), r.title, r.kind, r.template, r.done_by, r.done_at, r.note)
                          for r in conn.execute(sa.select(t.incident_tasks).where(where(t.incident_tasks))
                                                .order_by(t.incident_tasks.c.id)))
            timeline = tuple(TimelineEntry(r.ts, r.actor, r.action, r.detail) for r in conn.execute(
                sa.select(t.incident_timeline).where(where(t.incident_timeline))
                .order_by(t.incident_timeline.c.ts, t.incident_timeline.c.id)))
            evidence = tuple(EvidenceItem(r.id, r.kind, r.ref, r.description, r.sha256, r.content, r.added_by,
                                          r.added_at) for r in conn.execute(
                sa.select(t.incident_evidence).where(where(t.incident_evidence)).order_by(t.incident_evidence.c.id)))
        return Incident(row.id, row.title, Severity(row.severity), Phase(row.phase), row.status, row.playbook, row.lead,
                        row.summary, row.opened_by, row.opened_at, row.closed_at, alert_ids, devices, tasks, timeline,
                        evidence)


def _log(conn: sa.Connection, incident_id: int, ts: float, actor: str, action: str, detail: str) -> None:
    conn.execute(t.incident_timeline.insert(), {"incident_id": incident_id, "ts": ts, "actor": actor[:128],
                                                "action": action, "detail": detail[:500]})


def _evidence(conn: sa.Connection, incident_id: int, kind: str, ref: str, description: str, actor: str, ts: float,
              *, content: dict[str, Any] | None = None, sha256: str | None = None) -> None:
    if content is not None and sha256 is None:
        sha256 = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    conn.execute(t.incident_evidence.insert(), {"incident_id": incident_id, "kind": kind, "ref": ref[:500],
                                                "description": description[:500], "sha256": sha256,
                                                "content": content, "added_by": actor[:128], "added_at": ts})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise IncidentError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")

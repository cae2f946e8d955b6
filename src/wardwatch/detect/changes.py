"""Change monitoring: what changed on the network since the last look, as device history and alerts.

Read from the inventory after each ingest (or periodically, with the time passed in):

=====================  ===============================================================================
change                 source
=====================  ===============================================================================
new_device             the resolver's ``new_device`` history event
firmware_upgrade /     the resolver's ``attribute_changed`` of ``firmware``/``software``, old and new
firmware_downgrade     compared with :func:`wardwatch.intel.versions.parse_version` (``software_*`` alike)
class_changed          ``attribute_changed`` of ``device_class``
subnet_moved           ``ip_changed`` to an address outside the old one's subnet (prefix configurable)
vlan_moved             the device's MAC first seen in flows on another VLAN (IEEE 802.1Q tag)
new_service            a ``net.service`` fact first seen on a device that was already known
went_silent            no traffic from the device for ``silent_hours``
=====================  ===============================================================================

Each derived change is written to the inventory's ``history`` table (the resolver's own events are not
written twice), and raises an alert when the site's rules give that change a severity.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from wardwatch.alerting.lifecycle import AlertDesk, Raised
from wardwatch.alerting.lifecycle_tables import watch_cursors
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.device import Device
from wardwatch.intel.versions import compare_keys, parse_version
from wardwatch.inventory import tables as t
from wardwatch.inventory.repository import Inventory

RULE = "change"
DEFAULT_SEVERITIES: dict[str, Severity | None] = {
    "new_device": Severity.MEDIUM,
    "firmware_upgrade": Severity.LOW,
    "firmware_downgrade": Severity.HIGH,
    "software_upgrade": None,
    "software_downgrade": Severity.MEDIUM,
    "class_changed": Severity.MEDIUM,
    "subnet_moved": Severity.LOW,
    "vlan_moved": Severity.LOW,
    "new_service": Severity.MEDIUM,
    "went_silent": Severity.MEDIUM,
}


@dataclass(frozen=True)
class ChangeRules:
    """Which changes raise alerts, at what severity (``None``: history only), and the thresholds."""

    severities: Mapping[str, Severity | None] = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    silent_hours: float = 24.0
    subnet_prefix_v4: int = 24
    subnet_prefix_v6: int = 64

    @classmethod
    def from_config(cls, data: Mapping[str, object]) -> ChangeRules:
        """``[changes]``: ``silent_hours = 12``, ``[changes.alerts] firmware_upgrade = "info"``, ``"off"``."""
        severities = dict(DEFAULT_SEVERITIES)
        alerts = data.get("alerts")
        for kind, word in (alerts.items() if isinstance(alerts, Mapping) else []):
            severities[str(kind)] = None if str(word).lower() == "off" else Severity[str(word).upper()]
        return cls(severities, float(data.get("silent_hours", 24.0)),  # type: ignore[arg-type]
                   int(data.get("subnet_prefix_v4", 24)), int(data.get("subnet_prefix_v6", 64)))  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one device."""

    device_id: int
    kind: str
    ts: float
    attribute: str | None = None
    old: str | None = None
    new: str | None = None
    evidence: str = ""


class ChangeMonitor:
    """Turns inventory history and facts into change events and alerts."""

    def __init__(self, inventory: Inventory, desk: AlertDesk, rules: ChangeRules | None = None) -> None:
        self.inventory = inventory
        self.desk = desk
        self.rules = rules or ChangeRules()

    def scan(self, now: float) -> tuple[list[Change], list[Raised]]:
        """Everything that changed since the previous scan; history written, alerts raised."""
        engine = self.inventory.engine
        with engine.begin() as conn:
            last_id = int(_cursor(conn, "changes.history_id"))
            last_ts = _cursor(conn, "changes.ts")
            changes = self._from_history(conn, last_id)
            changes += self._new_services(conn, last_ts)
            changes += self._vlans(conn, last_ts)
            changes += self._silent(conn, now)
            derived = [c for c in changes if c.kind != "new_device"]
            if derived:
                conn.execute(t.history.insert(), [
                    {"device_id": c.device_id, "ts": c.ts, "kind": c.kind, "attribute": c.attribute,
                     "old": (c.old or "")[:600] or None, "new": (c.new or "")[:600] or None,
                     "evidence": c.evidence[:300]} for c in derived])
            top = conn.execute(sa.select(sa.func.max(t.history.c.id))).scalar() or 0
            _set_cursor(conn, "changes.history_id", float(top))
            newest = conn.execute(sa.select(sa.func.max(t.facts.c.first_seen))).scalar()
            _set_cursor(conn, "changes.ts", max(last_ts, float(newest or 0.0)))
        return changes, self._alerts(changes, now)

    def _from_history(self, conn: sa.Connection, after: int) -> list[Change]:
        h = t.history
        rows = conn.execute(sa.select(h).where(h.c.id > after, h.c.kind.in_(
            ("new_device", "attribute_changed", "ip_changed"))).order_by(h.c.id))
        out = []
        for r in rows:
            if r.kind == "new_device":
                out.append(Change(r.device_id, "new_device", r.ts, new=r.new, evidence=r.evidence))
            elif r.kind == "attribute_changed" and r.attribute in ("firmware", "software") and r.old and r.new:
                order = compare_keys(parse_version(r.new).key, parse_version(r.old).key)
                if order:
                    kind = f"{r.attribute}_{'upgrade' if order > 0 else 'downgrade'}"
                    out.append(Change(r.device_id, kind, r.ts, r.attribute, r.old, r.new, r.evidence))
            elif r.kind == "attribute_changed" and r.attribute == "device_class":
                out.append(Change(r.device_id, "class_changed", r.ts, r.attribute, r.old, r.new, r.evidence))
            elif r.kind == "ip_changed" and r.old and r.new and not self._same_subnet(r.old, r.new):
                out.append(Change(r.device_id, "subnet_moved", r.ts, "ip", r.old, r.new, r.evidence))
        return out

    def _same_subnet(self, old: str, new: str) -> bool:
        try:
            a, b = ipaddress.ip_address(old), ipaddress.ip_address(new)
        except ValueError:
            return True
        if a.version != b.version:
            return False
        prefix = self.rules.subnet_prefix_v4 if a.version == 4 else self.rules.subnet_prefix_v6
        return b in ipaddress.ip_network(f"{a}/{prefix}", strict=False)

    @staticmethod
    def _new_services(conn: sa.Connection, since: float) -> list[Change]:
        f, d = t.facts, t.devices
        rows = conn.execute(sa.select(f.c.device_id, f.c.value, f.c.first_seen, f.c.excerpt)
                            .join(d, d.c.id == f.c.device_id)
                            .where(f.c.kind == "net.service", f.c.first_seen > since, d.c.first_seen < f.c.first_seen,
                                   d.c.first_seen <= since))
        return [Change(r.device_id, "new_service", r.first_seen, "net.service", None, r.value, r.excerpt or "")
                for r in rows]

    @staticmethod
    def _vlans(conn: sa.Connection, since: float) -> list[Change]:
        fl, d = t.flows, t.devices
        first = (sa.select(fl.c.src_mac, fl.c.vlan, sa.func.min(fl.c.first_seen).label("first"))
                 .where(fl.c.src_mac != "").group_by(fl.c.src_mac, fl.c.vlan)).subquery()
        seen: dict[str, list[tuple[float, int]]] = {}
        for r in conn.execute(sa.select(first)):
            seen.setdefault(r.src_mac, []).append((float(r.first), int(r.vlan)))
        out = []
        for mac, spans in seen.items():
            spans.sort()
            if len(spans) < 2 or spans[-1][0] <= since:
                continue
            device_id = conn.execute(sa.select(d.c.id).where(d.c.mac == mac)).scalar()
            if device_id is not None:
                out.append(Change(int(device_id), "vlan_moved", spans[-1][0], "vlan", str(spans[-2][1]),
                                  str(spans[-1][1]), f"MAC {mac} in flows on VLAN {spans[-1][1]}"))
        return out

    def _silent(self, conn: sa.Connection, now: float) -> list[Change]:
        d, h = t.devices, t.history
        limit = now - self.rules.silent_hours * 3600
        flagged = sa.select(h.c.id).where(h.c.device_id == d.c.id, h.c.kind == "went_silent",
                                          h.c.ts >= d.c.last_seen).exists()
        rows = conn.execute(sa.select(d.c.id, d.c.last_seen).where(d.c.last_seen < limit, ~flagged))
        return [Change(int(r.id), "went_silent", now, None, None, None,
                       f"no traffic for {(now - r.last_seen) / 3600:.1f} h (threshold {self.rules.silent_hours:g} h)")
                for r in rows]

    def _alerts(self, changes: list[Change], now: float) -> list[Raised]:
        wanted = [c for c in changes if self.rules.severities.get(c.kind) is not None]
        if not wanted:
            return []
        devices = {d.id: d for d in self.inventory.list_devices()}
        alerts = []
        for c in wanted:
            device = devices.get(c.device_id)
            if device is None:
                continue
            severity = self.rules.severities[c.kind]
            assert severity is not None
            what = f"{c.old} → {c.new}" if c.old or c.new else c.evidence
            alerts.append(Alert(
                rule=f"{RULE}-{c.kind.replace('_', '-')}", severity=severity,
                title=f"{_name(device)}: {c.kind.replace('_', ' ')} {what}"[:300], devices=(device.key,),
                evidence=(c.evidence or what,), dedup_key=f"change:{c.kind}:{device.key}:{c.new or c.ts}"[:300],
                ts=now, details={"change": c.kind, "attribute": c.attribute, "old": c.old, "new": c.new,
                                 "at": c.ts}))
        return self.desk.raise_alerts(alerts, devices=devices.values(), now=now)


def _name(device: Device) -> str:
    label = " ".join(v for v in (device.value("vendor"), device.value("model")) if v)
    return f"{label} ({device.key})" if label else device.key


def _cursor(conn: sa.Connection, name: str) -> float:
    value = conn.execute(sa.select(watch_cursors.c.value).where(watch_cursors.c.name == name)).scalar()
    return float(value) if value is not None else 0.0


def _set_cursor(conn: sa.Connection, name: str, value: float) -> None:
    done = conn.execute(watch_cursors.update().where(watch_cursors.c.name == name), {"value": value})
    if done.rowcount == 0:
        conn.execute(watch_cursors.insert(), {"name": name, "value": value})

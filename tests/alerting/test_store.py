"""The alerts table: dedup while open, lifecycle, a resolved alert reopening as a new one."""

from __future__ import annotations

import dataclasses

from wardwatch.alerting.store import AlertStore
from wardwatch.domain.alert import Alert, AlertStatus, Severity
from wardwatch.inventory.repository import Inventory

ALERT = Alert(rule="scan", severity=Severity.HIGH, title="port scan", devices=("ip:local/10.0.0.9",),
              evidence=("30 ports",), dedup_key="scan:ports:10.0.0.9>10.0.0.1", ts=100.0, details={"ports": 30})


def test_dedup_and_lifecycle(database_url: str) -> None:
    inventory = Inventory.open(database_url)
    store = AlertStore(inventory.engine)
    (first,) = store.record([ALERT])
    (again,) = store.record([dataclasses.replace(ALERT, ts=200.0)])
    assert again.id == first.id and again.count == 2 and again.last_seen == 200.0 and again.ts == 100.0
    assert again.details == {"ports": 30} and again.devices == ALERT.devices
    store.set_status(first.id or 0, AlertStatus.ACKNOWLEDGED)
    (still,) = store.record([dataclasses.replace(ALERT, ts=300.0)])
    assert still.id == first.id and still.status == AlertStatus.ACKNOWLEDGED and still.count == 3
    store.set_status(first.id or 0, AlertStatus.RESOLVED)
    (reopened,) = store.record([dataclasses.replace(ALERT, ts=400.0)])
    assert reopened.id != first.id and reopened.count == 1 and reopened.status == AlertStatus.OPEN
    assert [a.id for a in store.list(status=AlertStatus.OPEN)] == [reopened.id]
    assert len(store.list()) == 2
    inventory.close()

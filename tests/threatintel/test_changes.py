"""Must show 3: a second look at the network where a device's firmware changed and a new device appeared
yields the two change events in the device history and the configured alerts.

The two "captures" are Observations as the LLDP-MED dissector emits them (``lldp.med.firmware_revision``,
ANSI/TIA-1057 §10.2.6.2) fed through ``Inventory.ingest``, with their flows.
"""

from __future__ import annotations

from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.detect.changes import ChangeMonitor, ChangeRules
from wardwatch.domain.alert import Severity
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.inventory import Inventory

T0 = 1_700_000_000.0
PUMP, MONITOR, NEWCOMER = "00:09:fb:11:22:33", "00:09:fb:44:55:66", "00:1b:63:aa:bb:cc"


def _seen(mac: str, ip: str, ts: float, **facts: str) -> list[Observation]:
    out = [Observation(ts=ts, sensor="s1", kind="net.ip", value=ip, mac=mac, ip=ip)]
    out += [Observation(ts=ts, sensor="s1", kind=kind.replace("__", "."), value=value, mac=mac, ip=ip,
                        excerpt=f"{kind}={value}") for kind, value in facts.items()]
    return out


def _flow(mac: str, ip: str, ts: float, vlan: int | None = None) -> FlowRecord:
    return FlowRecord(src_ip=ip, dst_ip="10.1.0.1", proto=6, src_port=40000, dst_port=443, src_mac=mac,
                      dst_mac="00:00:5e:00:01:01", first_seen=ts, last_seen=ts + 5, packets_fwd=3, packets_rev=3,
                      bytes_fwd=300, bytes_rev=300, vlan=vlan, sensor="s1")


def _first_capture(inventory: Inventory) -> None:
    obs = _seen(PUMP, "10.1.20.11", T0, lldp__med__firmware_revision="4.1.2", lldp__med__model_name="Pump 9000")
    obs += _seen(MONITOR, "10.1.20.12", T0, lldp__med__firmware_revision="7.0")
    inventory.ingest(obs, [_flow(PUMP, "10.1.20.11", T0), _flow(MONITOR, "10.1.20.12", T0)], source="capture-1")


def _second_capture(inventory: Inventory, firmware: str) -> None:
    t1 = T0 + 86400
    obs = _seen(PUMP, "10.1.20.11", t1, lldp__med__firmware_revision=firmware, lldp__med__model_name="Pump 9000")
    obs += _seen(MONITOR, "10.1.20.12", t1, lldp__med__firmware_revision="7.0")
    obs += _seen(NEWCOMER, "10.1.20.99", t1, dhcp__hostname="ws-new")
    flows = [_flow(m, ip, t1) for m, ip in ((PUMP, "10.1.20.11"), (MONITOR, "10.1.20.12"), (NEWCOMER, "10.1.20.99"))]
    inventory.ingest(obs, flows, source="capture-2")


def test_firmware_change_and_new_device(inventory: Inventory, desk: AlertDesk) -> None:
    rules = ChangeRules(severities={"new_device": Severity.MEDIUM, "firmware_upgrade": Severity.LOW,
                                    "firmware_downgrade": Severity.HIGH}, silent_hours=1000)
    monitor = ChangeMonitor(inventory, desk, rules)
    _first_capture(inventory)
    monitor.scan(T0 + 60)
    before = {v.alert.id for v in desk.views()}

    _second_capture(inventory, "4.2.0")
    changes, raised = monitor.scan(T0 + 86400 + 60)

    pump, newcomer = inventory.get_device(PUMP), inventory.get_device(NEWCOMER)
    assert pump.value("firmware") == "4.2.0"
    assert sorted((c.device_id, c.kind) for c in changes) == sorted([(pump.id, "firmware_upgrade"),
                                                                     (newcomer.id, "new_device")])
    assert pump.id is not None and newcomer.id is not None
    upgrade = [h for h in inventory.history(pump.id) if h.kind == "firmware_upgrade"]
    assert [(h.old, h.new) for h in upgrade] == [("4.1.2", "4.2.0")]
    assert [h.kind for h in inventory.history(newcomer.id)] .count("new_device") == 1
    new_alerts = [v.alert for v in desk.views() if v.alert.id not in before]
    assert sorted((a.rule, a.devices, a.severity) for a in new_alerts) == sorted([
        ("change-firmware-upgrade", (pump.key,), Severity.LOW),
        ("change-new-device", (newcomer.key,), Severity.MEDIUM)])
    assert len(raised) == 2
    # a second scan finds nothing new
    assert monitor.scan(T0 + 86400 + 120)[0] == []


def test_downgrade_is_high_and_rules_can_silence(inventory: Inventory, desk: AlertDesk) -> None:
    rules = ChangeRules(severities={"new_device": None, "firmware_downgrade": Severity.HIGH}, silent_hours=1000)
    monitor = ChangeMonitor(inventory, desk, rules)
    _first_capture(inventory)
    monitor.scan(T0 + 60)
    _second_capture(inventory, "4.0.9")
    changes, _ = monitor.scan(T0 + 86400 + 60)
    assert {c.kind for c in changes} == {"firmware_downgrade", "new_device"}
    alerts = [v.alert for v in desk.views()]
    assert [(a.rule, a.severity) for a in alerts] == [("change-firmware-downgrade", Severity.HIGH)]


def test_silent_service_and_vlan(inventory: Inventory, desk: AlertDesk) -> None:
    monitor = ChangeMonitor(inventory, desk, ChangeRules(silent_hours=12))
    _first_capture(inventory)
    monitor.scan(T0 + 60)
    t1 = T0 + 3600
    obs = _seen(PUMP, "10.1.20.11", t1, net__service="tcp/8443")
    inventory.ingest(obs, [_flow(PUMP, "10.1.20.11", t1, vlan=30)], source="capture-3")
    changes, _ = monitor.scan(t1 + 60)
    pump = inventory.get_device(PUMP)
    assert sorted(c.kind for c in changes) == ["new_service", "vlan_moved"]
    # the monitor stays silent past 12 h; the pump spoke at t1 so only the monitor goes silent first
    later = T0 + 12.5 * 3600
    changes, _ = monitor.scan(later)
    monitor_dev = inventory.get_device(MONITOR)
    assert [(c.device_id, c.kind) for c in changes] == [(monitor_dev.id, "went_silent")]
    assert monitor.scan(later + 1)[0] == []  # reported once
    assert pump.id is not None
    assert "vlan_moved" in [h.kind for h in inventory.history(pump.id)]

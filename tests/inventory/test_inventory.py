"""The inventory on SQLite and PostgreSQL: idempotence, merges, history, manual values, lookups, flows."""

from __future__ import annotations

import pytest

from wardwatch.domain.flow import PROTO_TCP, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.inventory import Inventory, device_to_json

PUMP = "00:1b:63:84:45:e6"
MONITOR = "00:09:fb:12:34:56"  # Philips Medizin Systeme MA-L


def obs(ts: float, kind: str, value: str, mac: str | None = None, ip: str | None = None,
        **extra: object) -> Observation:
    return Observation(ts=ts, sensor="s1", kind=kind, value=value, mac=mac, ip=ip,
                       excerpt=f"{kind}={value}", **extra)  # type: ignore[arg-type]


CAPTURE_A = [
    obs(100, "dhcp.hostname", "pump-12", PUMP, "10.1.2.3"),
    obs(100, "dhcp.vendor_class", "PumpOS 4", PUMP, "10.1.2.3"),
    obs(101, "dhcp.assigned_ip", "10.1.2.3", PUMP, "10.1.2.3"),
    obs(102, "http.user_agent", "PumpAgent/4.2", PUMP, "10.1.2.3"),
    obs(103, "dhcp.hostname", "pump-12", PUMP, "10.1.2.3"),
]
CAPTURE_B = [
    obs(5000, "http.user_agent", "IntelliVue/1", MONITOR, "10.1.9.9"),
    obs(5001, "tls.sni", "updates.example.org", PUMP, "10.1.2.3"),
]


def snapshot(inventory: Inventory) -> list[dict[str, object]]:
    out = []
    for device in inventory.list_devices():
        assert device.id is not None
        out.append({"device": device_to_json(device), "facts": inventory.facts(device.id),
                    "history": inventory.history(device.id)})
    return out


def test_ingest_twice_is_idempotent(inventory: Inventory) -> None:
    first = inventory.ingest(CAPTURE_A, source="a.pcap")
    assert first.devices_new == 1 and first.facts_added == 4  # distinct (kind, value) observed
    before = snapshot(inventory)
    again = inventory.ingest(CAPTURE_A, source="a.pcap")
    assert (again.devices_new, again.devices_updated, again.facts_added, again.history_events) == (0, 0, 0, 0)
    assert snapshot(inventory) == before
    hostname = before[0]["device"]["attributes"]["hostname"]  # type: ignore[index]
    assert len(hostname["evidence"]) == 1


def test_two_captures_merge(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A)
    inventory.ingest(CAPTURE_B)
    devices = {d.key: d for d in inventory.list_devices()}
    assert set(devices) == {f"mac:{PUMP}", "ip:s1/10.1.9.9"}
    pump = devices[f"mac:{PUMP}"]
    assert pump.id is not None
    assert {f.kind for f in inventory.facts(pump.id)} >= {"tls.sni", "dhcp.hostname", "mac.vendor"}
    # later the monitor's DHCP shows its MAC: the IP-keyed device becomes the MAC device, same id
    ip_id = devices["ip:s1/10.1.9.9"].id
    summary = inventory.ingest([obs(6000, "dhcp.assigned_ip", "10.1.9.9", MONITOR, "10.1.9.9")])
    assert summary.devices_merged == 1
    monitor = inventory.get_device(MONITOR)
    assert monitor.id == ip_id and monitor.key == f"mac:{MONITOR}"
    assert monitor.value("software") == "IntelliVue/1"
    assert monitor.value("mac_vendor") and "philips" in (monitor.value("mac_vendor") or "").lower()
    assert any(h.kind == "merged" for h in inventory.history(ip_id))


def test_absorbed_ip_device_moves_history(inventory: Inventory) -> None:
    inventory.ingest([obs(10, "lldp.system_name", "monitor-3", MONITOR)])
    inventory.ingest([obs(20, "http.user_agent", "IntelliVue/1", MONITOR, "10.1.9.9")])
    ip_device = inventory.get_device("ip:s1/10.1.9.9")
    inventory.ingest([obs(30, "dhcp.hostname", "monitor-3", MONITOR, "10.1.9.9")])
    with pytest.raises(NotFoundError):
        inventory.get_device("ip:s1/10.1.9.9")
    monitor = inventory.get_device("10.1.9.9")
    assert monitor.key == f"mac:{MONITOR}" and monitor.value("software") == "IntelliVue/1"
    assert monitor.id is not None
    kinds = [h.kind for h in inventory.history(monitor.id)]
    assert kinds.count("new_device") == 2 and "merged" in kinds  # the absorbed device's history moved over
    assert ip_device.id != monitor.id


def test_history_of_ip_and_hostname_change(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A)
    inventory.ingest([obs(90_000, "dhcp.hostname", "pump-99", PUMP, "10.1.2.40"),
                      obs(90_001, "dhcp.assigned_ip", "10.1.2.40", PUMP, "10.1.2.40")])
    pump = inventory.get_device(PUMP)
    assert pump.id is not None and pump.ips == ("10.1.2.40", "10.1.2.3")
    events = {(h.kind, h.old, h.new) for h in inventory.history(pump.id)}
    assert ("hostname_changed", "pump-12", "pump-99") in events
    assert ("ip_changed", "10.1.2.3", "10.1.2.40") in events
    assert pump.value("hostname") == "pump-99"


def test_manual_value_wins_and_says_so(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A)
    pump = inventory.get_device(PUMP)
    assert pump.id is not None
    inventory.set_manual(pump.id, "hostname", "ICU Pump 12", actor="alice")
    inventory.set_manual(pump.id, "department", "ICU", actor="alice")
    inventory.ingest([obs(200_000, "dhcp.hostname", "pump-77", PUMP, "10.1.2.3")])
    data = device_to_json(inventory.get_device(PUMP))
    assert data["hostname"] == "ICU Pump 12" and data["department"] == "ICU"
    assert data["attributes"]["hostname"]["source"] == "manual"
    assert "alice" in data["attributes"]["hostname"]["evidence"][0]["excerpt"]
    inventory.clear_manual(pump.id, "hostname", actor="alice")
    assert inventory.get_device(PUMP).value("hostname") == "pump-77"
    with pytest.raises(WardwatchError):
        inventory.set_manual(pump.id, "Bad Name", "x", actor="alice")


def test_lookup_by_id_mac_ip_key_hostname(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A + CAPTURE_B)
    pump = inventory.get_device(PUMP)
    for key in (str(pump.id), "00-1B-63-84-45-E6", "001b.6384.45e6", "10.1.2.3", f"mac:{PUMP}", "PUMP-12"):
        assert inventory.get_device(key).id == pump.id
    assert inventory.get_device("10.1.9.9").key == "ip:s1/10.1.9.9"
    for missing in ("999999", "10.9.9.9", "aa:bb:cc:dd:ee:ff", "no-such-host"):
        with pytest.raises(NotFoundError):
            inventory.get_device(missing)


def test_list_filters(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A + CAPTURE_B)
    pump = inventory.get_device(PUMP)
    assert pump.id is not None
    inventory.set_manual(pump.id, "device_class", "infusion_pump", actor="bob")
    assert [d.key for d in inventory.list_devices(vendor="apple")] == [f"mac:{PUMP}"]
    assert [d.key for d in inventory.list_devices(device_class="infusion_pump")] == [f"mac:{PUMP}"]
    assert [d.key for d in inventory.list_devices(subnet="10.1.9.0/24")] == ["ip:s1/10.1.9.9"]
    assert len(inventory.list_devices(subnet="10.0.0.0/8")) == 2
    assert inventory.list_devices(subnet="192.168.0.0/16") == []
    assert [d.key for d in inventory.list_devices(search="10.1.9")] == ["ip:s1/10.1.9.9"]
    assert [d.key for d in inventory.list_devices(search="PUMP-1")] == [f"mac:{PUMP}"]
    assert len(inventory.list_devices(limit=1)) == 1
    assert inventory.list_devices(limit=1, offset=1)[0].key != inventory.list_devices(limit=1)[0].key
    assert inventory.count_devices() == 2
    with pytest.raises(WardwatchError):
        inventory.list_devices(subnet="not-a-net")


def test_device_json_shape(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A)
    data = device_to_json(inventory.get_device(PUMP))
    for key in ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os", "firmware",
                "asset_tag", "department", "first_seen", "last_seen", "attributes"):
        assert key in data
    assert data["first_seen"] == "1970-01-01T00:01:40+00:00"
    assert data["vendor"] == "Apple, Inc."
    evidence = data["attributes"]["hostname"]["evidence"][0]
    assert evidence["kind"] == "dhcp.hostname" and evidence["ts"].startswith("1970-01-01T00:01:43")


def _flow(first: float, last: float, packets: int, sport: int = 50000) -> FlowRecord:
    return FlowRecord(src_ip="10.1.2.3", dst_ip="10.1.0.10", proto=PROTO_TCP, src_port=sport, dst_port=104,
                      src_mac=PUMP, dst_mac=MONITOR, first_seen=first, last_seen=last, packets_fwd=packets,
                      packets_rev=packets, bytes_fwd=packets * 100, bytes_rev=packets * 50, app="dicom")


def test_flows_upsert_is_idempotent_and_aggregates(inventory: Inventory) -> None:
    inventory.ingest(CAPTURE_A, [_flow(100, 110, 5)])
    inventory.ingest(CAPTURE_A, [_flow(100, 110, 5)])  # replay
    flows = inventory.flows()
    assert len(flows) == 1 and flows[0].packets_fwd == 5
    inventory.ingest([], [_flow(100, 130, 9)])  # the same flow, seen longer (cumulative counters)
    inventory.ingest([], [_flow(200, 210, 3)])  # another flow of the same tuple in the hour
    flows = inventory.flows()
    assert len(flows) == 1
    assert (flows[0].packets_fwd, flows[0].first_seen, flows[0].last_seen) == (12, 100, 210)
    inventory.ingest([], [_flow(7300, 7310, 1)])  # next hour: a new row
    pump = inventory.get_device(PUMP)
    assert pump.id is not None
    assert len(inventory.flows(pump.id)) == 2 and flows[0].app == "dicom"
    assert inventory.ingest_runs()[0]["flows"] == 1

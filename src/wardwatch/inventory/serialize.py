"""JSON views of inventory objects (the CLI's ``--format json`` and the web API use these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wardwatch.domain.device import Device, HistoryEvent
from wardwatch.domain.flow import FlowRecord
from wardwatch.identify.state import Fact

#: Attributes promoted to top-level keys of the device object (issue 2's interface), in this order.
TOP_LEVEL = ("hostname", "vendor", "model", "device_class", "os", "firmware", "serial", "asset_tag",
             "department", "location", "criticality", "owner", "mac_vendor", "mac_randomized")


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC text of an epoch time (``2024-05-01T12:00:00.250000+00:00``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def device_to_json(device: Device) -> dict[str, Any]:
    """The JSON device object: id, key, mac, ips, the standard attributes, times and every attribute."""
    out: dict[str, Any] = {"id": device.id, "key": device.key, "mac": device.mac, "ips": list(device.ips),
                           "sensor": device.sensor}
    for name in TOP_LEVEL:
        out[name] = device.value(name)
    out["first_seen"] = iso(device.first_seen)
    out["last_seen"] = iso(device.last_seen)
    out["attributes"] = {
        name: {
            "value": attribute.value,
            "confidence": attribute.confidence,
            "source": str(attribute.source),
            "evidence": [
                {"kind": e.kind, "value": e.value, "ts": iso(e.ts), "sensor": e.sensor, "excerpt": e.excerpt,
                 "rule": e.rule}
                for e in attribute.evidence
            ],
        }
        for name, attribute in sorted(device.attributes.items())
    }
    return out


def history_to_json(event: HistoryEvent) -> dict[str, Any]:
    """JSON view of a history event."""
    return {"ts": iso(event.ts), "kind": event.kind, "attribute": event.attribute, "old": event.old,
            "new": event.new, "evidence": event.evidence, "device_id": event.device_id}


def fact_to_json(fact: Fact) -> dict[str, Any]:
    """JSON view of a fact."""
    return {"kind": fact.kind, "value": fact.value, "first_seen": iso(fact.first_seen),
            "last_seen": iso(fact.last_seen), "count": fact.count, "sensor": fact.sensor,
            "excerpt": fact.excerpt, "confidence": fact.confidence, "source": fact.source}


def flow_to_json(flow: FlowRecord) -> dict[str, Any]:
    """JSON view of a flow."""
    return {"src_ip": flow.src_ip, "src_port": flow.src_port, "dst_ip": flow.dst_ip,
            "dst_port": flow.dst_port, "proto": flow.proto, "src_mac": flow.src_mac, "dst_mac": flow.dst_mac,
            "vlan": flow.vlan, "app": flow.app, "first_seen": iso(flow.first_seen),
            "last_seen": iso(flow.last_seen), "packets_fwd": flow.packets_fwd, "packets_rev": flow.packets_rev,
            "bytes_fwd": flow.bytes_fwd, "bytes_rev": flow.bytes_rev, "sensor": flow.sensor}

"""Helpers of the threat-intelligence tests: a capture analyzed into the inventory, STIX/MISP fixtures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import require_shared
from wardwatch.domain.flow import FlowRecord
from wardwatch.inventory import Inventory
from wardwatch.pipeline.analyze import analyze_captures

TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"  # TLP 2.0 extension marking


def analyze_http_capture(inventory: Inventory) -> tuple[FlowRecord, str]:
    """Analyze Zeek's ``http/bro.org.pcap``; returns one HTTP flow and the server address it reached."""
    capture = require_shared("zeek-traces", "http_bro.org.pcap")
    analyze_captures([capture], inventory)
    flows = [f for f in inventory.flows() if f.dst_port == 80]
    assert flows, "the capture holds HTTP flows"
    return flows[0], flows[0].dst_ip


def stix_indicator(pattern: str, *, name: str, marking: str | None = None, confidence: int | None = 85,
                   valid_until: str | None = None) -> dict[str, Any]:
    """A STIX 2.1 indicator object (§4.7)."""
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": name,
        "indicator_types": ["malicious-activity"], "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2014-01-01T00:00:00Z"}
    if marking:
        obj["object_marking_refs"] = [marking]
    if confidence is not None:
        obj["confidence"] = confidence
    if valid_until:
        obj["valid_until"] = valid_until
    return obj


def misp_event(attributes: list[tuple[str, str]], *, tlp: str = "tlp:green", info: str = "test event"
               ) -> dict[str, Any]:
    """A MISP core-format event with ``(type, value)`` attributes."""
    return {"Event": {
        "uuid": str(uuid.uuid4()), "info": info, "date": "2024-03-01", "threat_level_id": "2", "analysis": "2",
        "timestamp": "1709287200", "Orgc": {"name": "Test ISAC", "uuid": str(uuid.uuid4())},
        "Tag": [{"name": tlp}],
        "Attribute": [{"type": t, "category": "Network activity", "value": v, "to_ids": True, "deleted": False,
                       "uuid": str(uuid.uuid4()), "timestamp": "1709287200", "comment": ""} for t, v in attributes],
    }}


def write_misp_feed(folder: Path, events: list[dict[str, Any]]) -> Path:
    """A MISP feed folder: ``manifest.json`` and one ``<uuid>.json`` per event."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for event in events:
        ev = event["Event"]
        manifest[ev["uuid"]] = {"info": ev["info"], "date": ev["date"], "timestamp": ev["timestamp"],
                                "Orgc": ev["Orgc"], "Tag": ev["Tag"], "analysis": 2, "threat_level_id": 2}
        (folder / f"{ev['uuid']}.json").write_text(json.dumps(event))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder

"""The ground-truth sidecar (``<capture>.truth.json``) and the generation summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wardwatch.demo.hospital import DEPARTMENTS, DOMAIN, HospitalDevice
from wardwatch.demo.wire.frames import mac_text

TRUTH_VERSION = 1


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What a generation run produced."""

    output: Path
    truth: Path
    devices: int
    packets: int
    bytes: int
    seed: int
    start: float
    end: float
    elapsed_s: float


def _ip(raw: bytes) -> str:
    return ".".join(map(str, raw))


def device_record(dev: HospitalDevice) -> dict[str, Any]:
    """The truth record of one device."""
    m = dev.model
    affected = [dev.firmware.advisory] if dev.firmware.advisory else []
    return {
        "id": dev.index, "mac": mac_text(dev.mac), "ip": _ip(dev.ip), "vlan": dev.vlan,
        "department": dev.department.name, "device_class": m.device_class, "vendor": m.vendor,
        "model": m.model, "os": m.os, "firmware": dev.firmware.version, "hostname": dev.hostname,
        "serial": dev.serial, "ae_title": dev.ae_title, "modality": m.modality,
        "dhcp": m.dhcp is not None, "mac_randomized": dev.mac_randomized, "end_of_life": m.end_of_life,
        "catalogue_key": m.key,
        "advisories": {"affected": affected,
                       "not_affected": [a for a in m.checked_advisories if a not in affected]},
        "hygiene": sorted(dev.hygiene), "attacks": sorted(dev.attacks),
    }


def write(path: Path, table: list[HospitalDevice], meta: dict[str, Any]) -> None:
    """Write the sidecar, one device per line inside the array (streamed, stable key order)."""
    header = {
        "format": "wardwatch-demo-truth", "version": TRUTH_VERSION, **meta, "domain": DOMAIN,
        "capture_point": ("SPAN of the access VLANs, 802.1Q-tagged; a routed flow appears once, on the "
                          "client's VLAN, with the peer behind that VLAN's gateway MAC"),
        "departments": [{"name": d.name, "vlan": d.vlan, "subnet": f"{d.net[0]}.{d.net[1]}.0.0/16",
                         "gateway_ip": _ip(d.gateway_ip), "gateway_mac": mac_text(d.gateway_mac)}
                        for d in DEPARTMENTS.values()],
    }
    with path.open("w", encoding="utf-8") as fh:
        text = json.dumps(header, indent=1, sort_keys=True)
        fh.write(text[:-2] + ',\n "devices": [\n')
        for i, dev in enumerate(table):
            fh.write("  " + json.dumps(device_record(dev), sort_keys=True, ensure_ascii=False))
            fh.write(",\n" if i < len(table) - 1 else "\n")
        fh.write(" ]\n}\n")

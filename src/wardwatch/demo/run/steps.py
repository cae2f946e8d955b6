"""The demo's own steps: generate the hospital, analyze it, import its asset register.

These use only what wardwatch always has (generator, capture engine, dissectors, fingerprint rules,
inventory). The optional capabilities (intel, risk, detection) are in :mod:`.capabilities`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from wardwatch.demo.run.model import DemoOptions, ProgressFn, StepResult, StepStatus
from wardwatch.inventory.repository import Inventory

#: Departments whose devices a hospital's CMMS (asset register) lists; guest Wi-Fi is not an asset.
ASSET_DEPARTMENTS = frozenset({"radiology", "icu", "ed", "wards", "lab", "pharmacy", "admin"})
_DEPARTMENT_NAMES = {"radiology": "Radiology", "icu": "ICU", "ed": "Emergency", "wards": "Wards",
                     "lab": "Laboratory", "pharmacy": "Pharmacy", "admin": "Administration"}


def department_label(name: str) -> str:
    """The department as the asset register (and the web's department scoping) writes it."""
    return _DEPARTMENT_NAMES.get(name, name)


def _truth_matches(truth: Path, options: DemoOptions) -> bool:
    """True when ``truth`` describes a capture made with the same arguments (so it can be reused)."""
    try:
        with truth.open(encoding="utf-8") as fh:
            head = json.loads(fh.read())
    except (OSError, ValueError):
        return False
    return (head.get("format") == "wardwatch-demo-truth" and head.get("devices") is not None
            and head.get("seed") == options.seed and len(head["devices"]) == options.devices
            and head.get("rounds") == options.rounds and head.get("background_packets") == 0)


def generate(options: DemoOptions, progress: ProgressFn) -> StepResult:
    """Generate the capture, or reuse the one a previous run made with the same arguments."""
    from wardwatch.demo import generate_hospital

    capture = options.capture
    truth = capture.with_suffix(".truth.json")
    if capture.is_file() and _truth_matches(truth, options):
        progress(options.rounds, options.rounds)
        return StepResult("generate", StepStatus.done, f"reused {capture.name} (same devices and seed)",
                          {"devices": options.devices, "bytes": capture.stat().st_size, "reused": True})
    capture.parent.mkdir(parents=True, exist_ok=True)
    summary = generate_hospital(options.devices, options.seed, capture, rounds=options.rounds, progress=progress)
    return StepResult("generate", StepStatus.done, f"{summary.packets} packets into {capture.name}",
                      {"devices": summary.devices, "packets": summary.packets, "bytes": summary.bytes,
                       "reused": False})


def open_inventory(url: str) -> Inventory:
    """The inventory as every entry point opens it: built-in fingerprint rules and identity settings."""
    from wardwatch.pipeline.wiring import open_inventory as open_configured

    return open_configured(url)


def analyze(inventory: Inventory, capture: Path, progress: ProgressFn) -> StepResult:
    """The full pipeline over the capture: capture engine, dissectors, identification, inventory."""
    from wardwatch.pipeline.analyze import analyze_captures

    report = analyze_captures([capture], inventory, progress=progress)
    classified = sum(1 for d in inventory.list_devices(limit=None) if d.value("device_class"))
    status = StepStatus.failed if any(f.error for f in report.files) else StepStatus.done
    note = report.files[0].error if status == StepStatus.failed and report.files else (
        f"{report.packets} packets, {report.devices_total} devices, {classified} classified")
    return StepResult("analyze", status, note or "", {
        "packets": report.packets, "devices": report.devices_total, "classified": classified,
        "flows": sum(f.flows for f in report.files), "observations": sum(f.observations for f in report.files)})


def asset_rows(truth: dict[str, Any]) -> list[dict[str, str]]:
    """The hospital's asset register (CMMS export): where each asset lives, never what it is.

    Only department, location and asset tag are exported, so the device class, vendor and model the
    demo shows are wardwatch's own classification from traffic, not imported answers.
    """
    rows = []
    for dev in truth["devices"]:
        if dev["department"] not in ASSET_DEPARTMENTS or dev["mac_randomized"]:
            continue
        dept = department_label(dev["department"])
        rows.append({"mac": dev["mac"], "ip": dev["ip"], "department": dept,
                     "location": f"St Mary's / {dept}", "asset_tag": f"SM-{dev['id']:06d}"})
    return rows


def import_assets(inventory: Inventory, capture: Path) -> StepResult:
    """Write the asset register next to the capture and import it (``inventory.imports``)."""
    from wardwatch.inventory.imports import import_assets as run_import

    truth = json.loads(capture.with_suffix(".truth.json").read_text(encoding="utf-8"))
    register = capture.with_name("asset-register.csv")
    rows = asset_rows(truth)
    with register.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["mac", "ip", "department", "location", "asset_tag"])
        writer.writeheader()
        writer.writerows(rows)
    summary = run_import(inventory, register)
    return StepResult("assets", StepStatus.done, f"{summary.imported} assets with their department",
                      {"rows": summary.rows, "imported": summary.imported})

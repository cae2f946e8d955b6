"""The main job on files: captures in, a classified inventory out (capture → dissect → identify → store).

This module is wiring only (ARCHITECTURE.md, ``pipeline/``): the capture engine reads and reassembles,
the registry's dissectors turn payloads into Observations, ``endpoints`` adds what the flow table
teaches, and the inventory folds it all into devices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wardwatch.capture.engine import CaptureConfig, process_capture
from wardwatch.dissect.registry import Registry
from wardwatch.domain.flow import FlowRecord
from wardwatch.errors import CaptureError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.collect import DissectingSink, flow_key
from wardwatch.pipeline.endpoints import clean, flow_observations, gateway_macs

if TYPE_CHECKING:
    from wardwatch.alerting.routing import Routing

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class FileReport:
    """What one capture file gave, and what of it had to be skipped."""

    path: str
    packets: int = 0
    flows: int = 0
    observations: int = 0
    skipped_records: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    truncated: bool = False
    alerts: int = 0
    newest: float = 0.0

    @property
    def skipped(self) -> bool:
        """True when anything of this file was not analyzed."""
        return self.error is not None or self.skipped_records > 0 or self.truncated


@dataclass
class AnalyzeReport:
    """The summary of an analyze run over several files."""

    files: list[FileReport] = field(default_factory=list)
    devices_new: int = 0
    devices_updated: int = 0
    devices_total: int = 0
    dissected: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    changes: int = 0

    @property
    def skipped(self) -> bool:
        """True when any file or record was skipped (CLI exit code 3)."""
        return any(f.skipped for f in self.files)

    @property
    def packets(self) -> int:
        """Packets read over all files."""
        return sum(f.packets for f in self.files)


def label_flows(flows: Sequence[FlowRecord], apps: dict[tuple[int, str | None, int, str | None, int], str]
                ) -> list[FlowRecord]:
    """FlowRecords with ``app`` set from what the dissectors recognised."""
    out = []
    for flow in flows:
        app = apps.get((flow.proto, flow.src_ip, flow.src_port, flow.dst_ip, flow.dst_port))
        out.append(replace(flow, app=app) if app and not flow.app else flow)
    return out


def analyze_file(
    path: Path,
    inventory: Inventory,
    registry: Registry,
    *,
    sensor: str = "local",
    config: CaptureConfig | None = None,
    progress: Progress | None = None,
    local_networks: tuple[str, ...] = (),
    detect: bool = True,
    routing: Routing | None = None,
) -> tuple[FileReport, int, int]:
    """Analyze one capture into ``inventory`` (and run detection over it unless ``detect`` is false, new
    alerts delivered through ``routing``); returns the report and (new, updated) device counts."""
    report = FileReport(path=str(path))
    sink = DissectingSink(registry)
    try:
        result = process_capture(path, sink, sensor=sensor, config=config, progress=progress)
    except CaptureError as exc:
        report.error = str(exc)
        return report, 0, 0
    stats = result.stats
    report.packets = stats.packets
    report.skipped_records = stats.skipped_records
    report.skip_reasons = dict(stats.reasons)
    report.truncated = stats.skipped and not stats.skipped_records
    flows = label_flows(result.flows, sink.apps)
    report.newest = max((f.last_seen for f in flows), default=0.0)
    gateways = gateway_macs(flows)
    observations = list(clean(sink.drain(), gateways, local_networks))
    observations.extend(flow_observations(flows, gateways, sensor, local_networks))
    report.flows = len(flows)
    report.observations = len(observations)
    summary = inventory.ingest(observations, flows, source=str(path))
    if detect:
        from wardwatch.detect.service import detect_and_alert

        report.alerts = len(detect_and_alert(inventory, flows, observations, routing=routing).alerts)
    return report, summary.devices_new, summary.devices_updated


def watch_changes(inventory: Inventory, now: float, *, initial: bool = False, routing: Routing | None = None) -> int:
    """Turn what the ingest recorded in device history (new device, firmware change, new service, moved,
    reclassified …) into change events and, by the configured rules, alerts. Returns how many changes.

    ``now`` is the time of the data (the newest packet of the captures just analyzed), so "gone silent"
    means silent in the capture, not since the capture was taken. On the ``initial`` discovery of an empty
    inventory every device is new: that is recorded in history but raises no alert. New alerts go out
    through ``routing`` (the ``[alerting]`` settings; none: recorded only).
    """
    from dataclasses import replace as dc_replace

    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.detect.changes import ChangeMonitor, ChangeRules

    rules = ChangeRules()
    if initial:
        rules = dc_replace(rules, severities={**rules.severities, "new_device": None})
    changes, _ = ChangeMonitor(inventory, AlertDesk(inventory.engine, routing), rules).scan(now)
    return len(changes)


def analyze_captures(
    paths: Sequence[Path],
    inventory: Inventory,
    *,
    sensor: str = "local",
    config: CaptureConfig | None = None,
    registry: Registry | None = None,
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
    local_networks: tuple[str, ...] = (),
    detect: bool = True,
    routing: Routing | None = None,
) -> AnalyzeReport:
    """Analyze captures one after the other into ``inventory`` and summarise."""
    registry = registry or Registry.from_entry_points()
    report = AnalyzeReport()
    initial = inventory.count_devices() == 0
    newest = 0.0
    for path in paths:
        if on_file is not None:
            on_file(path)
        file_report, new, updated = analyze_file(
            path, inventory, registry, sensor=sensor, config=config, progress=progress,
            local_networks=local_networks, detect=detect, routing=routing,
        )
        report.files.append(file_report)
        newest = max(newest, file_report.newest)
        report.devices_new += new
        report.devices_updated += updated
    if detect and newest:
        report.changes = watch_changes(inventory, newest, initial=initial, routing=routing)
    report.dissected = dict(registry.stats.parsed)
    report.refused = dict(registry.stats.errors)
    report.devices_total = inventory.count_devices()
    return report


__all__ = ["AnalyzeReport", "FileReport", "analyze_captures", "analyze_file", "flow_key"]

"""The detection engine: runs the registered rules over flows and Observations, deduplicates the alerts.

``DetectionEngine.run`` judges one batch (a capture, an ingest run, a sensor interval);
:func:`detect_capture` reads a capture file through the capture engine and the dissectors first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wardwatch.detect.interface import DetectionContext, DetectionRule, rules
from wardwatch.domain.alert import Alert
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation

if TYPE_CHECKING:
    from wardwatch.dissect.registry import Registry

log = logging.getLogger(__name__)


class DetectionEngine:
    """Rules over batches."""

    def __init__(self, ctx: DetectionContext, selected: Sequence[DetectionRule] | None = None) -> None:
        self.ctx = ctx
        self.rules = list(selected) if selected is not None else rules()

    def run(self, flows: Sequence[FlowRecord], observations: Sequence[Observation] = ()) -> list[Alert]:
        """Alerts of every rule, one per dedup key (the earliest; repeats counted)."""
        found: dict[str, Alert] = {}
        for rule in self.rules:
            for alert in rule.evaluate(flows, observations, self.ctx):
                seen = found.get(alert.dedup_key)
                if seen is None:
                    found[alert.dedup_key] = alert
                else:
                    earliest = seen if seen.ts <= alert.ts else alert
                    found[alert.dedup_key] = replace(earliest, count=seen.count + alert.count,
                                                     last_seen=max(seen.ts, alert.ts, seen.last_seen or 0))
        return sorted(found.values(), key=lambda a: (a.ts, a.rule, a.dedup_key))


def read_capture(path: Path, *, sensor: str = "local", registry: Registry | None = None
                 ) -> tuple[list[FlowRecord], list[Observation]]:
    """Flows (labelled with their application) and Observations of one capture file."""
    from wardwatch.capture.engine import process_capture
    from wardwatch.dissect.registry import Registry
    from wardwatch.pipeline.analyze import label_flows
    from wardwatch.pipeline.collect import DissectingSink

    sink = DissectingSink(registry or Registry.from_entry_points())
    result = process_capture(path, sink, sensor=sensor)
    return label_flows(result.flows, sink.apps), sink.drain()


def detect_capture(path: Path, ctx: DetectionContext, selected: Sequence[DetectionRule] | None = None) -> list[Alert]:
    """Run detection over one capture; alerts reference the capture file."""
    flows, observations = read_capture(path)
    if ctx.capture_ref is None:
        ctx.capture_ref = str(path)
    return DetectionEngine(ctx, selected).run(flows, observations)

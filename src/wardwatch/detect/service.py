"""Wiring for the pipeline and the CLI: detection with the stored baseline and active policy, alerts
stored (deduplicated) and delivered through the configured notifiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wardwatch.alerting.notifiers.interface import Notifier, deliver
from wardwatch.alerting.store import AlertStore
from wardwatch.detect.engine import DetectionEngine
from wardwatch.detect.indicators import IndicatorSet
from wardwatch.detect.interface import DetectionContext, Thresholds
from wardwatch.domain.alert import Alert
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.inventory.repository import Inventory
from wardwatch.prevent.baseline_store import BaselineStore
from wardwatch.prevent.service import directory_of
from wardwatch.prevent.versions import DEFAULT_NAME, PolicyVersions


def context_for(inventory: Inventory, *, indicators: IndicatorSet | None = None, policy_name: str = DEFAULT_NAME,
                thresholds: Thresholds | None = None, capture_ref: str | None = None) -> DetectionContext:
    """The latest baseline, the active policy version and the inventory's devices."""
    active = PolicyVersions(inventory.engine).active(policy_name)
    return DetectionContext(directory=directory_of(inventory), baseline=BaselineStore(inventory.engine).latest(),
                            policy=active.policy if active else None, indicators=indicators or IndicatorSet(),
                            thresholds=thresholds or Thresholds(), capture_ref=capture_ref)


@dataclass
class DetectionRun:
    """What one detection run produced."""

    alerts: list[Alert] = field(default_factory=list)
    delivery_failures: list[str] = field(default_factory=list)


def detect_and_alert(inventory: Inventory, flows: Sequence[FlowRecord], observations: Sequence[Observation], *,
                     ctx: DetectionContext | None = None, notifiers: Sequence[Notifier] = ()) -> DetectionRun:
    """Run every rule, store the alerts, deliver the new ones (a repeat of an open alert is not re-sent)."""
    context = ctx or context_for(inventory)
    run = DetectionRun()
    for stored, new in AlertStore(inventory.engine).record_new(DetectionEngine(context).run(flows, observations)):
        run.alerts.append(stored)
        if new:
            run.delivery_failures += deliver(stored, notifiers)
    return run

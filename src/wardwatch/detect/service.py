"""Wiring for the pipeline and the CLI: detection with the stored baseline and active policy, alerts
stored (deduplicated) and delivered through the configured notifiers or the configured routing
(``[alerting]`` settings, :func:`wardwatch.alerting.config.routing_for`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from wardwatch.alerting.notifiers.interface import Notifier, deliver
from wardwatch.alerting.routing import Routing
from wardwatch.alerting.store import AlertStore
from wardwatch.detect.engine import DetectionEngine
from wardwatch.detect.indicators import IndicatorSet
from wardwatch.detect.interface import DetectionContext, Thresholds
from wardwatch.domain.alert import Alert
from wardwatch.domain.device import Device
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.errors import NotFoundError
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
                     ctx: DetectionContext | None = None, notifiers: Sequence[Notifier] = (),
                     routing: Routing | None = None) -> DetectionRun:
    """Run every rule, store the alerts, deliver the new ones (a repeat of an open alert is not re-sent):
    to every one of ``notifiers``, and through ``routing`` to the routes of the teams owning its devices."""
    context = ctx or context_for(inventory)
    run = DetectionRun()
    for stored, new in AlertStore(inventory.engine).record_new(DetectionEngine(context).run(flows, observations)):
        run.alerts.append(stored)
        if new:
            run.delivery_failures += deliver(stored, notifiers)
            if routing is not None and routing.routes:
                report = routing.deliver(stored, routing.teams_for(_devices(inventory, stored.devices)))
                run.delivery_failures += report.failed + report.refused
    return run


def _devices(inventory: Inventory, keys: Sequence[str]) -> list[Device]:
    found = []
    for key in keys:
        try:
            found.append(inventory.get_device(key))
        except NotFoundError:
            continue
    return found

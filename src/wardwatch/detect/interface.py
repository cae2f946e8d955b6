"""Detection rules: the base class, the context they read, and the id → class registry (as pySigma).

A rule looks at a batch of flows and Observations and yields :class:`~wardwatch.domain.alert.Alert`s.
It reads only the :class:`DetectionContext` (devices, baseline, policy, indicators, thresholds); it does
no I/O. Rules register themselves with :func:`register`; :func:`rules` instantiates every registered one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from wardwatch.detect.indicators import IndicatorSet
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.domain.policy import Policy
from wardwatch.prevent.baseline import Baseline
from wardwatch.prevent.endpoints import DeviceDirectory
from wardwatch.prevent.policy import PolicyMatcher


@dataclass
class Thresholds:
    """Tunables of the anomaly and scan rules."""

    volume_factor: float = 3.0  # a flow larger than factor × the largest baseline flow ...
    volume_min_bytes: int = 64 * 1024  # ... and at least this large
    scan_ports: int = 15  # distinct ports of one host probed by one source
    scan_hosts: int = 15  # distinct hosts probed on one port by one source


@dataclass
class DetectionContext:
    """What rules may read."""

    directory: DeviceDirectory = field(default_factory=lambda: DeviceDirectory(()))
    baseline: Baseline | None = None
    policy: Policy | None = None
    indicators: IndicatorSet = field(default_factory=IndicatorSet)
    thresholds: Thresholds = field(default_factory=Thresholds)
    capture_ref: str | None = None
    _matcher: PolicyMatcher | None = field(default=None, init=False, repr=False)

    @property
    def matcher(self) -> PolicyMatcher | None:
        """The compiled policy (built once)."""
        if self._matcher is None and self.policy is not None:
            self._matcher = PolicyMatcher(self.policy)
        return self._matcher

    def name_of(self, ip: str | None, mac: str | None = None) -> str:
        """The device key behind an address, else ``ip:<address>``."""
        device = self.directory.device_for(ip, mac)
        return device.key if device else f"ip:{ip or mac}"


class DetectionRule:
    """Base class of detection rules."""

    id: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    description: ClassVar[str] = ""

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """Alerts for this batch."""
        raise NotImplementedError

    def alert(self, ctx: DetectionContext, *, title: str, devices: Iterable[str], evidence: Iterable[str],
              key: str, ts: float, severity: Severity | None = None, count: int = 1, **details: object) -> Alert:
        """An alert of this rule (dedup key prefixed with the rule id); ``count`` sightings behind it."""
        return Alert(rule=self.id, severity=severity or self.severity, title=title[:300], count=max(count, 1),
                     devices=tuple(dict.fromkeys(devices)), evidence=tuple(e[:300] for e in evidence),
                     dedup_key=f"{self.id}:{key}"[:300], ts=ts, capture_ref=ctx.capture_ref, details=dict(details))


REGISTRY: dict[str, type[DetectionRule]] = {}


def register(cls: type[DetectionRule]) -> type[DetectionRule]:
    """Class decorator: add a rule to the registry under its id."""
    if not cls.id or cls.id in REGISTRY:
        raise ValueError(f"rule id {cls.id!r} is empty or taken")
    REGISTRY[cls.id] = cls
    return cls


def rules(ids: Iterable[str] | None = None) -> list[DetectionRule]:
    """Instances of the registered rules (all, or those named)."""
    import wardwatch.detect.rules  # noqa: F401  (registers the built-in rules)

    wanted = list(ids) if ids is not None else sorted(REGISTRY)
    unknown = [i for i in wanted if i not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown detection rules: {', '.join(unknown)}")
    return [REGISTRY[i]() for i in wanted]


def describe(flow: FlowRecord) -> str:
    """``10.0.0.5:40000 → 10.0.0.9:104 tcp, 12 pkts, 3400 B``."""
    proto = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(flow.proto, str(flow.proto))
    return (f"{flow.src_ip}:{flow.src_port} → {flow.dst_ip}:{flow.dst_port} {proto}, {flow.packets} pkts, "
            f"{flow.bytes} B" + (f", {flow.app}" if flow.app else ""))

"""What-if: device scores recomputed exactly after a set of remediation actions (issue 4).

An action's :class:`Effect` on one device removes findings (by fingerprint), adds controls (``segmented``,
``monitored``) and may cut the device off the internet. :func:`what_if` applies the effects of a chosen
set together and recomputes every touched device with :func:`~wardwatch.risk.score.assess`, so "if we do
these actions, risk goes from A to B" is exact, including overlaps between actions. A :class:`Scorer`
memoizes assessments: devices of one model with the same findings and context are scored once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from wardwatch.domain.finding import Finding
from wardwatch.domain.risk import RiskAssessment
from wardwatch.risk.findings import Scored
from wardwatch.risk.score import DeviceContext, Enrichment, RiskWeights, assess


@dataclass(frozen=True, slots=True)
class Effect:
    """What an action does to one device."""

    removes: frozenset[str] = frozenset()
    controls: tuple[str, ...] = ()
    cut_internet: bool = False
    removes_all: bool = False  # the device is replaced

    def merge(self, other: Effect) -> Effect:
        """Both effects at once."""
        return Effect(self.removes | other.removes, tuple(dict.fromkeys((*self.controls, *other.controls))),
                      self.cut_internet or other.cut_internet, self.removes_all or other.removes_all)


@dataclass
class DeviceRisk:
    """One device as the score and the planner see it."""

    device_id: int
    ctx: DeviceContext
    scored: list[Scored] = field(default_factory=list)  # findings that count (state open or accepted)
    open: frozenset[str] = frozenset()  # fingerprints actions may target (state open)
    clinical: bool = False
    vendor: str = ""
    model: str = ""


class Scorer:
    """Scores devices (memoized on context and findings)."""

    def __init__(self, weights: RiskWeights, enrichment: Enrichment) -> None:
        self.weights = weights
        self.enrichment = enrichment
        self._memo: dict[tuple[object, ...], RiskAssessment] = {}

    def _raw(self, ctx: DeviceContext, scored: Sequence[Scored]) -> RiskAssessment:
        key = (ctx.criticality, ctx.criticality_source, ctx.handles_phi, ctx.internet_exposed, ctx.controls,
               frozenset((s.fingerprint, s.finding.status) for s in scored))
        found = self._memo.get(key)
        if found is None:
            findings: list[Finding] = [s.finding for s in scored if s.active]
            found = assess(replace(ctx, device_id=None), findings, self.enrichment, self.weights)
            if len(self._memo) < 500_000:
                self._memo[key] = found
        return found

    def assess(self, ctx: DeviceContext, scored: Sequence[Scored]) -> RiskAssessment:
        """The assessment of a device with these findings (device id taken from ``ctx``)."""
        found = self._raw(ctx, scored)
        return RiskAssessment(ctx.device_id, found.score, found.level, found.likelihood, found.impact, found.factors)

    def score(self, device: DeviceRisk) -> float:
        """The device's score as it is."""
        return self._raw(device.ctx, device.scored).score

    def score_after(self, device: DeviceRisk, effect: Effect) -> float:
        """The device's score once ``effect`` is applied."""
        return self._raw(*apply(device, effect)).score


def apply(device: DeviceRisk, effect: Effect) -> tuple[DeviceContext, list[Scored]]:
    """The device's context and findings after ``effect``."""
    ctx = device.ctx
    if effect.controls:
        ctx = replace(ctx, controls=tuple(dict.fromkeys((*ctx.controls, *effect.controls))))
    if effect.cut_internet:
        ctx = replace(ctx, internet_exposed=False)
    if effect.removes_all:
        return replace(ctx, internet_exposed=False), []
    return ctx, [s for s in device.scored if s.fingerprint not in effect.removes]


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Total risk (sum of device scores) before and after a set of actions, and per touched device."""

    before: float
    after: float
    devices: tuple[tuple[int, float, float], ...]  # (device id, score before, score after)

    @property
    def removed(self) -> float:
        """Risk removed by the actions."""
        return round(self.before - self.after, 2)


def what_if(devices: Mapping[int, DeviceRisk], effects: Iterable[Mapping[int, Effect]], scorer: Scorer,
            baseline: Mapping[int, float] | None = None) -> WhatIf:
    """Apply every action's effects together and recompute the touched devices exactly.

    ``baseline`` (device id → current score) spares rescoring untouched devices; without it every device
    is scored.
    """
    merged: dict[int, Effect] = {}
    for per_device in effects:
        for device_id, effect in per_device.items():
            merged[device_id] = merged[device_id].merge(effect) if device_id in merged else effect
    current = dict(baseline) if baseline is not None else {i: scorer.score(d) for i, d in devices.items()}
    before = round(sum(current.values()), 2)
    touched: list[tuple[int, float, float]] = []
    after_total = before
    for device_id, effect in sorted(merged.items()):
        device = devices.get(device_id)
        if device is None:
            continue
        old = current.get(device_id, scorer.score(device))
        new = scorer.score_after(device, effect)
        touched.append((device_id, old, new))
        after_total += new - old
    return WhatIf(before, round(after_total, 2), tuple(touched))

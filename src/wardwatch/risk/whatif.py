"""What-if: device scores recomputed exactly after a set of remediation actions (issue 4).

An action's :class:`Effect` on one device removes findings (by fingerprint), adds controls (``segmented``,
``monitored``) and may cut the device off the internet. :func:`what_if` applies the effects of a chosen
set together and recomputes every touched device with :func:`~wardwatch.risk.score.assess`, so "if we do
these actions, risk goes from A to B" is exact, including overlaps between actions. A :class:`Scorer`
memoizes assessments: devices of one model with the same findings and context are scored once.

A :class:`DeviceRisk` may stand for several devices (``members``): devices with the very same findings
(the same shared :class:`~wardwatch.risk.findings.Scored` objects), workflow states and context have the
same score and the same response to every action, so the evaluation scores and costs them once; a mapping
of device id → DeviceRisk then holds the same object under each member's id.
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


@dataclass(eq=False)
class DeviceRisk:
    """One device (or a group of identical devices, ``members``) as the score and the planner see it.

    Compared and hashed by identity; do not change ``ctx``, ``scored`` or ``open`` once it was scored (the
    :class:`Scorer` remembers its score).
    """

    device_id: int
    ctx: DeviceContext
    scored: list[Scored] = field(default_factory=list)  # findings that count (state open or accepted)
    open: frozenset[str] = frozenset()  # fingerprints actions may target (state open)
    clinical: bool = False
    vendor: str = ""
    model: str = ""
    members: tuple[int, ...] = ()  # the devices it stands for; () means only ``device_id``

    @property
    def ids(self) -> tuple[int, ...]:
        """The ids of the devices this stands for."""
        return self.members or (self.device_id,)


class Scorer:
    """Scores devices (memoized on context and findings)."""

    def __init__(self, weights: RiskWeights, enrichment: Enrichment) -> None:
        self.weights = weights
        self.enrichment = enrichment
        self._memo: dict[tuple[object, ...], RiskAssessment] = {}
        self._scores: dict[DeviceRisk, float] = {}
        self._after: dict[tuple[DeviceRisk, Effect], float] = {}

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
        """The device's score as it is (remembered per DeviceRisk object)."""
        found = self._scores.get(device)
        if found is None:
            found = self._scores[device] = self._raw(device.ctx, device.scored).score
        return found

    def score_after(self, device: DeviceRisk, effect: Effect) -> float:
        """The device's score once ``effect`` is applied (remembered per DeviceRisk object and effect)."""
        key = (device, effect)
        found = self._after.get(key)
        if found is None:
            found = self._raw(*apply(device, effect)).score
            if len(self._after) < 500_000:
                self._after[key] = found
        return found


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

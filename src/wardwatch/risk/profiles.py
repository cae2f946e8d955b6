"""Devices grouped into risk profiles: devices whose score and whose response to every action are the same.

Two devices belong to one profile when they have the same findings (the same shared
:class:`~wardwatch.risk.findings.Scored` objects, in the same order), the same workflow state of each,
the same context (criticality and its source, PHI, internet exposure, controls), the same clinical flag
and the same vendor and model as written (actions are grouped and titled by them). Everything the score,
the candidate actions and the what-if compute from a device is a function of exactly these, so computing
it once per profile and counting it for every member is exact, not an approximation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from wardwatch.risk.findings import Scored
from wardwatch.risk.score import DeviceContext
from wardwatch.risk.store import SCORED_STATES, FindingState
from wardwatch.risk.whatif import DeviceRisk


def context_key(ctx: DeviceContext) -> tuple[object, ...]:
    """The context without the device id."""
    return ctx.criticality, ctx.criticality_source, ctx.handles_phi, ctx.internet_exposed, ctx.controls


@dataclass
class ProfileBuilder:
    """Collects devices (in id order) into shared :class:`DeviceRisk` profiles."""

    profiles: dict[tuple[object, ...], DeviceRisk] = field(default_factory=dict)
    _members: dict[DeviceRisk, list[int]] = field(default_factory=dict)
    by_device: dict[int, DeviceRisk] = field(default_factory=dict)
    _alive: list[object] = field(default_factory=list)  # the lists whose ids key the profiles

    def add(self, device_id: int, ctx: DeviceContext, scored: Sequence[Scored], *, clinical: bool, vendor: str,
            model: str, states: Mapping[str, FindingState] | None = None) -> DeviceRisk:
        """Put one device into its profile; ``states``: fingerprint → state where it is not the resting one
        (open for an active finding). ``scored`` must not change afterwards (it is shared)."""
        exceptions = tuple(sorted((fp, st.value) for fp, st in states.items())) if states else ()
        key = (id(scored), context_key(ctx), clinical, vendor, model, exceptions)
        profile = self.profiles.get(key)
        if profile is None:
            counted: list[Scored] = []
            open_fps: set[str] = set()
            for s in scored:
                if not s.active:
                    continue
                state = (states or {}).get(s.fingerprint, FindingState.OPEN)
                if state in SCORED_STATES:
                    counted.append(s)
                if state is FindingState.OPEN:
                    open_fps.add(s.fingerprint)
            profile = DeviceRisk(device_id, replace(ctx, device_id=device_id), counted, frozenset(open_fps),
                                 clinical=clinical, vendor=vendor, model=model)
            self.profiles[key] = profile
            self._members[profile] = []
            self._alive.append(scored)
        self._members[profile].append(device_id)
        self.by_device[device_id] = profile
        return profile

    def finish(self) -> dict[int, DeviceRisk]:
        """Device id → its profile (members filled in); every profile stands for its members."""
        for profile, members in self._members.items():
            profile.members = tuple(members) if len(members) > 1 else ()
        return self.by_device

"""What the identity resolver consumes and returns (shaped after pip-audit's ``interface.py``).

The resolver (:mod:`wardwatch.identify.resolver`) reads fingerprint-rule matches through
:class:`RuleEvaluator`, loads and stores device states through :class:`StateStore` (the inventory, or
:class:`~wardwatch.identify.state.MemoryStore`) and hands back a :class:`ResolveResult`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from wardwatch.identify.state import DeviceState


class RuleMatchLike(Protocol):
    """What the resolver reads of a fingerprint rule match."""

    @property
    def rule_id(self) -> str:
        """The rule's id (``<file stem>.<name>``)."""
        ...

    @property
    def attributes(self) -> Mapping[str, str]:
        """Attribute name → value the rule sets."""
        ...

    @property
    def confidence(self) -> float:
        """The rule's confidence (0–1)."""
        ...

    @property
    def matched(self) -> tuple[tuple[str, str], ...]:
        """The (kind, value) facts that fired the rule (its evidence)."""
        ...


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A fingerprint rule that fired: the attributes it sets and the (kind, value) facts that fired it."""

    rule_id: str
    attributes: Mapping[str, str]
    confidence: float
    matched: tuple[tuple[str, str], ...] = ()


class RuleEvaluator(Protocol):
    """Fingerprint rules (``identify/fingerprint.py``) over the facts of ONE device.

    ``facts`` maps kind → values, including the synthesised ``mac.vendor``.
    """

    def evaluate(self, facts: Mapping[str, Collection[str]]) -> Sequence[RuleMatchLike]:
        """The rules that fire on ``facts``, most confident first."""
        ...


class StateStore(Protocol):
    """Where device states live between batches."""

    def load_devices(self, keys: Collection[str]) -> dict[str, DeviceState]:
        """The stored states of the devices with these keys (absent keys are simply missing)."""
        ...

    def load_attributes(self, states: Collection[DeviceState]) -> None:
        """Fill in the stored attributes of ``states`` that were loaded without them."""
        ...

    def ip_owners(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, float]]:
        """Current MAC-keyed owner (key, last seen) of each known (sensor, ip)."""
        ...


@dataclass(slots=True)
class ResolveResult:
    """Device states to write back, keys merged away, and counters."""

    devices: list[DeviceState] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    observations: int = 0
    skipped: int = 0
    new_devices: int = 0
    updated_devices: int = 0
    merged_devices: int = 0
    facts_added: int = 0
    history_events: int = 0

"""Working state of devices while observations are folded in (mutable, never leaves identify/inventory).

A :class:`DeviceState` is what the resolver needs of one device: its distinct facts, its IPs, its current
attributes (the incumbents the no-flapping rule compares against) and the history it produced. The
inventory loads states in bulk, the resolver mutates them, the inventory writes back what is marked
dirty. :class:`MemoryStore` keeps states in a dict, for tests and for a database-less run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from wardwatch.domain.device import Attribute, Device, HistoryEvent


@dataclass(frozen=True, slots=True)
class Fact:
    """A distinct (kind, value) seen about a device: the stored Observations, re-readable by rules.

    ``count`` counts the observations that widened the fact's time span, so replaying the same
    observations never raises it (idempotent ingest).
    """

    kind: str
    value: str
    first_seen: float
    last_seen: float
    count: int
    sensor: str
    excerpt: str = ""
    confidence: float | None = None
    source: str = "packet"


@dataclass(slots=True)
class FactState:
    """Mutable :class:`Fact` with its row id and a dirty flag."""

    kind: str
    value: str
    first_seen: float
    last_seen: float
    count: int
    sensor: str
    excerpt: str
    confidence: float | None
    source: str
    id: int | None = None
    dirty: bool = True

    def see(self, ts: float, confidence: float | None) -> None:
        """Seen again at ``ts``: widen the span (counting only then), keep the highest confidence."""
        if ts > self.last_seen:
            self.last_seen = ts
            self.count += 1
            self.dirty = True
        elif ts < self.first_seen:
            self.first_seen = ts
            self.count += 1
            self.dirty = True
        if confidence is not None and (self.confidence is None or confidence > self.confidence):
            self.confidence = confidence
            self.dirty = True

    def freeze(self) -> Fact:
        """The immutable view."""
        return Fact(self.kind, self.value, self.first_seen, self.last_seen, self.count, self.sensor,
                    self.excerpt, self.confidence, self.source)


@dataclass(slots=True)
class IpState:
    """One address a device owns on one sensor's network."""

    sensor: str
    ip: str
    first_seen: float
    last_seen: float
    id: int | None = None
    dirty: bool = True


@dataclass(slots=True)
class DeviceState:
    """A device being resolved. ``absorbed`` lists row ids of IP-keyed devices merged into this one."""

    key: str
    mac: str | None
    sensor: str
    first_seen: float
    last_seen: float
    id: int | None = None
    facts: dict[tuple[str, str], FactState] = field(default_factory=dict)
    ips: dict[tuple[str, str], IpState] = field(default_factory=dict)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    removed_ip_ids: list[int] = field(default_factory=list)
    absorbed: list[int] = field(default_factory=list)
    changed_attributes: set[str] = field(default_factory=set)
    removed_attributes: set[str] = field(default_factory=set)
    dirty: bool = True
    facts_changed: bool = False
    attributes_loaded: bool = True  # a store may defer loading attributes until they are needed

    def see(self, ts: float) -> None:
        """Widen the device's first/last seen."""
        if ts > self.last_seen:
            self.last_seen = ts
            self.dirty = True
        if ts < self.first_seen:
            self.first_seen = ts
            self.dirty = True

    def mark_saved(self) -> None:
        """The state as a store holds it after writing it: nothing dirty, no pending history or changes."""
        self.dirty = self.facts_changed = False
        self.history.clear()
        self.changed_attributes.clear()
        self.removed_attributes.clear()
        self.absorbed.clear()
        self.removed_ip_ids.clear()
        for fact in self.facts.values():
            fact.dirty = False
        for ip in self.ips.values():
            ip.dirty = False

    def ip_list(self) -> tuple[str, ...]:
        """Addresses, most recently seen first."""
        ordered = sorted(self.ips.values(), key=lambda s: (-s.last_seen, s.ip))
        out: list[str] = []
        for state in ordered:
            if state.ip not in out:
                out.append(state.ip)
        return tuple(out)

    def to_device(self) -> Device:
        """The domain view."""
        return Device(key=self.key, mac=self.mac, ips=self.ip_list(), first_seen=self.first_seen,
                      last_seen=self.last_seen, attributes=dict(self.attributes), sensor=self.sensor,
                      id=self.id)


def own_ip(state: DeviceState, sensor: str, ip: str, first: float, last: float) -> None:
    """Give ``state`` the address (sensor, ip), widening its span; history when it is new."""
    pair = (sensor, ip)
    current = state.ips.get(pair)
    if current is not None:
        if last > current.last_seen:
            current.last_seen, current.dirty = last, True
        if first < current.first_seen:
            current.first_seen, current.dirty = first, True
        return
    same_family = [s for s in state.ips.values() if (":" in s.ip) == (":" in ip)]
    previous = max(same_family, key=lambda s: s.last_seen).ip if same_family else None
    state.ips[pair] = IpState(sensor, ip, first, last)
    state.dirty = True
    state.history.append(HistoryEvent(ts=first, kind="ip_changed" if previous else "ip_added",
                                      attribute="ip", old=previous, new=ip, evidence=f"sensor {sensor}"))


def absorb(target: DeviceState, source: DeviceState) -> None:
    """Move everything of the IP-keyed ``source`` into ``target``."""
    if source.id is not None:
        target.absorbed.append(source.id)
    target.absorbed.extend(source.absorbed)
    target.see(source.first_seen)
    target.see(source.last_seen)
    for fact_key, fact in source.facts.items():
        mine = target.facts.get(fact_key)
        if mine is None:
            fact.id, fact.dirty = None, True
            target.facts[fact_key] = fact
        else:
            mine.first_seen = min(mine.first_seen, fact.first_seen)
            mine.last_seen = max(mine.last_seen, fact.last_seen)
            mine.count += fact.count
            mine.dirty = True
    for pair, ip_state in source.ips.items():
        if pair not in target.ips:
            target.ips[pair] = IpState(ip_state.sensor, ip_state.ip, ip_state.first_seen, ip_state.last_seen)
    target.history.extend(source.history)
    target.facts_changed = True
    target.dirty = True


class MemoryStore:
    """An in-memory :class:`~wardwatch.identify.resolver.StateStore` (tests, database-less runs)."""

    def __init__(self) -> None:
        self.devices: dict[str, DeviceState] = {}
        self._next_id = 1

    def load_devices(self, keys: Collection[str]) -> dict[str, DeviceState]:
        """States of the known devices among ``keys``."""
        return {key: self.devices[key] for key in keys if key in self.devices}

    def load_attributes(self, states: Collection[DeviceState]) -> None:
        """Attributes are always in memory here."""

    def ip_owners(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, float]]:
        """Current MAC-keyed owner (key, last seen) of each (sensor, ip)."""
        wanted = set(pairs)
        out: dict[tuple[str, str], tuple[str, float]] = {}
        for state in self.devices.values():
            if state.mac is None:
                continue
            for pair, ip_state in state.ips.items():
                if pair in wanted and (pair not in out or ip_state.last_seen > out[pair][1]):
                    out[pair] = (state.key, ip_state.last_seen)
        return out

    def save(self, states: Collection[DeviceState], removed: Collection[str]) -> None:
        """Keep the resolved states (assigning ids) and forget merged-away keys."""
        for key in removed:
            self.devices.pop(key, None)
        for state in states:
            for old_key in [k for k, v in self.devices.items() if v is state and k != state.key]:
                del self.devices[old_key]
            if state.id is None:
                state.id = self._next_id
                self._next_id += 1
            self.devices[state.key] = state
            state.mark_saved()

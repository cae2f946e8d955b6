"""Baselines: the normal communication of each device and each device class, learned from flows.

For every flow inside the learning window, the originator gets an ``out`` entry and the responder an
``in`` entry keyed by (peer, protocol, responder port), with flow counts, per-flow byte range, the hours
of day (UTC) it happened and first/last seen. The same entries are rolled up per device class or model
(``class:<group>``, peers as classes too) so a new device of a known kind can be judged.

A baseline is *frozen* (learned once, changed only by a person's accept/reject) or *rolling* (later
flows are merged in and entries not seen within the window age out unless a person accepted them).
A person's decision is kept: rejected entries are never re-learned as normal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from wardwatch.domain.flow import PROTO_ICMP, PROTO_ICMPV6, PROTO_L2, FlowRecord
from wardwatch.errors import WardwatchError
from wardwatch.prevent.endpoints import DeviceDirectory, Peer, device_group

DAY = 86_400.0
EntryKey = tuple[str, str, str, str, int, int]  # scope, subject, direction, peer, proto, port


class EntryState(StrEnum):
    """A person's verdict on a learned entry."""

    LEARNED = "learned"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class BaselineMode(StrEnum):
    """Frozen after learning, or rolling with the window."""

    FROZEN = "frozen"
    ROLLING = "rolling"


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One learned communication pattern of a device (scope ``device``) or a class (scope ``class``)."""

    scope: str
    subject: str
    direction: str  # out: subject opened it; in: subject answered it
    peer: str
    peer_kind: str
    proto: int
    port: int
    flows: int
    bytes_min: int
    bytes_max: int
    bytes_total: int
    hours: int
    first_seen: float
    last_seen: float
    state: EntryState = EntryState.LEARNED
    decided_by: str | None = None
    decided_at: float | None = None
    id: int | None = None

    @property
    def key(self) -> EntryKey:
        """Identity inside a baseline."""
        return (self.scope, self.subject, self.direction, self.peer, self.proto, self.port)

    @property
    def normal(self) -> bool:
        """True unless a person rejected it."""
        return self.state != EntryState.REJECTED

    def merged(self, other: BaselineEntry) -> BaselineEntry:
        """This entry widened by ``other`` (same key); the person's decision stays."""
        return replace(self, flows=self.flows + other.flows, bytes_min=min(self.bytes_min, other.bytes_min),
                       bytes_max=max(self.bytes_max, other.bytes_max),
                       bytes_total=self.bytes_total + other.bytes_total, hours=self.hours | other.hours,
                       first_seen=min(self.first_seen, other.first_seen),
                       last_seen=max(self.last_seen, other.last_seen))


@dataclass
class Baseline:
    """The entries and how they were learned."""

    window_start: float
    window_end: float
    window_days: float
    mode: BaselineMode
    entries: dict[EntryKey, BaselineEntry] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    id: int | None = None

    def of(self, subject: str, direction: str | None = None, scope: str = "device") -> list[BaselineEntry]:
        """The entries of ``subject`` (optionally one direction)."""
        return [e for e in self.entries.values() if e.subject == subject and e.scope == scope
                and (direction is None or e.direction == direction)]

    def normal_entries(self, scope: str = "device") -> Iterator[BaselineEntry]:
        """Entries of ``scope`` that a person did not reject."""
        return (e for e in self.entries.values() if e.scope == scope and e.normal)

    def subjects(self, scope: str = "device") -> set[str]:
        """Every subject with at least one entry."""
        return {e.subject for e in self.entries.values() if e.scope == scope}


def service_port(flow: FlowRecord) -> int:
    """The responder's port for TCP/UDP; 0 for ICMP and other protocols (no ports)."""
    return 0 if flow.proto in (PROTO_ICMP, PROTO_ICMPV6) else flow.dst_port


def hours_mask(first: float, last: float) -> int:
    """Bit ``h`` set for every UTC hour of day touched between ``first`` and ``last``."""
    if last - first >= DAY:
        return (1 << 24) - 1
    mask = 0
    start = int(first // 3600)
    for hour in range(start, int(last // 3600) + 1):
        mask |= 1 << (hour % 24)
    return mask


def _entry(scope: str, subject: str, direction: str, peer: Peer, flow: FlowRecord) -> BaselineEntry:
    return BaselineEntry(scope=scope, subject=subject, direction=direction, peer=peer.label, peer_kind=peer.kind,
                         proto=flow.proto, port=service_port(flow), flows=1, bytes_min=flow.bytes,
                         bytes_max=flow.bytes, bytes_total=flow.bytes,
                         hours=hours_mask(flow.first_seen, flow.last_seen), first_seen=flow.first_seen,
                         last_seen=flow.last_seen)


def flow_entries(flow: FlowRecord, directory: DeviceDirectory) -> Iterator[BaselineEntry]:
    """The device and class entries one flow contributes (none for a refused TCP attempt: a port that
    answered only with resets carried no communication to allow, RFC 9293 §3.10.7.1)."""
    if flow.refused:
        return
    src = directory.peer(flow.src_ip, flow.src_mac)
    dst = directory.peer(flow.dst_ip, flow.dst_mac)
    for subject, other, direction in ((src, dst, "out"), (dst, src, "in")):
        if subject.device is None:
            continue
        yield _entry("device", subject.label, direction, other, flow)
        group_peer = Peer(f"class:{device_group(other.device)}", "class") if other.device else other
        yield _entry("class", f"class:{device_group(subject.device)}", direction, group_peer, flow)


def learn(flows: Iterable[FlowRecord], directory: DeviceDirectory, *, window_days: float = 14.0,
          mode: BaselineMode = BaselineMode.FROZEN, now: float | None = None,
          previous: Baseline | None = None) -> Baseline:
    """Learn a baseline from ``flows`` inside the window ending at ``now`` (default: the last flow seen).

    ``previous`` carries the persons' decisions over: an entry rejected before stays rejected.
    """
    usable = [f for f in flows if f.proto != PROTO_L2 and f.src_ip and f.dst_ip]
    end = now if now is not None else max((f.last_seen for f in usable), default=time.time())
    start = end - window_days * DAY
    baseline = Baseline(window_start=start, window_end=end, window_days=window_days, mode=mode)
    _merge(baseline, (f for f in usable if f.last_seen >= start and f.first_seen <= end), directory)
    if previous is not None:
        for key, old in previous.entries.items():
            if old.state != EntryState.LEARNED:
                current = baseline.entries.get(key)
                baseline.entries[key] = replace(current, state=old.state, decided_by=old.decided_by,
                                                decided_at=old.decided_at) if current else replace(old, id=None)
    return baseline


def update(baseline: Baseline, flows: Iterable[FlowRecord], directory: DeviceDirectory, *,
           now: float | None = None) -> Baseline:
    """Roll a *rolling* baseline forward: merge ``flows``, age out unaccepted entries older than the window."""
    if baseline.mode != BaselineMode.ROLLING:
        raise WardwatchError("the baseline is frozen: learn a new one, or accept/reject entries")
    usable = [f for f in flows if f.proto != PROTO_L2 and f.src_ip and f.dst_ip]
    end = max([baseline.window_end, *(f.last_seen for f in usable)]) if now is None else now
    baseline.window_end = end
    baseline.window_start = end - baseline.window_days * DAY
    _merge(baseline, usable, directory)
    baseline.entries = {k: e for k, e in baseline.entries.items()
                        if e.last_seen >= baseline.window_start or e.state != EntryState.LEARNED}
    baseline.updated_at = time.time()
    return baseline


def _merge(baseline: Baseline, flows: Iterable[FlowRecord], directory: DeviceDirectory) -> None:
    entries = baseline.entries
    for flow in flows:
        for entry in flow_entries(flow, directory):
            current = entries.get(entry.key)
            entries[entry.key] = current.merged(entry) if current else entry


#: Identities learned beside the flows: the AE titles and HL7 sending applications seen in the window.
IDENTITY_KINDS = ("dicom.calling_ae", "dicom.called_ae", "hl7.sending_application")


def add_identities(baseline: Baseline, items: Iterable[tuple[str, str, str, float, float]]) -> Baseline:
    """Add (device key, kind, value, first seen, last seen) facts as ``fact``-scope entries.

    Facts last seen before the window start are left out; a person can accept or reject them like
    any learned entry (a rejected AE title is treated as unknown by detection).
    """
    for subject, kind, value, first, last in items:
        if kind not in IDENTITY_KINDS or last < baseline.window_start:
            continue
        entry = BaselineEntry(scope="fact", subject=subject, direction="out", peer=f"{kind}={value}"[:200],
                              peer_kind=kind, proto=0, port=0, flows=1, bytes_min=0, bytes_max=0, bytes_total=0,
                              hours=hours_mask(first, min(last, first + DAY)), first_seen=first, last_seen=last)
        current = baseline.entries.get(entry.key)
        baseline.entries[entry.key] = current.merged(entry) if current else entry
    return baseline


def known_values(baseline: Baseline, kind: str) -> set[str]:
    """Values of identity ``kind`` the baseline holds as normal (for any device)."""
    prefix = f"{kind}="
    return {e.peer[len(prefix):] for e in baseline.entries.values()
            if e.scope == "fact" and e.peer_kind == kind and e.normal}

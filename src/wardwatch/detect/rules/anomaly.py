"""Anomalies against the baseline: new peer, new external destination, new protocol/port, volume out of
range, traffic at unusual hours. Only devices the baseline knows are judged (a device without entries
has no "normal" yet); entries a person rejected count as not normal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, describe, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import PROTO_L2, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.prevent.baseline import BaselineEntry, hours_mask, service_port
from wardwatch.prevent.endpoints import Peer


def _outbound(flows: Sequence[FlowRecord], ctx: DetectionContext
              ) -> Iterator[tuple[FlowRecord, str, Peer, list[BaselineEntry]]]:
    """(flow, subject key, peer, the subject's normal outbound entries) for flows from baselined devices."""
    if ctx.baseline is None:
        return
    cache: dict[str, list[BaselineEntry]] = {}
    for flow in flows:
        if flow.proto == PROTO_L2 or not flow.src_ip or not flow.dst_ip:
            continue
        subject = ctx.directory.device_for(flow.src_ip, flow.src_mac)
        if subject is None:
            continue
        if subject.key not in cache:
            cache[subject.key] = [e for e in ctx.baseline.of(subject.key) if e.normal]
        entries = cache[subject.key]
        if not entries:
            continue
        yield flow, subject.key, ctx.directory.peer(flow.dst_ip, flow.dst_mac), entries


@register
class NewPeer(DetectionRule):
    """A device opens a connection to an internal peer it never talked to."""

    id = "new_peer"
    severity = Severity.MEDIUM
    description = "a device talks to an internal peer outside its baseline"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, peer)."""
        for flow, key, peer, entries in _outbound(flows, ctx):
            if peer.kind == "external" or any(e.peer == peer.label for e in entries):
                continue
            yield self.alert(ctx, title=f"new peer: {key} → {peer.label}", devices=(key, peer.label),
                             evidence=(describe(flow),), key=f"{key}>{peer.label}", ts=flow.first_seen)


@register
class NewExternalDestination(DetectionRule):
    """A device opens a connection to an Internet address it never used."""

    id = "new_external_destination"
    severity = Severity.HIGH
    description = "a device talks to a new Internet destination"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, external address)."""
        for flow, key, peer, entries in _outbound(flows, ctx):
            if peer.kind != "external" or any(e.peer == peer.label for e in entries):
                continue
            yield self.alert(ctx, title=f"new external destination: {key} → {flow.dst_ip}", devices=(key,),
                             evidence=(describe(flow),), key=f"{key}>{flow.dst_ip}", ts=flow.first_seen)


@register
class NewService(DetectionRule):
    """A device uses a protocol/port it never used (towards anyone)."""

    id = "new_protocol_port"
    severity = Severity.MEDIUM
    description = "a device uses a new protocol or port"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, protocol, port)."""
        for flow, key, _peer, entries in _outbound(flows, ctx):
            port = service_port(flow)
            if any(e.direction == "out" and e.proto == flow.proto and e.port == port for e in entries):
                continue
            yield self.alert(ctx, title=f"new protocol/port: {key} uses {flow.proto}/{port}", devices=(key,),
                             evidence=(describe(flow),), key=f"{key}:{flow.proto}/{port}", ts=flow.first_seen)


@register
class VolumeOutOfRange(DetectionRule):
    """A known flow pattern carries far more bytes than ever before (exfiltration, misuse)."""

    id = "volume_out_of_range"
    severity = Severity.MEDIUM
    description = "a flow much larger than the baseline's largest of its kind"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, peer, protocol, port)."""
        limits = ctx.thresholds
        for flow, key, peer, entries in _outbound(flows, ctx):
            port = service_port(flow)
            same = [e for e in entries if e.direction == "out" and e.peer == peer.label and e.proto == flow.proto
                    and e.port == port]
            if not same:
                continue
            ceiling = max(e.bytes_max for e in same) * limits.volume_factor
            if flow.bytes > ceiling and flow.bytes >= limits.volume_min_bytes:
                largest = max(e.bytes_max for e in same)
                yield self.alert(ctx, title=f"volume out of range: {key} → {peer.label} {flow.bytes} B",
                                 devices=(key,), evidence=(describe(flow), f"baseline maximum {largest} B"),
                                 key=f"{key}>{peer.label}:{flow.proto}/{port}", ts=flow.first_seen,
                                 bytes=flow.bytes)


@register
class UnusualHours(DetectionRule):
    """A device is active at an hour of day (UTC) when it never was during learning."""

    id = "unusual_hours"
    severity = Severity.LOW
    description = "traffic at an hour of day outside the baseline"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, hour)."""
        for flow, key, _peer, entries in _outbound(flows, ctx):
            usual = 0
            for e in entries:
                usual |= e.hours
            seen = hours_mask(flow.first_seen, flow.last_seen)
            odd = seen & ~usual
            if not odd or usual == (1 << 24) - 1:
                continue
            hour = (odd & -odd).bit_length() - 1
            yield self.alert(ctx, title=f"unusual hours: {key} active at {hour:02d}:00 UTC", devices=(key,),
                             evidence=(describe(flow),), key=f"{key}@{hour}", ts=flow.first_seen, hour=hour)

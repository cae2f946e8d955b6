"""Port and host scans: one source probing many ports of one host, or one port on many hosts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import PROTO_TCP, PROTO_UDP, FlowRecord
from wardwatch.domain.observation import Observation


@register
class Scan(DetectionRule):
    """Many distinct ports (port scan) or hosts (host sweep) from one source in one batch."""

    id = "scan"
    severity = Severity.HIGH
    description = "port scan or host sweep"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per scanning source and kind."""
        ports: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
        hosts: dict[tuple[str, int, int], set[str]] = defaultdict(set)
        first: dict[str, float] = {}
        for flow in flows:
            if flow.proto not in (PROTO_TCP, PROTO_UDP) or not flow.src_ip:
                continue
            ports[(flow.src_ip, flow.dst_ip)].add((flow.proto, flow.dst_port))
            hosts[(flow.src_ip, flow.proto, flow.dst_port)].add(flow.dst_ip)
            first[flow.src_ip] = min(first.get(flow.src_ip, flow.first_seen), flow.first_seen)
        limits = ctx.thresholds
        for (src, dst), seen in ports.items():
            if len(seen) >= limits.scan_ports:
                sample = ", ".join(f"{p}" for _, p in sorted(seen)[:10])
                yield self.alert(ctx, title=f"port scan: {src} probed {len(seen)} ports on {dst}",
                                 devices=(ctx.name_of(src), ctx.name_of(dst)),
                                 evidence=(f"{len(seen)} distinct ports, e.g. {sample}",),
                                 key=f"ports:{src}>{dst}", ts=first[src], ports=len(seen))
        for (src, proto, port), targets in hosts.items():
            if len(targets) >= limits.scan_hosts:
                yield self.alert(ctx, title=f"host sweep: {src} probed {len(targets)} hosts on {proto}/{port}",
                                 devices=(ctx.name_of(src),),
                                 evidence=(f"{len(targets)} hosts, e.g. {', '.join(sorted(targets)[:8])}",),
                                 key=f"hosts:{src}:{proto}/{port}", ts=first[src], hosts=len(targets))

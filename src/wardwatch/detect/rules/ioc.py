"""Indicator matches: flows to or from listed addresses; DNS queries, TLS SNI and HTTP Host names under
listed domains; JA3/JA4 client fingerprints and server certificate SHA-256 hashes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, describe, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation

NAME_KINDS = ("dns.query", "tls.sni", "http.host")
HASH_KINDS = {"tls.ja3": "ja3", "tls.ja4": "ja4", "tls.cert_sha256": "cert_sha256"}


@register
class IocMatch(DetectionRule):
    """Traffic that matches an indicator of compromise."""

    id = "ioc_match"
    severity = Severity.CRITICAL
    description = "traffic matching a threat indicator"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, indicator)."""
        iocs = ctx.indicators
        if not len(iocs):
            return
        for flow in flows:
            for ip, other, other_mac in ((flow.dst_ip, flow.src_ip, flow.src_mac),
                                         (flow.src_ip, flow.dst_ip, flow.dst_mac)):
                hit = iocs.match_ip(ip) if ip else None
                if hit is None:
                    continue
                device = ctx.name_of(other, other_mac)
                yield self.alert(ctx, title=f"indicator match: {device} ↔ {ip}", devices=(device,),
                                 evidence=(describe(flow),
                                           f"indicator ip {hit.value} ({hit.source}) {hit.description}"),
                                 key=f"{device}:ip:{hit.value}", ts=flow.first_seen, indicator=hit.value)
        for obs in observations:
            found = None
            if obs.kind in NAME_KINDS:
                found = iocs.match_domain(obs.value)
            elif obs.kind in HASH_KINDS:
                found = iocs.match_hash(HASH_KINDS[obs.kind], obs.value)
            if found is None:
                continue
            device = ctx.name_of(obs.ip, obs.mac)
            yield self.alert(ctx, title=f"indicator match: {device} {obs.kind} {obs.value}", devices=(device,),
                             evidence=(f"{obs.kind}={obs.value}", f"indicator {found.kind} {found.value} "
                                       f"({found.source}) {found.description}"),
                             key=f"{device}:{found.kind}:{found.value}", ts=obs.ts, count=obs.count,
                             indicator=found.value)

"""Policy violations: a flow the active segmentation policy would not allow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, describe, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import PROTO_L2, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.prevent.baseline import service_port


@register
class PolicyViolation(DetectionRule):
    """A flow outside every rule of the policy (default deny)."""

    id = "policy_violation"
    severity = Severity.HIGH
    description = "traffic the segmentation policy does not allow"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (source, destination, protocol, port)."""
        matcher = ctx.matcher
        if matcher is None:
            return
        for flow in flows:
            if flow.proto == PROTO_L2 or not flow.src_ip or matcher.allows(flow) is not None:
                continue
            port = service_port(flow)
            src, dst = ctx.name_of(flow.src_ip, flow.src_mac), ctx.name_of(flow.dst_ip, flow.dst_mac)
            yield self.alert(ctx, title=f"policy violation: {flow.src_ip} → {flow.dst_ip} proto {flow.proto}/{port}",
                             devices=(src, dst), evidence=(describe(flow),),
                             key=f"{flow.src_ip}>{flow.dst_ip}:{flow.proto}/{port}", ts=flow.first_seen,
                             policy=ctx.policy.name if ctx.policy else "")

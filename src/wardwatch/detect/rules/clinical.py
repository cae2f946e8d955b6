"""Clinical protocol identities outside the baseline: DICOM associations from unknown calling AE titles
(PS3.8 §9.3.2 A-ASSOCIATE-RQ), HL7 messages from unknown sending applications (MSH-3)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.prevent.baseline import known_values


class _UnknownIdentity(DetectionRule):
    kind = ""
    label = ""

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per unknown value (and sending device)."""
        if ctx.baseline is None:
            return
        known = known_values(ctx.baseline, self.kind)
        for obs in observations:
            if obs.kind != self.kind or obs.value in known:
                continue
            device = ctx.name_of(obs.ip, obs.mac)
            peer = ctx.name_of(obs.peer_ip) if obs.peer_ip else None
            yield self.alert(ctx, title=f"{self.label} {obs.value!r} from {device}",
                             devices=(device, *([peer] if peer else [])),
                             evidence=(obs.excerpt or f"{obs.kind}={obs.value}",
                                       f"known: {', '.join(sorted(known)[:10]) or 'none'}"),
                             key=f"{device}:{obs.value}", ts=obs.ts, count=obs.count, value=obs.value)


@register
class UnknownAeTitle(_UnknownIdentity):
    """A DICOM association from a calling AE title the baseline does not know."""

    id = "dicom_unknown_ae"
    severity = Severity.HIGH
    description = "DICOM association from an unknown calling AE title"
    kind = "dicom.calling_ae"
    label = "DICOM association from unknown AE title"


@register
class UnknownHl7Sender(_UnknownIdentity):
    """An HL7 message from a sending application the baseline does not know."""

    id = "hl7_unknown_sender"
    severity = Severity.MEDIUM
    description = "HL7 message from an unknown sending application"
    kind = "hl7.sending_application"
    label = "HL7 from unknown sending application"

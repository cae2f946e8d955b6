"""Cleartext credentials: Telnet sessions, FTP PASS in clear, HTTP Basic auth, SNMP v1/v2c communities.

The dissectors report the fact, never the secret (``ftp.cleartext_password`` = ``true``, the SNMP
community masked); the alert names the device that sent the credential and the protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wardwatch.detect.interface import DetectionContext, DetectionRule, register
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation

KINDS = {
    "telnet.seen": "Telnet session (RFC 854: everything, passwords included, in clear)",
    "ftp.cleartext_password": "FTP password sent in clear (RFC 959 PASS)",
    "http.basic_auth": "HTTP Basic credentials (RFC 7617: base64, not encrypted)",
    "snmp.community": "SNMP v1/v2c community string in clear (RFC 3584)",
}


@register
class CleartextCredentials(DetectionRule):
    """Credentials or credential-bearing sessions in clear text."""

    id = "cleartext_credentials"
    severity = Severity.HIGH
    description = "passwords or community strings sent without encryption"

    def evaluate(self, flows: Sequence[FlowRecord], observations: Sequence[Observation],
                 ctx: DetectionContext) -> Iterable[Alert]:
        """One alert per (device, kind)."""
        for obs in observations:
            what = KINDS.get(obs.kind)
            if what is None:
                continue
            device = ctx.name_of(obs.ip, obs.mac)
            peer = ctx.name_of(obs.peer_ip) if obs.peer_ip else None
            protocol = obs.kind.split(".")[0]
            yield self.alert(ctx, title=f"cleartext credentials: {protocol} by {device}",
                             devices=(device, *([peer] if peer else [])),
                             evidence=(what, f"{obs.kind} seen {obs.excerpt}".strip()[:200]),
                             key=f"{device}:{obs.kind}", ts=obs.ts, count=obs.count, protocol=protocol)

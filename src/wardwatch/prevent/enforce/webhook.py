"""A generic webhook for NAC and firewall managers: quarantine, release, policy apply.

Each request is a JSON body signed with HMAC-SHA256 (RFC 2104) over ``<timestamp>.<body>`` with a shared
secret; the receiver recomputes it from ``X-Wardwatch-Timestamp`` and the raw body and compares in
constant time, and refuses stale timestamps (replay). Dry-run (the default) returns the request that
would be sent without sending it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from wardwatch.domain.policy import Policy
from wardwatch.prevent.enforce.interface import ApplyResult, EnforcementError, require_approver

SIGNATURE_HEADER = "X-Wardwatch-Signature"
TIMESTAMP_HEADER = "X-Wardwatch-Timestamp"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, header: str, *, max_age: float = 300.0,
           now: float | None = None) -> bool:
    """Receiver side: the signature matches and the timestamp is fresh."""
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request ready to send."""

    url: str
    body: bytes
    headers: dict[str, str]


class WebhookEnforcer:
    """Enforcement point ``webhook``."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0) -> None:
        if not secret:
            raise EnforcementError("the webhook needs a shared secret")
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def request(self, event: str, data: dict[str, Any], approver: str) -> SignedRequest:
        """The signed request for ``event``."""
        stamp = f"{time.time():.3f}"
        body = json.dumps({"event": event, "approver": approver, "ts": float(stamp), **data},
                          sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: signature(self.secret, stamp, body)}
        return SignedRequest(self.url, body, headers)

    def _send(self, req: SignedRequest) -> None:
        try:
            response = httpx.post(req.url, content=req.body, headers=req.headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise EnforcementError(f"webhook {req.url} unreachable: {exc.__class__.__name__}") from None
        if response.status_code >= 300:
            raise EnforcementError(f"webhook {req.url} answered HTTP {response.status_code}")

    def _do(self, event: str, data: dict[str, Any], approver: str, dry_run: bool) -> ApplyResult:
        who = require_approver(approver)
        req = self.request(event, data, who)
        if not dry_run:
            self._send(req)
        return ApplyResult(self.name, dry_run, who, req.body.decode())

    def quarantine(self, device: str, ips: tuple[str, ...], *, approver: str, reason: str,
                   mac: str | None = None, dry_run: bool = True) -> ApplyResult:
        """Ask the NAC to quarantine a device."""
        return self._do("quarantine", {"device": device, "ips": list(ips), "mac": mac, "reason": reason}, approver,
                        dry_run)

    def release(self, device: str, ips: tuple[str, ...], *, approver: str, reason: str = "",
                mac: str | None = None, dry_run: bool = True) -> ApplyResult:
        """Ask the NAC to release a quarantined device."""
        return self._do("release", {"device": device, "ips": list(ips), "mac": mac, "reason": reason}, approver,
                        dry_run)

    def apply(self, policy: Policy, *, approver: str, dry_run: bool = True) -> ApplyResult:
        """Hand the whole policy to the manager."""
        return self._do("policy.apply", {"policy": policy.to_dict()}, approver, dry_run)

    def rollback(self, *, approver: str) -> ApplyResult:
        """Ask the manager to restore its previous policy."""
        return self._do("policy.rollback", {}, approver, False)

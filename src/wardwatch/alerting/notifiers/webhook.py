"""JSON webhook: the alert as JSON, signed with HMAC-SHA256 (RFC 2104) over ``<timestamp>.<body>``.

Headers: ``X-Wardwatch-Timestamp`` (seconds) and ``X-Wardwatch-Signature: sha256=<hex>``. The receiver
recomputes the signature over the raw body and compares in constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from wardwatch.alerting.notifiers.interface import NotifyError
from wardwatch.domain.alert import Alert

SIGNATURE_HEADER = "X-Wardwatch-Signature"
TIMESTAMP_HEADER = "X-Wardwatch-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """Notifier ``webhook``."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0) -> None:
        if not secret:
            raise ValueError("a webhook needs a signing secret")
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, alert: Alert) -> None:
        """POST the alert."""
        body = json.dumps({"event": "alert", "alert": alert.to_dict()}, sort_keys=True, default=str).encode()
        stamp = f"{time.time():.3f}"
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                   SIGNATURE_HEADER: sign(self.secret, stamp, body)}
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise NotifyError(f"webhook {self.url}: {exc.__class__.__name__}") from None
        if response.status_code >= 300:
            raise NotifyError(f"webhook {self.url}: HTTP {response.status_code}")

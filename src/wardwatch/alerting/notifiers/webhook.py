"""JSON webhook: the alert as JSON, signed with HMAC-SHA256 (RFC 2104) over ``<timestamp>.<body>``.

Headers: ``X-Wardwatch-Timestamp`` (seconds) and ``X-Wardwatch-Signature: sha256=<hex>``. The receiver
recomputes the signature over the raw body and compares in constant time (``hmac.compare_digest``).
Without a secret (a receiver authenticating otherwise, e.g. by mutual TLS) no signature header is sent.
Errors name the URL without user info or query string, which may hold credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

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

    def __init__(self, url: str, secret: bytes | None, *, timeout: float = 10.0) -> None:
        if secret is not None and not secret:
            raise ValueError("an empty signing secret signs nothing: give a secret or None")
        self.url, self.secret, self.timeout = url, secret, timeout
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        self.shown = f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"

    def send(self, alert: Alert) -> None:
        """POST the alert."""
        body = json.dumps({"event": "alert", "alert": alert.to_dict()}, sort_keys=True, default=str).encode()
        stamp = f"{time.time():.3f}"
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.secret, stamp, body)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise NotifyError(f"webhook {self.shown}: {exc.__class__.__name__}") from None
        if response.status_code >= 300:
            raise NotifyError(f"webhook {self.shown}: HTTP {response.status_code}")

"""Email delivery over SMTP (RFC 5321), optionally with STARTTLS (RFC 3207) and AUTH (RFC 4954).

One message per alert: the subject carries severity and title, the text body the devices, the evidence
and the capture reference (never a payload), plus the alert as JSON for machines.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from wardwatch.alerting.notifiers.interface import NotifyError
from wardwatch.domain.alert import Alert


def message(alert: Alert, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The email of one alert."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"[wardwatch {alert.severity.name}] {alert.title}"[:200]
    lines = [f"Rule: {alert.rule}", f"Severity: {alert.severity.name}", f"Devices: {', '.join(alert.devices)}",
             "Evidence:", *[f"  - {e}" for e in alert.evidence]]
    if alert.capture_ref:
        lines.append(f"Capture: {alert.capture_ref}")
    lines += ["", json.dumps(alert.to_dict(), sort_keys=True, default=str)]
    msg.set_content("\n".join(lines))
    return msg


class EmailNotifier:
    """Notifier ``email``."""

    name = "email"

    def __init__(self, host: str, port: int = 25, *, sender: str, recipients: Sequence[str], starttls: bool = False,
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 timeout: float = 10.0) -> None:
        if not recipients:
            raise ValueError("email delivery needs at least one recipient")
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self.starttls, self.username, self.password = starttls, username, password
        self.ca_file, self.timeout = ca_file, timeout

    def send(self, alert: Alert) -> None:
        """Send one message."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message(alert, self.sender, self.recipients))
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"smtp {self.host}:{self.port}: {exc}") from None

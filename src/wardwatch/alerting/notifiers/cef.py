"""ArcSight Common Event Format (CEF:0) inside an RFC 5424 syslog message.

CEF (Micro Focus "Implementing ArcSight CEF", rev. 25): ``CEF:Version|Device Vendor|Device Product|
Device Version|Device Event Class ID|Name|Severity|Extension``. In the header, ``\\`` and ``|`` are
escaped with a backslash; in extension values ``\\`` and ``=`` are escaped and line breaks become ``\\n``
/ ``\\r``. Keys used: ``rt`` (ms since epoch), ``msg``, ``cnt``, ``externalId``, ``src``/``dst`` where an
address is known, and custom strings ``cs1`` (devices), ``cs2`` (dedup key), ``cs3`` (evidence),
``cs4`` (capture reference) with their labels.

RFC 5424 §6: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG``; PRI = facility × 8
+ severity (§6.2.1); the nil value ``-`` for absent fields; header fields are printable US-ASCII.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from wardwatch import __version__
from wardwatch.domain.alert import Alert, Severity

FACILITY_LOCAL0 = 16
#: Alert severity → syslog severity (RFC 5424 Table 2).
SYSLOG_SEVERITY = {Severity.CRITICAL: 2, Severity.HIGH: 3, Severity.MEDIUM: 4, Severity.LOW: 5, Severity.INFO: 6}


def escape_header(text: str) -> str:
    """CEF header field: backslash and pipe escaped; line breaks not allowed (become spaces)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def escape_value(text: str) -> str:
    """CEF extension value: backslash and equals escaped, CR/LF as ``\\r``/``\\n``."""
    return (text.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n"))


def cef(alert: Alert) -> str:
    """The CEF:0 record of an alert."""
    ips = [d.split("/", 1)[1] for d in alert.devices if d.startswith("ip:") and "/" in d]
    ext: list[tuple[str, str]] = [("rt", str(int(alert.ts * 1000))), ("msg", alert.title), ("cnt", str(alert.count))]
    if alert.id is not None:
        ext.append(("externalId", str(alert.id)))
    if ips:
        ext.append(("src", ips[0]))
    if len(ips) > 1:
        ext.append(("dst", ips[1]))
    ext += [("cs1Label", "devices"), ("cs1", ",".join(alert.devices)), ("cs2Label", "dedupKey"),
            ("cs2", alert.dedup_key), ("cs3Label", "evidence"), ("cs3", " | ".join(alert.evidence))]
    if alert.capture_ref:
        ext += [("cs4Label", "capture"), ("cs4", alert.capture_ref)]
    header = "|".join(escape_header(x) for x in ("wardwatch", "wardwatch", __version__, alert.rule, alert.title))
    return f"CEF:0|{header}|{alert.severity.cef()}|" + " ".join(f"{k}={escape_value(v)}" for k, v in ext)


def _field(text: str, limit: int) -> str:
    clean = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def rfc5424(alert: Alert, *, facility: int = FACILITY_LOCAL0, hostname: str | None = None,
            app: str = "wardwatch") -> str:
    """The whole syslog message (no framing): header, no structured data, the CEF record as MSG."""
    pri = facility * 8 + SYSLOG_SEVERITY.get(alert.severity, 5)
    stamp = datetime.fromtimestamp(alert.ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    host = _field(hostname or socket.gethostname(), 255)
    return f"<{pri}>1 {stamp} {host} {_field(app, 48)} - {_field(alert.rule, 32)} - {cef(alert)}"

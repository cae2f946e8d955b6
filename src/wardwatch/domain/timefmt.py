"""Times as fact values: one text form wherever an Observation's value is a moment.

RFC 3339 §5.6 ``date-time`` in UTC with whole seconds and a ``Z`` (``2031-01-01T00:00:00Z``), so that a
certificate's validity reads the same whether it came from a packet (``dissect.tls``) or a log
(``logs``, Zeek's x509.log).
"""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(moment: datetime | float) -> str:
    """``moment`` (an aware datetime, or seconds since the epoch) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime(_FORMAT)
    return datetime.fromtimestamp(moment, tz=UTC).strftime(_FORMAT)

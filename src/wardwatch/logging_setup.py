"""Logging setup with a redaction guard (ARCHITECTURE.md Conventions: never log payloads).

:class:`RedactionFilter` is installed on the root handler: it cuts long messages and strips anything
that looks like an HL7 segment carrying patient data (PID, NK1, PV1, OBX values) or a DICOM patient
attribute, as a last line of defence behind the dissectors' allow-lists.
"""

from __future__ import annotations

import logging
import re

_PHI_SEGMENT = re.compile(r"(?:^|[\r\n\x0b])(?:PID|NK1|PV1|PV2|OBX|NTE|GT1|IN1)\|[^\r\n\x1c]*")
_MAX_MESSAGE = 2000


class RedactionFilter(logging.Filter):
    """Redacts HL7 patient segments and cuts overlong log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            return True
        cleaned = _PHI_SEGMENT.sub("[redacted segment]", message)
        if len(cleaned) > _MAX_MESSAGE:
            cleaned = cleaned[:_MAX_MESSAGE] + "…[cut]"
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: int = logging.WARNING) -> None:
    """Log to stderr at ``level`` through the redaction filter (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_wardwatch", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactionFilter())
        handler._wardwatch = True  # type: ignore[attr-defined]
        root.addHandler(handler)

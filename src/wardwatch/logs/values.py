"""Field values of untrusted log records (Zeek, Suricata EVE), read without ever raising.

A record is JSON or TSV written by another program, possibly truncated or hand-edited: every field may be
missing, empty, of the wrong type or absurdly long. These helpers turn a raw field into text, a MAC, an
integer or an object, with ``None`` / ``0`` / ``{}`` for anything unusable.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from wardwatch.domain.observation import MAX_VALUE, clip


def text(value: Any, unset: Container[str] = ("",)) -> str | None:
    """``value`` as clipped text (lists comma-joined); ``None`` when missing or one of ``unset``."""
    if value is None or (isinstance(value, str) and value in unset):
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or None
    return clip(str(value), MAX_VALUE)


def mac(value: Any) -> str | None:
    """A MAC address field in lower case (``aa:bb:cc:dd:ee:ff``); ``None`` unless 17 characters long."""
    found = text(value)
    return found.lower() if found and len(found) == 17 else None


def integer(value: Any) -> int:
    """An integer field (``"12"``, ``12``, ``"12.0"``); 0 when missing or not a number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        pass
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def obj(value: Any) -> dict[str, Any]:
    """An object field; ``{}`` when missing or not an object."""
    return value if isinstance(value, dict) else {}

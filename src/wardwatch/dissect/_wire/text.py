"""Safe text from untrusted bytes: UTF-8 with replacement, control characters removed, length bounded."""

from __future__ import annotations

import ipaddress
import re

from wardwatch.domain.observation import MAX_VALUE

# C0 controls, DEL and C1 controls (U+0080..U+009F): never kept in a value or an excerpt.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def safe_text(raw: bytes, limit: int = MAX_VALUE) -> str:
    """Decode ``raw`` as UTF-8 (bad bytes become U+FFFD), drop control characters, trim blanks.

    At most ``4 * limit`` bytes are decoded, so a hostile megabyte string costs nothing; the result is
    cut to ``limit`` characters (the Observation clips again, with an ellipsis, when longer).
    """
    text = raw[: 4 * limit].decode("utf-8", errors="replace")
    return _CONTROL.sub("", text).strip()[:limit]


def clean(text: str, limit: int = MAX_VALUE, strip: bool = True) -> str:
    """Drop control characters from an already decoded string and (unless ``strip`` is false) trim it."""
    text = _CONTROL.sub("", text[: 4 * limit])
    return (text.strip() if strip else text)[:limit]


def hex_bytes(raw: bytes, sep: str = ":", limit: int = 64) -> str:
    """Lower-case hex of at most ``limit`` bytes, ``sep``-separated (``01:00:1b:63``)."""
    return sep.join(f"{b:02x}" for b in raw[:limit])


def mac_text(raw: bytes) -> str:
    """A 6-byte MAC as ``00:1b:63:84:45:e6``."""
    return hex_bytes(raw[:6])


def ipv4_text(raw: bytes) -> str:
    """Four bytes as a dotted quad."""
    return str(ipaddress.IPv4Address(raw[:4]))


def ipv6_text(raw: bytes) -> str:
    """Sixteen bytes as a compressed IPv6 address."""
    return str(ipaddress.IPv6Address(raw[:16]))

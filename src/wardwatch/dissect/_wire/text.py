"""Safe text from untrusted bytes: decoded with replacement, control characters removed, length bounded.

Every string a peer sends is hostile until cleaned: decoding never raises (bad bytes become U+FFFD),
control characters are removed (a value must not break a log line or a terminal), and only a bounded
slice of the input is ever decoded. Two flavours: :func:`safe_text` / :func:`clean` drop every control
character and keep inner spacing; :func:`collapse` (identity and clinical dissectors) turns tabs and line
breaks into spaces and collapses runs of white space.
"""

from __future__ import annotations

import ipaddress
import re

from wardwatch.domain.observation import MAX_VALUE

# C0 controls, DEL and C1 controls (U+0080..U+009F): never kept in a value or an excerpt.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: The same but tab and LF, which :func:`collapse` turns into spaces (CR goes with CRLF, or alone).
_CONTROL_BUT_SPACE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\n\r ]+")
#: Longest raw slice :func:`collapse` decodes for one value (values are clipped to 512 characters later).
MAX_RAW = 4096


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


def collapse(raw: bytes | bytearray | memoryview | str, *, encoding: str = "utf-8") -> str:
    """Decode ``raw`` safely (at most :data:`MAX_RAW`), drop control characters, collapse white space."""
    if isinstance(raw, str):
        text = raw if type(raw) is str and len(raw) <= MAX_RAW else raw[:MAX_RAW]
    elif type(raw) is bytes and len(raw) <= MAX_RAW:  # the whole of it, without a copy
        text = raw.decode(encoding, "replace")
    else:
        text = bytes(raw[:MAX_RAW]).decode(encoding, "replace")
    if text.isprintable() and "  " not in text:
        # Fast path, same result: printable text holds no control character (C0, DEL and C1 are
        # category Cc) nor tab/CR/LF, so with no run of two spaces both substitutions are identities.
        return text.strip()
    return _SPACE.sub(" ", _CONTROL_BUT_SPACE.sub("", text.replace("\r\n", " "))).strip()


def collapse_keep_runs(raw: bytes | bytearray | memoryview) -> str:
    """Like :func:`collapse` but keeps inner runs of spaces (for values compared verbatim to tshark)."""
    if type(raw) is bytes and len(raw) <= MAX_RAW:  # the whole of it, without a copy
        text = raw.decode("utf-8", "replace")
    else:
        text = bytes(raw[:MAX_RAW]).decode("utf-8", "replace")
    if text.isprintable():  # fast path, same result: no control character, tab, CR or LF to replace
        return text.strip()
    return _CONTROL_BUT_SPACE.sub("", text.replace("\t", " ").replace("\r", " ").replace("\n", " ")).strip()


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

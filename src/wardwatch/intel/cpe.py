"""CPE 2.3 formatted strings (NISTIR 7695 §6.2): split into their eleven attributes."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPLIT = re.compile(r"(?<!\\):")


@dataclass(frozen=True, slots=True)
class Cpe:
    """The attributes of a CPE 2.3 name that matching uses (part, vendor, product, version, update)."""

    part: str
    vendor: str
    product: str
    version: str
    update: str

    @property
    def has_version(self) -> bool:
        """True when the version is a value, not ANY (``*``) or NA (``-``)."""
        return self.version not in ("*", "-", "")


def _unescape(text: str) -> str:
    """Drop the backslash quoting of NISTIR 7695 §6.2.2 (``\\.`` → ``.``)."""
    return text.replace("\\", "")


def parse_cpe(text: str) -> Cpe | None:
    """Parse ``cpe:2.3:part:vendor:product:version:update:...``; ``None`` when not a CPE 2.3 string."""
    fields = _SPLIT.split(text.strip())
    if len(fields) < 6 or fields[0] != "cpe" or fields[1] != "2.3" or fields[2] not in ("a", "o", "h", "*"):
        return None
    return Cpe(
        fields[2],
        _unescape(fields[3]).casefold(),
        _unescape(fields[4]).casefold(),
        _unescape(fields[5]),
        _unescape(fields[6]) if len(fields) > 6 else "*",
    )

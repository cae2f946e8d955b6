"""Safe text from untrusted bytes, and an Observation de-duplicator.

Every string a peer sends is hostile until cleaned: decoded as UTF-8 with replacement (never raising),
control characters removed (a value must not break a log line or a terminal), whitespace collapsed, and
the result clipped by :meth:`FlowContext.observation` (``MAX_VALUE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation

#: C0 controls, DEL and C1 controls; tabs and line breaks become a space first.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\n\r ]+")
#: Longest raw slice we decode for one value (values are clipped to 512 characters later anyway).
MAX_RAW = 4096


def clean(raw: bytes | bytearray | memoryview, *, encoding: str = "utf-8") -> str:
    """Decode ``raw`` safely: replacement for bad bytes, control characters dropped, spaces collapsed."""
    text = bytes(raw[:MAX_RAW]).decode(encoding, errors="replace")
    return _SPACE.sub(" ", _CONTROL.sub("", text.replace("\r\n", " "))).strip()


def clean_keep_space(raw: bytes | bytearray | memoryview) -> str:
    """Like :func:`clean` but keeps inner runs of spaces (for values compared verbatim to tshark)."""
    text = bytes(raw[:MAX_RAW]).decode("utf-8", errors="replace")
    return _CONTROL.sub("", text.replace("\t", " ").replace("\r", " ").replace("\n", " ")).strip()


def mac_text(raw: bytes) -> str:
    """Lower-case colon-separated MAC text (``00:22:2d:81:db:10``)."""
    return ":".join(f"{b:02x}" for b in raw)


class Emitter:
    """Builds Observations for one flow and drops repeats of the same (kind, value, side)."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._seen: set[tuple[str, str, bool]] = set()
        self.out: list[Observation] = []

    def emit(self, kind: str, value: str, *, about_server: bool = False, excerpt: str = "") -> None:
        """Record one fact unless the value is empty or the same fact was already recorded."""
        if not value:
            return
        key = (kind, value, about_server)
        if key in self._seen:
            return
        self._seen.add(key)
        self.out.append(
            self.ctx.observation(kind, value, about_server=about_server, excerpt=excerpt or value)
        )

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.out)

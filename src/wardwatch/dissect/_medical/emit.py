"""Safe text from untrusted bytes and a de-duplicating Observation emitter for clinical protocols.

Every string a peer sends is hostile until cleaned: decoded with replacement (never raising), control
characters removed (a value must not break a log line or a terminal), whitespace collapsed; the result is
clipped by :meth:`FlowContext.observation` (``MAX_VALUE``). The emitter only ever receives allow-listed
header and device fields: callers must never hand it a patient field (no PHI, ARCHITECTURE.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation

#: C0 controls, DEL and C1 controls (tabs and line breaks become a space first).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[\t\n\r ]+")
#: Longest raw slice decoded for one value (values are clipped to 512 characters later anyway).
MAX_RAW = 4096
#: Most observations one flow may yield (a hostile peer cannot make us emit millions).
MAX_OBSERVATIONS = 512


def clean(raw: bytes | str, *, encoding: str = "utf-8") -> str:
    """Decode ``raw`` safely: replacement for bad bytes, control characters dropped, spaces collapsed."""
    text = raw[:MAX_RAW] if isinstance(raw, str) else raw[:MAX_RAW].decode(encoding, errors="replace")
    return _SPACE.sub(" ", _CONTROL.sub("", text.replace("\r\n", " "))).strip()


class Emitter:
    """Builds Observations for one flow; drops empty values and repeats of (kind, value, side)."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self._seen: set[tuple[str, str, bool]] = set()
        self.out: list[Observation] = []

    def emit(
        self,
        kind: str,
        value: str,
        *,
        about_server: bool = False,
        excerpt: str = "",
        confidence: float | None = None,
    ) -> None:
        """Record one fact unless empty, already recorded, or the per-flow cap is reached."""
        value = clean(value)
        if not value or len(self.out) >= MAX_OBSERVATIONS:
            return
        key = (kind, value, about_server)
        if key in self._seen:
            return
        self._seen.add(key)
        self.out.append(
            self.ctx.observation(
                kind, value, about_server=about_server, excerpt=clean(excerpt) or value,
                confidence=confidence,
            )
        )

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.out)

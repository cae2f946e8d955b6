"""A de-duplicating Observation builder for one flow, shared by the stream dissectors."""

from __future__ import annotations

from collections.abc import Iterator

from wardwatch.dissect._wire.observe import observe
from wardwatch.dissect._wire.text import collapse
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation


class Emitter:
    """Builds Observations for one flow; drops empty values and repeats of (kind, value, side).

    With ``clean_values`` the value and excerpt are passed through :func:`collapse` first; with
    ``limit`` at most that many Observations are kept (a hostile peer cannot make us emit millions).
    """

    def __init__(self, ctx: FlowContext, *, clean_values: bool = False, limit: int | None = None) -> None:
        self.ctx = ctx
        self.out: list[Observation] = []
        self._seen: set[tuple[str, str, bool]] = set()
        self._clean = clean_values
        self._limit = limit

    def emit(
        self,
        kind: str,
        value: str,
        *,
        about_server: bool = False,
        excerpt: str = "",
        confidence: float | None = None,
    ) -> None:
        """Record one fact unless empty, already recorded, or the per-flow limit is reached."""
        if self._clean:
            value = collapse(value)
        if not value or (self._limit is not None and len(self.out) >= self._limit):
            return
        key = (kind, value, about_server)
        if key in self._seen:
            return
        self._seen.add(key)
        if self._clean and excerpt:  # cleaned only once kept: a dropped repeat costs no excerpt work
            excerpt = collapse(excerpt)
        self.out.append(
            observe(self.ctx, kind, value, about_server=about_server, excerpt=excerpt or value,
                    confidence=confidence)
        )

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.out)

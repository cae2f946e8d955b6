"""A de-duplicating Observation builder for one flow, shared by the stream dissectors."""

from __future__ import annotations

from collections.abc import Iterator

from wardwatch.dissect._wire.observe import _FAST, observe
from wardwatch.dissect._wire.text import MAX_RAW, collapse
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import MAX_EXCERPT, MAX_VALUE, Observation
from wardwatch.fastobj import build


class Emitter:
    """Builds Observations for one flow; drops empty values and repeats of (kind, value, side).

    With ``clean_values`` the value and excerpt are passed through :func:`collapse` first; with
    ``limit`` at most that many Observations are kept (a hostile peer cannot make us emit millions).
    """

    __slots__ = ("_clean", "_limit", "_seen", "ctx", "out")

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
        """Record one fact unless empty, already recorded, or the per-flow limit is reached.

        Every flow's facts pass through here, so the common work is written out in place: the printable
        fast path of :func:`collapse` (a str of at most :data:`MAX_RAW` characters that is printable and
        holds no run of two spaces collapses to its strip) and the body of
        :func:`~wardwatch.dissect._wire.observe.observe` (clip value and excerpt, fill the slots).
        """
        if self._clean:
            if len(value) <= MAX_RAW and value.isprintable() and "  " not in value:
                value = value.strip()
            else:
                value = collapse(value)
        if not value:
            return
        out = self.out
        if self._limit is not None and len(out) >= self._limit:
            return
        key = (kind, value, about_server)
        seen = self._seen
        if key in seen:
            return
        seen.add(key)
        if not excerpt:
            excerpt = value
        elif self._clean:  # cleaned only once kept: a dropped repeat costs no excerpt work
            if len(excerpt) <= MAX_RAW and excerpt.isprintable() and "  " not in excerpt:
                excerpt = excerpt.strip() or value
            else:
                excerpt = collapse(excerpt) or value
        if _FAST is None:
            out.append(observe(self.ctx, kind, value, about_server=about_server, excerpt=excerpt,
                               confidence=confidence))
            return
        descriptors, source, count = _FAST
        if len(value) > MAX_VALUE:  # the rules of domain.observation.clip, as observe applies them
            value = value[: MAX_VALUE - 1] + "…"
        if len(excerpt) > MAX_EXCERPT:
            excerpt = excerpt[: MAX_EXCERPT - 1] + "…"
        ctx = self.ctx
        if about_server:
            out.append(build(Observation, descriptors, ctx.ts, ctx.sensor, kind, value, ctx.dst_mac, ctx.dst_ip,
                             excerpt, confidence, ctx.src_ip, source, count))
        else:
            out.append(build(Observation, descriptors, ctx.ts, ctx.sensor, kind, value, ctx.src_mac, ctx.src_ip,
                             excerpt, confidence, ctx.dst_ip, source, count))

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.out)

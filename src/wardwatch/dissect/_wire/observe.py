"""Observations built on the hot path: the same objects as :meth:`FlowContext.observation`, cheaper.

``FlowContext.observation`` constructs an :class:`~wardwatch.domain.observation.Observation` through its
frozen dataclass ``__init__``, which routes each of its eleven fields through ``object.__setattr__``.
:func:`observe` fills a fresh instance through the class's slot descriptors instead
(:func:`wardwatch.fastobj.build`, in C: about five times as fast; DNS queries and HTTP headers make
hundreds of thousands of them per capture). It applies exactly the
rules of ``FlowContext.observation`` (subject and peer by side, value and excerpt clipped), and falls back
to that method whenever the Observation class is not the one this was written for (fields renamed,
added or not slotted), so a change of the domain class can cost speed, never correctness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, replace
from typing import Any

from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import MAX_EXCERPT, MAX_VALUE, Observation
from wardwatch.fastobj import build, slot_descriptors

_LAYOUT = ("ts", "sensor", "kind", "value", "mac", "ip", "excerpt", "confidence", "peer_ip", "source", "count")


def _layout() -> tuple[tuple[Any, ...], Any, Any] | None:
    """Slot descriptors in field order, and the defaults of ``source`` and ``count``; None if unusable."""
    descriptors = slot_descriptors(Observation, _LAYOUT)
    found = fields(Observation)
    if descriptors is None or found[9].default is MISSING or found[10].default is MISSING:
        return None
    return descriptors, found[9].default, found[10].default


_FAST = _layout()


def observe(
    ctx: FlowContext,
    kind: str,
    value: str,
    *,
    about_server: bool = False,
    excerpt: str = "",
    confidence: float | None = None,
    ts: float | None = None,
) -> Observation:
    """``ctx.observation(kind, value, about_server=..., excerpt=..., confidence=...)``, built faster.

    ``ts`` stands for ``ctx.ts`` when given (a datagram lane keeps one context per flow direction and
    passes each datagram's time here instead of building a context per datagram).
    """
    if _FAST is None:
        if ts is not None:
            ctx = replace(ctx, ts=ts)
        return ctx.observation(kind, value, about_server=about_server, excerpt=excerpt, confidence=confidence)
    descriptors, source, count = _FAST
    if len(value) > MAX_VALUE:  # the rules of domain.observation.clip
        value = value[: MAX_VALUE - 1] + "…"
    if len(excerpt) > MAX_EXCERPT:
        excerpt = excerpt[: MAX_EXCERPT - 1] + "…"
    if ts is None:
        ts = ctx.ts
    if about_server:
        return build(Observation, descriptors, ts, ctx.sensor, kind, value, ctx.dst_mac, ctx.dst_ip, excerpt,  # type: ignore[no-any-return]
                     confidence, ctx.src_ip, source, count)
    return build(Observation, descriptors, ts, ctx.sensor, kind, value, ctx.src_mac, ctx.src_ip, excerpt,  # type: ignore[no-any-return]
                 confidence, ctx.dst_ip, source, count)


#: ``make(value, excerpt, ts)``: an Observation of a context and kind fixed beforehand (see :func:`observer`).
Maker = Callable[[str, str, float], Observation]


def observer(ctx: FlowContext, kind: str, *, about_server: bool = False) -> Maker:
    """``make(value, excerpt, ts)`` = ``observe(ctx, kind, value, about_server=..., excerpt=excerpt, ts=ts)``.

    For a lane that makes facts of one kind about one endpoint by the hundred thousand (DNS queries): the
    subject, peer and sensor are read from ``ctx`` once, each call only clips and constructs.
    """
    if _FAST is None:
        def slow(value: str, excerpt: str, ts: float) -> Observation:
            return observe(ctx, kind, value, about_server=about_server, excerpt=excerpt, ts=ts)

        return slow
    descriptors, source, count = _FAST
    sensor = ctx.sensor
    if about_server:
        mac, ip, peer = ctx.dst_mac, ctx.dst_ip, ctx.src_ip
    else:
        mac, ip, peer = ctx.src_mac, ctx.src_ip, ctx.dst_ip

    def make(value: str, excerpt: str, ts: float) -> Observation:
        if len(value) > MAX_VALUE:  # the rules of domain.observation.clip
            value = value[: MAX_VALUE - 1] + "…"
        if len(excerpt) > MAX_EXCERPT:
            excerpt = excerpt[: MAX_EXCERPT - 1] + "…"
        return build(Observation, descriptors, ts, sensor, kind, value, mac, ip, excerpt, None, peer,  # type: ignore[no-any-return]
                     source, count)

    return make


def restamped(obs: Observation, ts: float, count: int) -> Observation:
    """``dataclasses.replace(obs, ts=ts, count=count)``, built through the slots (a sink folding repeated
    facts makes one per fact seen more than once)."""
    if _FAST is None:
        return replace(obs, ts=ts, count=count)
    return build(Observation, _FAST[0], ts, obs.sensor, obs.kind, obs.value, obs.mac, obs.ip,  # type: ignore[no-any-return]
                 obs.excerpt, obs.confidence, obs.peer_ip, obs.source, count)

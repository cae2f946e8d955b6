"""The hot-path Observation builder gives exactly what FlowContext.observation gives."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.dissect._wire import observe as module
from wardwatch.dissect._wire.observe import observe, observer, restamped
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation

texts = st.text(max_size=700)


@settings(max_examples=300, deadline=None)
@given(kind=st.text(min_size=1, max_size=20), value=texts, excerpt=texts, about_server=st.booleans(),
       confidence=st.none() | st.floats(0, 1), src_mac=st.none() | st.just("02:00:00:00:00:01"),
       ts=st.floats(0, 2e9))
def test_equals_the_contexts_observation(kind: str, value: str, excerpt: str, about_server: bool,
                                         confidence: float | None, src_mac: str | None, ts: float) -> None:
    ctx = FlowContext(ts, "s1", 6, src_mac, "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 40000, 80)
    fast = observe(ctx, kind, value, about_server=about_server, excerpt=excerpt, confidence=confidence)
    slow = ctx.observation(kind, value, about_server=about_server, excerpt=excerpt, confidence=confidence)
    assert type(fast) is Observation
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)


def test_layout_is_recognised() -> None:
    """The fast path is in use (a changed Observation class would silently fall back: say so here)."""
    assert module._FAST is not None


@settings(max_examples=300, deadline=None)
@given(kind=st.text(min_size=1, max_size=20), value=texts, excerpt=texts, about_server=st.booleans(),
       src_mac=st.none() | st.just("02:00:00:00:00:01"), ts=st.floats(0, 2e9))
def test_a_bound_observer_equals_observe(kind: str, value: str, excerpt: str, about_server: bool,
                                         src_mac: str | None, ts: float) -> None:
    ctx = FlowContext(1.0, "s1", 17, src_mac, "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 40000, 53)
    made = observer(ctx, kind, about_server=about_server)(value, excerpt, ts)
    assert type(made) is Observation
    assert made == observe(ctx, kind, value, about_server=about_server, excerpt=excerpt, ts=ts)


@given(value=texts, confidence=st.none() | st.floats(0, 1), ts=st.floats(0, 2e9), count=st.integers(1, 10**6))
def test_restamped_equals_replace(value: str, confidence: float | None, ts: float, count: int) -> None:
    obs = Observation(5.0, "s1", "dns.query", value, None, "10.0.0.1", "x", confidence, "10.0.0.2", "zeek", 3)
    assert restamped(obs, ts, count) == dataclasses.replace(obs, ts=ts, count=count)

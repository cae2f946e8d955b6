"""The shared Emitter gives what its plain form (collapse, then observe) gives, fact for fact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.dissect._wire.emit import Emitter
from wardwatch.dissect._wire.observe import observe
from wardwatch.dissect._wire.text import MAX_RAW, collapse
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import Observation

CTX = FlowContext(1.5, "s1", 6, "02:00:00:00:00:01", None, "10.0.0.1", "10.0.0.2", 40000, 104)


class PlainEmitter:
    """The Emitter as first written: collapse through the function, the Observation through observe."""

    def __init__(self, ctx: FlowContext, *, clean_values: bool = False, limit: int | None = None) -> None:
        self.ctx = ctx
        self.out: list[Observation] = []
        self._seen: set[tuple[str, str, bool]] = set()
        self._clean = clean_values
        self._limit = limit

    def emit(self, kind: str, value: str, *, about_server: bool = False, excerpt: str = "",
             confidence: float | None = None) -> None:
        if self._clean:
            value = collapse(value)
        if not value or (self._limit is not None and len(self.out) >= self._limit):
            return
        key = (kind, value, about_server)
        if key in self._seen:
            return
        self._seen.add(key)
        if self._clean and excerpt:
            excerpt = collapse(excerpt)
        self.out.append(observe(self.ctx, kind, value, about_server=about_server, excerpt=excerpt or value,
                                confidence=confidence))


# Values around every rule: blanks and control characters (cleaned away, or all there is), runs of
# spaces, non-ASCII, repeats, and lengths around MAX_VALUE/MAX_EXCERPT (clipped) and MAX_RAW (decoded part).
_PIECES = st.sampled_from(["", " ", "  ", "\t", "\r\n", "\x00", "\x85", "\xa0", "é", "CT", "1.2.840", "a" * 159,
                           "b" * 511, "c" * 600, "d" * (MAX_RAW - 1), "e" * MAX_RAW])
_TEXTS = st.lists(_PIECES, max_size=4).map("".join) | st.text(max_size=20)
_CALLS = st.lists(st.tuples(st.sampled_from(["k.a", "k.b"]), _TEXTS, st.booleans(), _TEXTS,
                            st.none() | st.sampled_from([0.5, 0.9])), max_size=12)


@settings(max_examples=400, deadline=None)
@given(calls=_CALLS, clean=st.booleans(), limit=st.none() | st.integers(0, 4))
def test_emitter_equals_its_plain_form(calls: list[tuple[str, str, bool, str, float | None]], clean: bool,
                                       limit: int | None) -> None:
    fast = Emitter(CTX, clean_values=clean, limit=limit)
    plain = PlainEmitter(CTX, clean_values=clean, limit=limit)
    for kind, value, about_server, excerpt, confidence in calls:
        for em in (fast, plain):
            em.emit(kind, value, about_server=about_server, excerpt=excerpt, confidence=confidence)
    assert fast.out == plain.out
    assert [repr(o) for o in fast] == [repr(o) for o in plain.out]
    assert all(type(o) is Observation for o in fast)


def test_emitter_edges() -> None:
    """Cases the fast path must leave to collapse: a printable value longer than MAX_RAW (collapse reads
    only its first MAX_RAW characters, so two such values can be one fact), and an excerpt of blanks."""
    long_a = "d" * (MAX_RAW - 1) + " x"
    long_b = "d" * (MAX_RAW - 1) + " y"
    calls = [("k", long_a, False, long_b, None), ("k", long_b, False, "", None), ("k", "v", True, " ", 0.5),
             ("k", "w", True, "  ", None), ("k", "u", False, "\t", None)]
    for clean in (True, False):
        fast = Emitter(CTX, clean_values=clean)
        plain = PlainEmitter(CTX, clean_values=clean)
        for kind, value, about_server, excerpt, confidence in calls:
            for em in (fast, plain):
                em.emit(kind, value, about_server=about_server, excerpt=excerpt, confidence=confidence)
        assert fast.out == plain.out

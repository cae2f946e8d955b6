"""Test-only: the fuzz contract of a dissector, and byte mutations seeded from real PDUs."""

from __future__ import annotations

from hypothesis import strategies as st

from wardwatch.dissect.interface import Dissector, FlowContext
from wardwatch.domain.observation import MAX_EXCERPT, MAX_VALUE, Observation
from wardwatch.errors import ParseError


def run_contract(
    dissector: Dissector, ctx: FlowContext, client: bytes, server: bytes = b""
) -> list[Observation]:
    """Run detect + dissect: only ParseError may escape; values are clipped strings."""
    assert isinstance(dissector.detect(client, ctx), bool)
    try:
        found = list(dissector.dissect(ctx, client, server))
    except ParseError:
        return []
    for obs in found:
        assert isinstance(obs, Observation)
        assert isinstance(obs.value, str) and 0 < len(obs.value) <= MAX_VALUE
        assert len(obs.excerpt) <= MAX_EXCERPT
        assert not any(ch in obs.value for ch in "\x00\r\n")
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes flipped, a slice cut out or duplicated, or truncated."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        op = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            j = draw(st.integers(i, len(data)))
            del data[i:j]
        elif op == 2:
            j = draw(st.integers(i, min(len(data), i + 64)))
            data[i:i] = data[i:j]
        else:
            del data[i:]
    return bytes(data)

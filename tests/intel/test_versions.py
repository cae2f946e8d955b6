"""Vendor version order and version expressions (vers and free text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.intel.versions import Outcome, VersionSpecError, parse_spec, parse_version

V = parse_version


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("4.1.2.3", "4.1.2.21"),  # numeric, not lexical
        ("2.0", "V2.0 SP3"),  # service pack after the release
        ("V2.0 SP3", "2.1"),
        ("9.1", "9.1b"),  # letter suffix after the release
        ("R3.0.9", "R3.1"),
        ("2018.12", "2019.1"),
        ("1.0rc1", "1.0"),  # pre-release before the release
        ("1.1.3 Build 10", "1.1.3 Build 11"),
        ("B.06.17", "B.06.18"),
        ("BT02", "BT06"),
        ("012U000040", "012U000061"),
    ],
)
def test_vendor_version_order(lower: str, higher: str) -> None:
    assert V(lower) < V(higher)
    assert not V(higher) < V(lower)


def test_trailing_zeros_and_leading_v_are_equal() -> None:
    assert V("1.0") == V("1.0.0") == V("v1") == V("Version 1.0")
    assert V("01.02") == V("1.2")


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("vers:generic/>=1.0|<2.0", ["1.0", "1.9.9"], ["0.9", "2.0", "2.0.1"]),
        ("< 3.2", ["3.1.9", "1"], ["3.2", "3.2.0", "4"]),
        ("<= 9.33", ["9.33", "9.19"], ["9.33.1", "12.1"]),
        ("versions prior to 4.1", ["4.0.9"], ["4.1"]),
        ("4.x", ["4", "4.0.1", "4.99"], ["5.0", "3.9"]),
        ("<= 11.x", ["11.9.9", "10"], ["12.0"]),
        ("< 3.x", ["2.9"], ["3.0", "3.5"]),
        (">= 2.0 | <= 3.0", ["2.0", "2.5"], ["1.9", "3.1"]),
        ("1.1 | 1.2 | 1.4 | 1.5", ["1.2", "1.5.0"], ["1.3", "1.6"]),
        ("2.3.6 and  below", ["2.3.6", "2.0"], ["2.3.7"]),
        ("<= 2.01 (end-of-life Nov 2017)", ["2.01"], ["2.02"]),
        ("2131 and 2141", ["2131", "2141"], ["2140"]),
        ("vers:generic/>=1.0|!=1.5|<2.0", ["1.4"], ["1.5"]),
    ],
)
def test_spec_membership(spec: str, inside: list[str], outside: list[str]) -> None:
    parsed = parse_spec(spec)
    for v in inside:
        assert parsed.evaluate(v) is Outcome.IN, (spec, v)
    for v in outside:
        assert parsed.evaluate(v) is Outcome.OUT, (spec, v)
    assert parsed.evaluate(None) is Outcome.UNKNOWN


@pytest.mark.parametrize("spec", ["All versions", "vers:all/*", "*", "* (end-of-life 2011)"])
def test_all_versions(spec: str) -> None:
    assert parse_spec(spec).evaluate(None) is Outcome.ALL


@pytest.mark.parametrize("spec", ["< august 28", "<May 2018", "", "with wireless option", "vers:nope"])
def test_uninterpretable_specs_raise(spec: str) -> None:
    with pytest.raises(VersionSpecError):
        parse_spec(spec)


versions = st.one_of(
    st.text(max_size=20),
    st.lists(st.integers(0, 30), min_size=1, max_size=5).map(lambda xs: ".".join(map(str, xs))),
    st.builds(
        lambda a, b, s: f"{a}.{b}{s}",
        st.integers(0, 9),
        st.integers(0, 9),
        st.sampled_from(["", "a", "b", " SP1", "rc1", " Build 7", "-beta"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(versions, versions, versions)
def test_version_order_is_total(a: str, b: str, c: str) -> None:
    x, y, z = V(a), V(b), V(c)
    assert (x < y) + (y < x) + (x == y) == 1  # exactly one holds (totality + antisymmetry)
    if x < y and y < z:
        assert x < z  # transitivity
    if x == y:
        assert hash(x) == hash(y)
    assert sorted([x, y, z]) == sorted([z, y, x])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.one_of(st.none(), versions))
def test_spec_parser_gives_a_range_or_a_clear_error(text: str, observed: str | None) -> None:
    try:
        spec = parse_spec(text)
    except VersionSpecError:
        return
    assert spec.evaluate(observed) in tuple(Outcome)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["<", "<=", ">", ">=", "=", "!=", ""]), min_size=1, max_size=4),
    st.lists(versions, min_size=4, max_size=4),
)
def test_vers_constraints_parse_or_fail_cleanly(ops: list[str], vs: list[str]) -> None:
    text = "vers:generic/" + "|".join(f"{op}{v}" for op, v in zip(ops, vs, strict=False))
    try:
        spec = parse_spec(text)
    except VersionSpecError:
        return
    for v in vs:
        expected = (Outcome.IN, Outcome.OUT, Outcome.ALL) if v.strip() else (Outcome.UNKNOWN, Outcome.ALL)
        assert spec.evaluate(v) in expected

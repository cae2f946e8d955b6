"""Hostile feed content: arbitrary and mutated STIX bundles, patterns and MISP events raise ParseError or
yield problems, never another exception (seeded from the shared STIX example and a MISP event)."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.threatintel.support import misp_event
from wardwatch.errors import ParseError
from wardwatch.intel.indicators import IndicatorBatch
from wardwatch.intel.misp import parse_event
from wardwatch.intel.stix import parse_bundle, pattern_values

SEED_BUNDLE = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": [{
    "type": "indicator", "spec_version": "2.1", "id": "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
    "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z", "name": "C2 IP",
    "pattern": "[ipv4-addr:value = '10.0.0.0']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z",
    "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}]}
SEED_EVENT = misp_event([("ip-dst|port", "192.0.2.1|443"), ("domain", "c2.example"), ("vulnerability", "CVE-2021-1")])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)


def _mutate(seed: object, data: st.DataObject) -> object:
    text = bytearray(json.dumps(seed).encode())
    for _ in range(data.draw(st.integers(0, 8))):
        position = data.draw(st.integers(0, len(text) - 1))
        text[position] = data.draw(st.integers(0, 255))
    try:
        return json.loads(bytes(text))
    except ValueError:
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_stix_bundles(data: st.DataObject) -> None:
    document = _mutate(SEED_BUNDLE, data)
    try:
        batch = parse_bundle(document, "fuzz")
    except ParseError:
        return
    assert all(i.feed == "fuzz" for i in batch.indicators)


@settings(max_examples=200, deadline=None)
@given(document=JSON)
def test_arbitrary_json_as_stix_and_misp(document: object) -> None:
    for call in (lambda: parse_bundle(document, "fuzz"), lambda: parse_event(document, IndicatorBatch("fuzz"))):
        with contextlib.suppress(ParseError):
            call()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_misp_events(data: st.DataObject) -> None:
    document = _mutate(SEED_EVENT, data)
    batch = IndicatorBatch("fuzz")
    try:
        parse_event(document, batch)
    except ParseError:
        return


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(max_size=80) | st.builds(lambda a, b: f"[{a}:value = '{b}']", st.text(max_size=15),
                                                 st.text(max_size=15)))
def test_arbitrary_patterns(pattern: str) -> None:
    try:
        values, _compound = pattern_values(pattern)
    except ParseError:
        return
    assert all(isinstance(v, str) for _k, v in values)

"""MUD parsing of untrusted files: arbitrary bytes and mutated real MUD JSON give a profile or ParseError,
never another exception."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wardwatch.domain.flow import FlowRecord
from wardwatch.errors import ParseError
from wardwatch.prevent.mud.compare import compare
from wardwatch.prevent.mud.profile import load_mud, parse_mud

SEED = {
    "ietf-mud:mud": {"mud-version": 1, "mud-url": "https://x.example/m", "last-update": "2026-01-01T00:00:00Z",
                     "is-supported": True, "from-device-policy": {"access-lists": {"access-list": [{"name": "a"}]}},
                     "to-device-policy": {"access-lists": {"access-list": [{"name": "b"}]}}},
    "ietf-access-control-list:acls": {"acl": [
        {"name": "a", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "x", "matches": {
            "ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": "cloud.example"},
            "tcp": {"destination-port": {"operator": "eq", "port": 443},
                    "ietf-mud:direction-initiated": "from-device"}},
            "actions": {"forwarding": "accept"}}]}},
        {"name": "b", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "y", "matches": {
            "ipv4": {"protocol": 17, "source-ipv4-network": "10.0.0.0/8"},
            "udp": {"source-port": {"lower-port": 1, "upper-port": 9}}, "ietf-mud:mud": {"local-networks": [None]}},
            "actions": {"forwarding": "accept"}}]}}]},
}
FLOW = FlowRecord(src_ip="10.0.0.5", dst_ip="10.0.0.9", proto=17, src_port=5, dst_port=53, src_mac=None, dst_mac=None,
                  first_seen=0.0, last_seen=1.0, packets_fwd=1, packets_rev=1, bytes_fwd=60, bytes_rev=60)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


def _mutate(data: Any, path: list[str | int], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and data:
        key = list(data)[head % len(data)] if isinstance(head, int) else head
        return {**data, key: _mutate(data.get(key), rest, value)}
    if isinstance(data, list) and data:
        i = head % len(data) if isinstance(head, int) else 0
        return [*data[:i], _mutate(data[i], rest, value), *data[i + 1:]]
    return value


def _check(data: Any) -> None:
    try:
        profile = parse_mud(data)
    except ParseError:
        return
    compare(profile, [FLOW], {"10.0.0.5"}, {})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 5), min_size=1, max_size=7), json_values)
@example([0, 4, 0, 0], True)  # found by CI: an access-list that is a boolean
def test_mutated_real_structure(path: list[int], value: Any) -> None:
    _check(_mutate(json.loads(json.dumps(SEED)), path, value))


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    _check(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(raw)
    with contextlib.suppress(ParseError):
        load_mud(path)


def test_malformed_ace_fields_allow_nothing() -> None:
    data = json.loads(json.dumps(SEED))
    ace = data["ietf-access-control-list:acls"]["acl"][1]["aces"]["ace"][0]
    ace["matches"]["ipv4"]["source-ipv4-network"] = "10.0.0.0/99"
    profile = parse_mud(data)
    (parsed,) = profile.to_device
    assert parsed.forwarding == "malformed" and "source-network" in parsed.unsupported
    inbound = FlowRecord(src_ip="10.0.0.9", dst_ip="10.0.0.5", proto=17, src_port=5, dst_port=7, src_mac=None,
                         dst_mac=None, first_seen=0.0, last_seen=1.0, packets_fwd=1, packets_rev=0, bytes_fwd=60,
                         bytes_rev=0)
    assert compare(profile, [inbound], {"10.0.0.5"}).violations == [inbound]
    ace["matches"]["ipv4"]["source-ipv4-network"] = "10.0.0.0/8"
    assert compare(parse_mud(data), [inbound], {"10.0.0.5"}).allowed == [inbound]


def test_a_policy_list_of_the_wrong_type_is_a_parse_error() -> None:
    """RFC 8520 §2.1: ``access-lists/access-list`` is a list; anything else is malformed, not a crash."""
    for wrong in (True, "acl-1", 7, {"name": "acl-1"}):
        data = json.loads(json.dumps(SEED))
        data["ietf-mud:mud"]["from-device-policy"] = {"access-lists": {"access-list": wrong}}
        with pytest.raises(ParseError, match="from-device-policy/access-lists/access-list"):
            parse_mud(data, "t.json")

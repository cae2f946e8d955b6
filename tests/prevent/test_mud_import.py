"""MUD import: every shared MUD file (several generators, both ACL container spellings) parses, with the
ACE counts the MANIFEST states; observed traffic of real devices is compared with their mudgee profiles;
a device's announced MUD URL is resolved through the library and compared with its stored flows."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.detect.engine import read_capture
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError
from wardwatch.inventory.repository import Inventory
from wardwatch.prevent.mud.announced import compare_announced
from wardwatch.prevent.mud.compare import compare, names_from
from wardwatch.prevent.mud.profile import ACL_KEYS, MudLibrary, load_mud, parse_mud

ROW = re.compile(r"^\| `(?P<file>[^`]+\.json)` \|.*ACL key `(?P<key>[^`]+)`; (?P<aces>\d+) ACEs \|$", re.M)


def manifest() -> list[tuple[str, str, int]]:
    text = (require_shared("mud", "MANIFEST.md")).read_text()
    return [(m["file"], m["key"], int(m["aces"])) for m in ROW.finditer(text)]


def test_every_shared_mud_file_parses_with_the_manifest_counts() -> None:
    rows = manifest()
    assert len(rows) == 28
    folder = require_shared("mud")
    keys = set()
    for name, key, aces in rows:
        profile = load_mud(folder / name)
        assert profile.acl_key == key, name
        assert profile.ace_count == aces, name
        assert profile.url.startswith("https://")
        keys.add(profile.acl_key)
    assert keys == set(ACL_KEYS)  # both spellings occur and are read


def test_library_indexes_by_url_and_reports_non_mud_files() -> None:
    library = MudLibrary(require_shared("mud"))
    assert library.get("https://tapo-p115.com/tapo-p115") is not None
    assert library.get("https://luminaire.example.com/Luminaire_150") is not None
    assert len(library.errors) == 3  # the three mudgee input configs are not MUD files


def test_malformed_mud_is_a_parse_error() -> None:
    for bad in (None, [], {"x": 1}, {"ietf-mud:mud": {}, "ietf-access-control-list:acls": {"acl": "nope"}}):
        with pytest.raises(ParseError):
            parse_mud(bad)


@pytest.mark.parametrize(("mud", "pcap", "mac"), [
    ("tapo-p115.mud.json", "G06-tapo-p115.pcap", "40:ae:30:46:6e:a8"),
    ("mood_lamp-3204432Mud.json", "G06-mood_lamp-3204432.pcap", "b8:06:0d:18:84:b4"),
])
def test_real_device_traffic_against_its_mud(mud: str, pcap: str, mac: str) -> None:
    folder = require_shared("mud", "v4k0nd-mudgee-real-devices")
    profile = load_mud(folder / mud)
    flows, observations = read_capture(folder / "pcaps" / pcap)
    ips = {f.src_ip for f in flows if f.src_mac == mac} - {"0.0.0.0", ""}
    assert len(ips) == 1
    result = compare(profile, flows, ips, names_from(observations))
    assert result.allowed  # the traffic mudgee learned the profile from is mostly allowed by it
    # Independent check of each violation: no address-based ACE of its direction allows it.
    for flow in result.violations:
        outbound = flow.src_ip in ips
        peer = ipaddress.ip_address(flow.dst_ip if outbound else flow.src_ip)
        aces = profile.from_device if outbound else profile.to_device
        for a in aces:
            net = a.dst_net if outbound else a.src_net
            if net and a.protocol == flow.proto and peer in ipaddress.ip_network(net):
                assert a.dst_port is not None and not a.dst_port.matches(flow.dst_port), (flow, a)


def test_tapo_dns_is_outside_its_mud_and_cloud_tls_inside() -> None:
    folder = require_shared("mud", "v4k0nd-mudgee-real-devices")
    profile = load_mud(folder / "tapo-p115.mud.json")
    flows, observations = read_capture(folder / "pcaps" / "G06-tapo-p115.pcap")
    names = names_from(observations)
    result = compare(profile, flows, {"10.42.0.205"}, names)
    # The profile (5 from-device ACEs: NTP by name and four TLS clouds by name) has no DNS entry.
    assert not any(a.dst_port and a.dst_port.matches(53) for a in profile.from_device)
    assert any(f.dst_port == 53 for f in result.violations)
    cloud = {a.dst_dnsname for a in profile.from_device if a.protocol == 6}
    assert any(f.dst_port == 443 and names.get(f.dst_ip, set()) & cloud for f in result.allowed)


def test_announced_mud_url_is_resolved_and_compared(tmp_path: Path) -> None:
    folder = require_shared("mud")
    flows, _ = read_capture(folder / "v4k0nd-mudgee-real-devices" / "pcaps" / "G06-mood_lamp-3204432.pcap")
    inventory = Inventory.open(f"sqlite:///{tmp_path / 'ww.db'}")
    announce = Observation(ts=flows[0].first_seen, sensor="local", kind="dhcp.mud_url",
                           value="https://mood_lamp-3204432.com/mood_lamp-3204432", mac="b8:06:0d:18:84:b4",
                           ip="10.42.0.174")
    inventory.ingest([announce], flows)
    (result,) = compare_announced(inventory, MudLibrary(folder))
    assert result.url.endswith("mood_lamp-3204432") and result.comparison is not None
    assert result.comparison.allowed
    inventory.close()

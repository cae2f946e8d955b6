"""The identity resolver over an in-memory store: keys, ownership, merges, no flapping, rules, history."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.domain.device import AttributeSource
from wardwatch.domain.observation import Observation
from wardwatch.identify.resolver import Resolver, RuleMatch
from wardwatch.identify.state import DeviceState, MemoryStore

PUMP = "00:1b:63:84:45:e6"  # Apple MA-L prefix (any registered prefix does)
ROUTER = "00:00:0c:07:ac:01"  # Cisco MA-L prefix


def obs(ts: float, kind: str, value: str, mac: str | None = None, ip: str | None = None,
        confidence: float | None = None, source: str = "packet", sensor: str = "s1") -> Observation:
    return Observation(ts=ts, sensor=sensor, kind=kind, value=value, mac=mac, ip=ip, confidence=confidence,
                       source=source, excerpt=f"{kind}={value}")


def run(store: MemoryStore, observations: Sequence[Observation], resolver: Resolver | None = None) -> Resolver:
    resolver = resolver or Resolver()
    result = resolver.resolve(observations, store)
    store.save(result.devices, result.removed_keys)
    return resolver


def device(store: MemoryStore, key: str) -> DeviceState:
    return store.devices[key]


def test_mac_keyed_device_with_vendor_and_ip() -> None:
    store = MemoryStore()
    run(store, [obs(10, "dhcp.hostname", "pump-12", PUMP, "10.1.2.3")])
    state = device(store, f"mac:{PUMP}")
    assert state.ip_list() == ("10.1.2.3",)
    assert state.attributes["hostname"].value == "pump-12"
    assert state.attributes["mac_vendor"].value == "Apple, Inc."
    assert state.attributes["vendor"].source is AttributeSource.OBSERVED


def test_routed_ip_is_not_bound_to_router_mac() -> None:
    store = MemoryStore()
    run(store, [obs(10, "http.user_agent", "Remote/1.0", ROUTER, "192.0.2.50"),
                obs(11, "lldp.system_name", "core-sw", ROUTER)])
    assert set(store.devices) == {f"mac:{ROUTER}", "ip:s1/192.0.2.50"}
    assert "software" not in device(store, f"mac:{ROUTER}").attributes
    assert device(store, f"mac:{ROUTER}").ip_list() == ()
    assert device(store, "ip:s1/192.0.2.50").attributes["software"].value == "Remote/1.0"


def test_ip_device_is_rekeyed_when_dhcp_shows_its_mac() -> None:
    store = MemoryStore()
    run(store, [obs(10, "http.user_agent", "Infusion/2.1", PUMP, "10.1.2.3")])
    ip_state = device(store, "ip:s1/10.1.2.3")
    first_id = ip_state.id
    run(store, [obs(20, "dhcp.assigned_ip", "10.1.2.3", PUMP, "10.1.2.3")])
    assert "ip:s1/10.1.2.3" not in store.devices
    merged = device(store, f"mac:{PUMP}")
    assert merged.id == first_id  # the row survives, re-keyed
    assert merged.attributes["software"].value == "Infusion/2.1"
    assert merged.ip_list() == ("10.1.2.3",)


def test_ip_device_is_absorbed_into_existing_mac_device() -> None:
    store = MemoryStore()
    run(store, [obs(5, "lldp.system_name", "pump", PUMP)])
    run(store, [obs(10, "http.user_agent", "Infusion/2.1", PUMP, "10.1.2.3")])
    assert "ip:s1/10.1.2.3" in store.devices
    resolver = Resolver()
    result = resolver.resolve([obs(20, "mdns.hostname", "pump.local", PUMP, "10.1.2.3")], store)
    assert result.removed_keys == ["ip:s1/10.1.2.3"] and result.merged_devices == 1
    store.save(result.devices, result.removed_keys)
    merged = device(store, f"mac:{PUMP}")
    assert merged.attributes["software"].value == "Infusion/2.1"
    assert merged.attributes["hostname"].value == "pump"
    assert "ip:s1/10.1.2.3" not in store.devices


def test_later_traffic_goes_to_the_owner_not_a_new_ip_device() -> None:
    store = MemoryStore()
    run(store, [obs(10, "dhcp.assigned_ip", "10.1.2.3", PUMP, "10.1.2.3")])
    run(store, [obs(30, "tls.sni", "api.vendor.example", ROUTER, "10.1.2.3")])  # frame via a router
    assert set(store.devices) == {f"mac:{PUMP}"}
    assert ("tls.sni", "api.vendor.example") in device(store, f"mac:{PUMP}").facts


def test_multicast_mac_is_not_a_device_and_randomized_is_flagged() -> None:
    store = MemoryStore()
    run(store, [obs(1, "ssdp.server", "x", "01:00:5e:7f:ff:fa", "10.0.0.9"),
                obs(2, "mdns.hostname", "phone.local", "da:a1:19:00:00:01", "10.0.0.7")])
    assert "ip:s1/10.0.0.9" in store.devices
    phone = device(store, "mac:da:a1:19:00:00:01")
    assert phone.attributes["mac_randomized"].value == "true"
    assert "mac_vendor" not in phone.attributes


def test_same_fact_twice_adds_no_evidence_and_replay_changes_nothing() -> None:
    store = MemoryStore()
    batch = [obs(10, "dhcp.hostname", "pump-12", PUMP, "10.1.2.3"), obs(10, "dhcp.hostname", "pump-12", PUMP)]
    run(store, batch)
    state = device(store, f"mac:{PUMP}")
    assert len(state.attributes["hostname"].evidence) == 1
    result = Resolver().resolve(batch, store)
    assert result.new_devices == 0 and result.updated_devices == 0 and result.facts_added == 0
    assert result.history_events == 0
    run(store, [obs(50, "dhcp.hostname", "pump-12", PUMP)])
    hostname = device(store, f"mac:{PUMP}").attributes["hostname"]
    assert len(hostname.evidence) == 1 and hostname.evidence[0].ts == 50
    assert device(store, f"mac:{PUMP}").facts[("dhcp.hostname", "pump-12")].count == 2


def test_evidence_is_capped() -> None:
    store = MemoryStore()
    run(store, [obs(i, f"proto{i}.hostname", "pump", PUMP) for i in range(40)], Resolver(evidence_cap=5))
    assert len(device(store, f"mac:{PUMP}").attributes["hostname"].evidence) == 5


def test_hostname_change_and_ip_change_are_history() -> None:
    store = MemoryStore()
    run(store, [obs(10, "dhcp.hostname", "pump-12", PUMP, "10.1.2.3")])
    resolver = Resolver()
    result = resolver.resolve([obs(5000, "dhcp.hostname", "pump-99", PUMP, "10.1.2.77")], store)
    kinds = {(h.kind, h.old, h.new) for s in result.devices for h in s.history}
    assert ("hostname_changed", "pump-12", "pump-99") in kinds
    assert ("ip_changed", "10.1.2.3", "10.1.2.77") in kinds


def test_ip_moves_to_new_owner() -> None:
    store = MemoryStore()
    other = "00:1b:63:00:00:02"
    run(store, [obs(10, "dhcp.assigned_ip", "10.1.2.3", PUMP, "10.1.2.3")])
    result = Resolver().resolve([obs(900, "dhcp.assigned_ip", "10.1.2.3", other, "10.1.2.3")], store)
    events = {(s.key, h.kind) for s in result.devices for h in s.history}
    assert (f"mac:{PUMP}", "ip_removed") in events
    store.save(result.devices, result.removed_keys)
    assert device(store, f"mac:{PUMP}").ip_list() == ()
    assert device(store, f"mac:{other}").ip_list() == ("10.1.2.3",)


def test_weaker_never_flips_stronger_but_stronger_does() -> None:
    store = MemoryStore()
    run(store, [obs(10, "dhcp.hostname", "pump-12", PUMP)])
    run(store, [obs(9000, "vendorx.hostname", "junk", PUMP, confidence=0.3)])
    assert device(store, f"mac:{PUMP}").attributes["hostname"].value == "pump-12"
    run(store, [obs(9100, "lldp.system_name", "icu-pump-12", PUMP, confidence=0.95)])
    assert device(store, f"mac:{PUMP}").attributes["hostname"].value == "icu-pump-12"


def test_equal_strength_needs_hold_time() -> None:
    store = MemoryStore()
    run(store, [obs(1000, "dhcp.hostname", "a", PUMP)])
    run(store, [obs(1100, "dhcp.hostname", "b", PUMP)])  # within the hold time: no flip
    assert device(store, f"mac:{PUMP}").attributes["hostname"].value == "a"
    run(store, [obs(2000, "dhcp.hostname", "b", PUMP)])  # well after: the device was renamed
    assert device(store, f"mac:{PUMP}").attributes["hostname"].value == "b"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["a", "b", "PUMP-12", "x" * 30]),
                          st.floats(0.0, 0.7), st.sampled_from(["netbios.name", "foo.hostname", "ssdp.friendly_name"])),
                max_size=25), st.integers(1, 4))
def test_no_flapping_property(weak: list[tuple[int, str, float, str]], batches: int) -> None:
    store = MemoryStore()
    run(store, [obs(500_000, "dhcp.hostname", "pump-12", PUMP, confidence=0.9)])
    ordered = [obs(ts, kind, value, PUMP, confidence=conf) for ts, value, conf, kind in weak]
    size = max(1, len(ordered) // batches)
    for start in range(0, len(ordered), size):
        run(store, ordered[start : start + size])
        assert device(store, f"mac:{PUMP}").attributes["hostname"].value == "pump-12"


def test_manual_beats_import_beats_rule_beats_observed() -> None:
    store = MemoryStore()

    class Rules:
        def evaluate(self, facts: Mapping[str, Collection[str]]) -> list[RuleMatch]:
            if "Apple, Inc." in facts.get("mac.vendor", ()) and "dhcp.vendor_class" in facts:
                return [RuleMatch("apple-pump", {"model": "RulePump", "device_class": "infusion_pump"}, 0.6,
                                  (("dhcp.vendor_class", "pumpos"), ("mac.vendor", "Apple, Inc.")))]
            return []

    resolver = Resolver(evaluator=Rules())
    run(store, [obs(10, "dhcp.vendor_class", "pumpos", PUMP), obs(10, "ssdp.model_name", "SeenPump", PUMP,
                                                                  confidence=0.99)], resolver)
    model = device(store, f"mac:{PUMP}").attributes["model"]
    assert (model.value, model.source) == ("RulePump", AttributeSource.RULE)
    assert {e.rule for e in model.evidence} == {"apple-pump"}
    assert {(e.kind, e.value) for e in model.evidence} == {("dhcp.vendor_class", "pumpos"),
                                                           ("mac.vendor", "Apple, Inc.")}
    run(store, [obs(20, "import.model", "ImportedPump", PUMP, source="import")], resolver)
    assert device(store, f"mac:{PUMP}").attributes["model"].source is AttributeSource.IMPORT
    run(store, [obs(30, "manual.model", "PersonPump", PUMP, source="manual")], resolver)
    model = device(store, f"mac:{PUMP}").attributes["model"]
    assert (model.value, model.source) == ("PersonPump", AttributeSource.MANUAL)
    run(store, [obs(40, "import.model", "NewerImport", PUMP, source="import")], resolver)
    assert device(store, f"mac:{PUMP}").attributes["model"].value == "PersonPump"
    run(store, [obs(50, "manual.model", "", PUMP, source="manual")], resolver)  # a person clears it
    model = device(store, f"mac:{PUMP}").attributes["model"]
    assert (model.value, model.source) == ("NewerImport", AttributeSource.IMPORT)


def test_observation_without_mac_or_ip_is_skipped() -> None:
    result = Resolver().resolve([obs(1, "dhcp.hostname", "x")], MemoryStore())
    assert result.skipped == 1 and not result.devices


def test_local_networks_filter_ip_devices() -> None:
    store = MemoryStore()
    result = Resolver(local_networks=["10.0.0.0/8"]).resolve(
        [obs(1, "http.server", "nginx", ROUTER, "93.184.216.34"), obs(1, "http.server", "x", None, "10.2.3.4")],
        store)
    assert [s.key for s in result.devices] == ["ip:s1/10.2.3.4"] and result.skipped == 1

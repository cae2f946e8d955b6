"""Attack paths over the observed communication graph: entries, critical targets, weakest points."""

from __future__ import annotations

from tests.risk.conftest import flow

from wardwatch.domain.device import Attribute, Device
from wardwatch.risk.context import DeviceView
from wardwatch.risk.paths import INTERNET, attack_paths, build_graph, entry_points, weakest_points


def view(ident: int, ip: str, cls: str) -> DeviceView:
    attrs = {"device_class": Attribute("device_class", cls, 0.9)}
    return DeviceView(Device(key=f"ip:local/{ip}", mac=None, ips=(ip,), first_seen=0, last_seen=0,
                             attributes=attrs, id=ident))


def hospital() -> list[DeviceView]:
    """internet ↔ kiosk PC → gateway → two pumps; a nurse workstation → monitor; an isolated ventilator."""
    pc, gateway, pump1, pump2 = view(1, "10.0.0.5", "workstation"), view(2, "10.0.1.2", "server"), \
        view(3, "10.0.2.3", "infusion_pump"), view(4, "10.0.2.4", "infusion_pump")
    nurse, monitor, vent = view(5, "10.0.3.5", "workstation"), view(6, "10.0.4.6", "patient_monitor"), \
        view(7, "10.0.5.7", "ventilator")
    links = [flow("10.0.0.5", "93.184.216.34", 443), flow("10.0.0.5", "10.0.1.2", 3389),
             flow("10.0.1.2", "10.0.2.3", 2575, "hl7"), flow("10.0.1.2", "10.0.2.4", 2575, "hl7"),
             flow("10.0.3.5", "10.0.4.6", 80), flow("10.0.5.7", "10.0.2.3", 9999)]
    views = [pc, gateway, pump1, pump2, nurse, monitor, vent]
    for v in views:
        v.flows.extend(f for f in links if f.src_ip in v.device.ips or f.dst_ip in v.device.ips)
    return views


def test_paths_and_weakest_points() -> None:
    views = hospital()
    graph = build_graph(views)
    entries = entry_points(views, graph)
    assert entries[1] == "talks to the internet"
    assert entries[2] == "remote-access endpoint (RDP)"
    assert entries[5].startswith("user device")
    assert INTERNET not in entries  # nothing came in from the internet
    paths = attack_paths(graph, entries, targets=[3, 4, 6, 7])
    reached = {(p.entry, p.target) for p in paths}
    assert {(1, 3), (1, 4), (2, 3), (2, 4), (5, 6)} == reached  # the ventilator is not reachable from an entry
    one = next(p for p in paths if p.entry == 1 and p.target == 3)
    assert one.nodes == (1, 2, 3)
    assert "tcp/3389" in one.explanation and "HL7 tcp/2575" in one.explanation
    weak = weakest_points(graph, paths)
    assert (weak[0].node, weak[0].exposes) in {(1, 2), (2, 2)}
    assert {w.node: w.exposes for w in weak} == {1: 2, 2: 2, 5: 1}


def test_entry_subnets_and_hop_limit() -> None:
    views = hospital()
    graph = build_graph(views)
    entries = entry_points(views, graph, entry_subnets=["10.0.5.0/24"])
    assert entries[7] == "in entry subnet 10.0.5.0/24"
    assert any(p.entry == 7 and p.target == 3 for p in attack_paths(graph, entries, [3]))
    assert not [p for p in attack_paths(graph, entries, [3, 4], max_hops=1) if p.entry == 1]

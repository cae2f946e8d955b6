"""Attack paths over the observed communication graph (issue 4).

Nodes are devices (and one ``internet`` node); a directed edge ``a → b`` means ``a`` opened connections to
``b`` (the flow's originator reached the responder's service), labelled with the services seen. Entry
points are where an attacker starts: the internet (its flows into the network), devices that talk to the
internet, devices in guest or workstation subnets (``[risk] entry_subnets``) or of workstation-like classes,
and remote-access endpoints (RDP, VNC, TeamViewer ...). Targets are critical clinical devices
(life-sustaining or life-supporting). Every shortest path (up to ``max_hops``) from an entry to a target is
explained hop by hop, and the *weakest points* — the nodes whose compromise exposes the most critical
devices — are ranked by how many distinct targets lie behind them on those paths.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx

from wardwatch.domain.flow import PROTO_L2, PROTO_TCP, PROTO_UDP
from wardwatch.risk.context import ContextBuilder, DeviceView, is_global, load_devices, load_views
from wardwatch.risk.hygiene import REMOTE_ACCESS_PORTS
from wardwatch.risk.score import RiskWeights

INTERNET = "internet"
#: Classes from which users browse, read mail and plug in media: the usual first foothold.
ENTRY_CLASSES = frozenset({"workstation", "mobile", "iot_consumer", "unknown"})
CRITICAL_LEVELS = frozenset({"life_sustaining", "life_supporting"})
Node = int | str


@dataclass(frozen=True, slots=True)
class AttackPath:
    """One way from an entry point to a critical device, hop by hop."""

    entry: Node
    target: int
    nodes: tuple[Node, ...]
    why_entry: str
    explanation: str


@dataclass(frozen=True, slots=True)
class WeakPoint:
    """A node whose compromise exposes critical devices."""

    node: Node
    label: str
    exposes: int
    targets: tuple[int, ...]
    paths: int


def _service(proto: int, port: int, app: str | None) -> str:
    name = {PROTO_TCP: "tcp", PROTO_UDP: "udp"}.get(proto, str(proto))
    return f"{app.upper()} {name}/{port}" if app else f"{name}/{port}"


def build_graph(views: Sequence[DeviceView], labels: Mapping[int, str] | None = None) -> nx.DiGraph:
    """The directed communication graph of ``views`` (their flows), with an ``internet`` node."""
    graph = nx.DiGraph()
    owner: dict[str, int] = {}
    for view in views:
        graph.add_node(view.id, label=(labels or {}).get(view.id, f"device {view.id}"))
        for ip in view.device.ips:
            owner.setdefault(ip, view.id)
    graph.add_node(INTERNET, label="the internet")
    for view in views:
        for flow in view.flows:
            if flow.proto == PROTO_L2:
                continue
            src = owner.get(flow.src_ip, INTERNET if is_global(flow.src_ip) else None)
            dst = owner.get(flow.dst_ip, INTERNET if is_global(flow.dst_ip) else None)
            if src is None or dst is None or src == dst:
                continue
            services = graph.edges[src, dst]["services"] if graph.has_edge(src, dst) else set()
            services.add(_service(flow.proto, flow.dst_port, flow.app))
            graph.add_edge(src, dst, services=services)
    return graph


def entry_points(views: Sequence[DeviceView], graph: nx.DiGraph, entry_subnets: Iterable[str] = ()
                 ) -> dict[Node, str]:
    """Entry node → why it is one."""
    nets = [ipaddress.ip_network(n, strict=False) for n in entry_subnets]
    out: dict[Node, str] = {}
    if graph.out_degree(INTERNET):
        out[INTERNET] = "connections come in from the internet"
    for view in views:
        if graph.has_edge(view.id, INTERNET) or graph.has_edge(INTERNET, view.id):
            out[view.id] = "talks to the internet"
            continue
        remote = sorted({REMOTE_ACCESS_PORTS[f.dst_port] for f in view.flows
                         if f.proto == PROTO_TCP and f.dst_port in REMOTE_ACCESS_PORTS and f.dst_ip in view.device.ips})
        if remote:
            out[view.id] = f"remote-access endpoint ({', '.join(remote)})"
            continue
        cls = view.device.value("device_class") or "unknown"
        if cls in ENTRY_CLASSES:
            out[view.id] = f"user device ({cls})"
            continue
        for ip in view.device.ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            net = next((n for n in nets if n.version == addr.version and addr in n), None)
            if net is not None:
                out[view.id] = f"in entry subnet {net}"
                break
    return out


def _explain(graph: nx.DiGraph, nodes: Sequence[Node]) -> str:
    parts = [str(graph.nodes[nodes[0]].get("label", nodes[0]))]
    for a, b in pairwise(nodes):
        services = ", ".join(sorted(graph.edges[a, b]["services"])[:3])
        parts.append(f"—[{services}]→ {graph.nodes[b].get('label', b)}")
    return " ".join(parts)


def attack_paths(graph: nx.DiGraph, entries: Mapping[Node, str], targets: Iterable[int], max_hops: int = 4,
                 limit: int = 10_000) -> list[AttackPath]:
    """Shortest paths (at most ``max_hops`` edges) from every entry point to every target, shortest first."""
    wanted = {t for t in targets if t in graph}
    out: list[AttackPath] = []
    for entry, why in entries.items():
        reach = nx.single_source_shortest_path(graph, entry, cutoff=max_hops)
        for target in sorted(wanted & set(reach)):
            if target == entry:
                continue
            nodes = tuple(reach[target])
            out.append(AttackPath(entry, target, nodes, why, _explain(graph, nodes)))
            if len(out) >= limit:
                break
    out.sort(key=lambda p: (len(p.nodes), str(p.entry), p.target))
    return out


def weakest_points(graph: nx.DiGraph, paths: Sequence[AttackPath]) -> list[WeakPoint]:
    """Nodes on the paths (entry and intermediate hops) ranked by the critical devices behind them."""
    behind: dict[Node, set[int]] = defaultdict(set)
    count: dict[Node, int] = defaultdict(int)
    for path in paths:
        for node in path.nodes[:-1]:
            behind[node].add(path.target)
            count[node] += 1
    ranked = sorted(behind, key=lambda n: (-len(behind[n]), -count[n], str(n)))
    return [WeakPoint(n, str(graph.nodes[n].get("label", n)), len(behind[n]), tuple(sorted(behind[n])), count[n])
            for n in ranked]


def critical_targets(contexts: Mapping[int, Mapping[str, object]]) -> list[int]:
    """Devices whose stored context says life-sustaining or life-supporting."""
    return sorted(i for i, ctx in contexts.items() if ctx.get("criticality") in CRITICAL_LEVELS)


@dataclass(frozen=True, slots=True)
class PathsReport:
    """Attack paths and weakest points of the whole inventory."""

    entries: dict[Node, str]
    targets: tuple[int, ...]
    paths: tuple[AttackPath, ...]
    weak_points: tuple[WeakPoint, ...]

    def within(self, device_ids: Collection[int]) -> PathsReport:
        """Only what lies inside ``device_ids`` (a department-scoped viewer): paths whose every device is one
        of them (the internet may be a hop), the weakest points re-ranked over those paths."""
        def inside(node: Node) -> bool:
            return node == INTERNET or node in device_ids

        paths = tuple(p for p in self.paths if all(inside(n) for n in p.nodes))
        behind: dict[Node, set[int]] = defaultdict(set)
        count: dict[Node, int] = defaultdict(int)
        for path in paths:
            for node in path.nodes[:-1]:
                behind[node].add(path.target)
                count[node] += 1
        labels = {w.node: w.label for w in self.weak_points}
        ranked = sorted(behind, key=lambda n: (-len(behind[n]), -count[n], str(n)))
        weak = tuple(WeakPoint(n, labels.get(n, str(n)), len(behind[n]), tuple(sorted(behind[n])), count[n])
                     for n in ranked)
        return PathsReport({n: why for n, why in self.entries.items() if inside(n)},
                           tuple(t for t in self.targets if t in device_ids), paths, weak)

    def to_dict(self, limit: int = 200) -> dict[str, Any]:
        """JSON-ready: entry points, targets, the ``limit`` shortest paths and the weakest points."""
        return {
            "entries": [{"node": n, "why": why} for n, why in self.entries.items()],
            "targets": list(self.targets),
            "paths_total": len(self.paths),
            "paths": [{"entry": p.entry, "target": p.target, "nodes": list(p.nodes), "hops": len(p.nodes) - 1,
                       "why_entry": p.why_entry, "explanation": p.explanation} for p in self.paths[:limit]],
            "weak_points": [{"node": w.node, "label": w.label, "exposes": w.exposes, "targets": list(w.targets),
                             "paths": w.paths} for w in self.weak_points[:limit]],
        }


def analyze_inventory(inventory: Any, weights: RiskWeights | None = None, max_hops: int = 4) -> PathsReport:
    """Attack paths over every device of the inventory and its stored flows."""
    weights = weights or RiskWeights()
    devices = load_devices(inventory.engine)
    views = load_views(inventory.engine, devices)
    builder = ContextBuilder(weights)
    labels = {v.id: " ".join(x for x in (v.device.value("hostname") or (v.device.ips[0] if v.device.ips else
                                                                              f"device {v.id}"),
                                         f"({v.device.value('device_class') or 'unknown class'})") if x)
              for v in views}
    graph = build_graph(views, labels)
    entries = entry_points(views, graph, weights.entry_subnets)
    targets = [v.id for v in views if builder.criticality(v.device)[0].value in CRITICAL_LEVELS]
    paths = attack_paths(graph, entries, targets, max_hops)
    return PathsReport(entries, tuple(targets), tuple(paths), tuple(weakest_points(graph, paths)))

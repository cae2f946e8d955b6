"""Replay: recorded traffic against a policy — the "what would break" report before enforcement.

Each flow is judged by its originator (the side that opened it); a flow no rule allows would have been
blocked. The report groups blocked flows per device (the originator when it is a known device, else the
responder), so a clinical engineer reads "the CT scanner would lose DICOM to 10.0.5.20:104".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wardwatch.domain.flow import PROTO_L2, FlowRecord
from wardwatch.domain.policy import Policy
from wardwatch.prevent.baseline import service_port
from wardwatch.prevent.endpoints import DeviceDirectory
from wardwatch.prevent.policy import PolicyMatcher


@dataclass(frozen=True, slots=True)
class BlockedFlow:
    """One flow the policy would have blocked."""

    src_ip: str
    dst_ip: str
    proto: int
    port: int
    packets: int
    bytes: int
    first_seen: float
    app: str | None = None

    def describe(self) -> str:
        """``10.0.0.5 → 10.0.0.9 tcp/104``."""
        name = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(self.proto, f"proto{self.proto}")
        return f"{self.src_ip} → {self.dst_ip} {name}/{self.port}" + (f" ({self.app})" if self.app else "")


@dataclass
class DeviceReplay:
    """What one device would lose."""

    device: str
    label: str
    allowed: int = 0
    blocked: list[BlockedFlow] = field(default_factory=list)


@dataclass
class ReplayReport:
    """The whole replay."""

    policy: str
    flows: int = 0
    allowed: int = 0
    devices: dict[str, DeviceReplay] = field(default_factory=dict)

    @property
    def blocked(self) -> int:
        """Flows that would have been blocked."""
        return sum(len(d.blocked) for d in self.devices.values())

    def blocked_flows(self) -> list[BlockedFlow]:
        """Every blocked flow, device by device."""
        return [b for d in self.devices.values() for b in d.blocked]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (CLI ``--format json``)."""
        return {"policy": self.policy, "flows": self.flows, "allowed": self.allowed, "blocked": self.blocked,
                "devices": [{"device": d.device, "label": d.label, "allowed": d.allowed,
                             "blocked": [b.describe() for b in d.blocked]}
                            for d in self.devices.values() if d.blocked]}


def replay(policy: Policy, flows: Iterable[FlowRecord], directory: DeviceDirectory | None = None) -> ReplayReport:
    """Judge every IP flow of ``flows`` against ``policy``."""
    matcher = PolicyMatcher(policy)
    directory = directory or DeviceDirectory(())
    report = ReplayReport(policy=policy.name)
    for flow in flows:
        if flow.proto == PROTO_L2 or not flow.src_ip or not flow.dst_ip:
            continue
        report.flows += 1
        owner = directory.device_for(flow.src_ip, flow.src_mac) or directory.device_for(flow.dst_ip, flow.dst_mac)
        key = owner.key if owner else f"ip:{flow.src_ip}"
        label = (owner.value("hostname") or owner.value("ae_title") or owner.key) if owner else flow.src_ip
        entry = report.devices.setdefault(key, DeviceReplay(device=key, label=label))
        if matcher.allows(flow) is not None:
            report.allowed += 1
            entry.allowed += 1
            continue
        entry.blocked.append(BlockedFlow(flow.src_ip, flow.dst_ip, flow.proto, service_port(flow), flow.packets,
                                         flow.bytes, flow.first_seen, flow.app))
    return report


def capture_flows(path: Path, *, sensor: str = "local") -> list[FlowRecord]:
    """The flows of one capture file, read by the capture engine (no dissection)."""
    from wardwatch.capture.engine import process_capture
    from wardwatch.capture.sink import NullSink

    return process_capture(path, NullSink(), sensor=sensor).flows


def replay_capture(policy: Policy, path: Path, directory: DeviceDirectory | None = None) -> ReplayReport:
    """Replay a capture file against ``policy``."""
    return replay(policy, capture_flows(path), directory)

"""Least-privilege policy from a baseline, plus the rules clinical protocols need; and rule matching.

:func:`generate` turns every *normal* device-scope ``out`` entry of the baseline into an allowed flow
from exactly that device to exactly that peer on that protocol/port (merging sources that share the same
destination and service, which stays exact), adds ``in`` entries whose peer is not a known device (an
outside host opening a connection), and adds the clinical and infrastructure rules:

* DICOM (PS3.8 §9, ports 104 and 11112; 2762 for DICOM over TLS, PS3.15 Annex B): imaging modalities
  and imaging workstations → PACS archives.
* HL7 v2 over MLLP (HL7 v2.x Appendix C, IANA port 2575): clinical devices → interface engines
  (``clinical_information_system``).
* DNS (RFC 1035, 53/udp+tcp) and NTP (RFC 5905, 123/udp): every device → the infrastructure servers
  (given by address, or learned as the devices that answered on those ports).

:class:`PolicyMatcher` answers "which rule allows this flow?" (``None`` = denied by default).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wardwatch.domain.device import Device
from wardwatch.domain.flow import PROTO_L2, PROTO_TCP, PROTO_UDP, FlowRecord
from wardwatch.domain.policy import Network, Policy, Rule, RuleOrigin, Zone, as_networks
from wardwatch.prevent.baseline import Baseline, service_port
from wardwatch.prevent.endpoints import DeviceDirectory
from wardwatch.prevent.zones import EXTERNAL, UNMANAGED, build_zones, zone_index

DICOM_PORTS = (104, 11112, 2762)
HL7_PORT = 2575
DNS_PORT = 53
NTP_PORT = 123
MODALITY_CLASSES = frozenset({"imaging_modality", "ct_scanner", "mr_scanner", "ultrasound", "xray",
                              "mammography", "nuclear_medicine", "angiography", "imaging_workstation"})
PACS_CLASSES = frozenset({"pacs_archive"})
ENGINE_CLASSES = frozenset({"clinical_information_system"})
CLINICAL_SENDERS = frozenset({"patient_monitor", "central_station", "infusion_pump", "syringe_pump", "ventilator",
                              "lab_analyzer", "poc_analyzer", "vital_signs_monitor", "dialysis_machine",
                              "anesthesia_machine", "telemetry_gateway", *MODALITY_CLASSES})


def _host(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    return f"{address}/{address.max_prefixlen}"


def _hosts(device: Device) -> tuple[str, ...]:
    return tuple(_host(ip) for ip in device.ips)


def _peer_target(peer: str, kind: str, directory: DeviceDirectory) -> tuple[tuple[str, ...], str | None]:
    """Addresses of a baseline peer and its zone-to-be (None: look it up by device)."""
    if kind == "device":
        device = directory.by_key.get(peer)
        return (_hosts(device) if device else ()), None
    prefix = peer.split(":", 1)[1]
    if kind == "external":
        return (_host(prefix),), EXTERNAL
    return (prefix,), UNMANAGED


def _class(device: Device) -> str:
    return device.value("device_class") or ""


def generate(baseline: Baseline, directory: DeviceDirectory, *, zones: Sequence[Zone] | None = None,
             name: str = "default", clinical: bool = True, infrastructure: Iterable[str] = ()) -> Policy:
    """The least-privilege policy for the devices of ``directory`` from ``baseline``."""
    zones = tuple(zones) if zones is not None else build_zones(directory.devices)
    where = zone_index(zones)
    grouped: dict[tuple[str, str, int, int, tuple[str, ...], RuleOrigin, str], set[str]] = defaultdict(set)

    def add(src: tuple[str, ...], src_zone: str, dst: tuple[str, ...], dst_zone: str, proto: int, port: int,
            origin: RuleOrigin, reason: str) -> None:
        if not src or not dst:
            return
        grouped[(src_zone, dst_zone, proto, port, tuple(sorted(dst)), origin, reason)].update(src)

    for entry in baseline.normal_entries("device"):
        subject = directory.by_key.get(entry.subject)
        if subject is None or not subject.ips:
            continue
        addresses, fixed_zone = _peer_target(entry.peer, entry.peer_kind, directory)
        peer_zone = fixed_zone or where.get(entry.peer, UNMANAGED)
        own_zone = where.get(subject.key, UNMANAGED)
        if entry.direction == "out":
            add(_hosts(subject), own_zone, addresses, peer_zone, entry.proto, entry.port,
                RuleOrigin.BASELINE, "learned")
        elif entry.peer_kind != "device":
            add(addresses, peer_zone, _hosts(subject), own_zone, entry.proto, entry.port, RuleOrigin.BASELINE,
                "learned (opened from outside the inventory)")
    if clinical:
        for rule in clinical_rules(directory, where, baseline, infrastructure):
            add(rule.src, rule.src_zone, rule.dst, rule.dst_zone, rule.proto or 0, rule.port or 0,
                rule.origin, rule.reason)
    rules = tuple(Rule(src_zone=k[0], dst_zone=k[1], proto=k[2], port=k[3], src=tuple(sorted(srcs)), dst=k[4],
                       origin=k[5], reason=k[6])
                  for k, srcs in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3],
                                                                          kv[0][4], str(kv[0][5]))))
    return Policy(name=name, zones=zones, rules=rules,
                  description="least privilege from the baseline plus clinical protocol rules; default deny")


def clinical_rules(directory: DeviceDirectory, where: dict[str, str], baseline: Baseline,
                   infrastructure: Iterable[str] = ()) -> list[Rule]:
    """The rules clinical protocols and basic infrastructure need."""
    devices = [d for d in directory.devices if d.ips]
    out: list[Rule] = []

    def pair(srcs: list[Device], dsts: list[Device], proto: int, port: int, origin: RuleOrigin, why: str) -> None:
        for dst in dsts:
            sources = [s for s in srcs if s.key != dst.key]
            by_zone: dict[str, list[str]] = defaultdict(list)
            for s in sources:
                by_zone[where.get(s.key, UNMANAGED)].extend(_hosts(s))
            for zone, hosts in by_zone.items():
                out.append(Rule(zone, where.get(dst.key, UNMANAGED), proto, port, tuple(hosts), _hosts(dst),
                                origin, why))

    modalities = [d for d in devices if _class(d) in MODALITY_CLASSES]
    pacs = [d for d in devices if _class(d) in PACS_CLASSES]
    for port in DICOM_PORTS:
        pair(modalities, pacs, PROTO_TCP, port, RuleOrigin.CLINICAL, "DICOM modality → PACS (PS3.8)")
    senders = [d for d in devices if _class(d) in CLINICAL_SENDERS]
    engines = [d for d in devices if _class(d) in ENGINE_CLASSES]
    pair(senders, engines, PROTO_TCP, HL7_PORT, RuleOrigin.CLINICAL, "HL7 v2 MLLP → interface engine")
    servers = {s: set[str]() for s in ("dns", "ntp")}
    for ip in infrastructure:
        servers["dns"].add(ip)
        servers["ntp"].add(ip)
    for entry in baseline.normal_entries("device"):
        if entry.direction == "in" and entry.proto == PROTO_UDP and entry.port in (DNS_PORT, NTP_PORT):
            device = directory.by_key.get(entry.subject)
            if device is not None:
                servers["dns" if entry.port == DNS_PORT else "ntp"].update(device.ips)
    for kind, ports in (("dns", ((PROTO_UDP, DNS_PORT), (PROTO_TCP, DNS_PORT))), ("ntp", ((PROTO_UDP, NTP_PORT),))):
        for ip in sorted(servers[kind]):
            infra = directory.device_for(ip)
            dst_zone = where.get(infra.key, UNMANAGED) if infra else UNMANAGED
            for proto, port in ports:
                by_zone: dict[str, list[str]] = defaultdict(list)
                for d in devices:
                    if ip not in d.ips:
                        by_zone[where.get(d.key, UNMANAGED)].extend(_hosts(d))
                for zone, hosts in by_zone.items():
                    out.append(Rule(zone, dst_zone, proto, port, tuple(hosts), (_host(ip),),
                                    RuleOrigin.INFRASTRUCTURE, f"{kind.upper()} to infrastructure"))
    return out


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    src: tuple[Network, ...]
    dst: tuple[Network, ...]


class PolicyMatcher:
    """Decides flows against a policy (default deny)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        zone_nets = {z.name: tuple(as_networks(z.addresses())) for z in policy.zones}
        self._rules = [
            _Compiled(r, tuple(as_networks(r.src)) if r.src else zone_nets.get(r.src_zone, ()),
                      tuple(as_networks(r.dst)) if r.dst else zone_nets.get(r.dst_zone, ()))
            for r in policy.rules
        ]

    def allows(self, flow: FlowRecord) -> Rule | None:
        """The first rule allowing ``flow`` (by its originator), or ``None`` when it would be blocked."""
        if flow.proto == PROTO_L2 or not flow.src_ip or not flow.dst_ip:
            return None
        return self.allows_tuple(flow.src_ip, flow.dst_ip, flow.proto, service_port(flow))

    def allows_tuple(self, src_ip: str, dst_ip: str, proto: int, port: int) -> Rule | None:
        """The first rule allowing ``src_ip`` to open ``proto``/``port`` on ``dst_ip``."""
        src = ipaddress.ip_address(src_ip)
        dst = ipaddress.ip_address(dst_ip)
        for compiled in self._rules:
            rule = compiled.rule
            if rule.proto not in (None, proto) or rule.port not in (None, port):
                continue
            if any(src in n for n in compiled.src) and any(dst in n for n in compiled.dst):
                return rule
        return None

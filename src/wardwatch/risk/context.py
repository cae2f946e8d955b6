"""What the risk layer reads about each device, loaded from the inventory in bulk (a few queries, not one per
device): the facts the hygiene checks read, the flows the device took part in, whether it handles PHI, and
the :class:`~wardwatch.risk.score.DeviceContext` (criticality, exposure, controls) the score needs.

Criticality, most specific first: a ``criticality`` attribute on the device (a person's value, or a CMMS
import), the site's overrides in ``[risk.criticality]`` (device, model, class), the taxonomy default of the
class; a department level in ``[risk.department_criticality]`` raises it, never lowers it. Controls: the
device's ``controls`` attribute (a comma list such as ``segmented, nac``) and the zones of
``[risk.zone_controls]`` (CIDR → controls) that hold one of its addresses.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from wardwatch.domain.device import Attribute, AttributeSource, Device
from wardwatch.domain.flow import FlowRecord
from wardwatch.identify.taxonomy import Criticality, Taxonomy, criticality_for, default_taxonomy
from wardwatch.inventory import tables as t
from wardwatch.inventory.flows import select_flows
from wardwatch.inventory.store import chunks
from wardwatch.risk.bulk import select_rows
from wardwatch.risk.hygiene import HygieneContext
from wardwatch.risk.score import DeviceContext, RiskWeights

#: Fact kinds the hygiene checks read (risk/hygiene.py).
HYGIENE_KINDS = (
    "telnet.seen", "ftp.user", "ftp.cleartext_password", "http.basic_auth", "snmp.community", "smb.v1",
    "tls.version", "tls.cert_self_signed", "tls.cert_not_after", "smb.os_version", "http.user_agent",
    "snmp.sysdescr", "tls.sni", "dns.query", "http.host",
)
#: Applications that carry patient data (DICOM PS3.8, HL7 v2): a device speaking them handles PHI.
PHI_APPS = frozenset({"dicom", "hl7"})
#: Words people use for criticality in asset registers, mapped onto the taxonomy levels.
CRITICALITY_WORDS: dict[str, Criticality] = {
    **{c.value: c for c in Criticality},
    **{c.value.replace("_", "-"): c for c in Criticality},
    **{c.value.replace("_", " "): c for c in Criticality},
    "critical": Criticality.LIFE_SUSTAINING, "very high": Criticality.LIFE_SUSTAINING,
    "high": Criticality.LIFE_SUPPORTING, "medium": Criticality.DIAGNOSTIC, "moderate": Criticality.DIAGNOSTIC,
    "low": Criticality.NON_CLINICAL, "none": Criticality.NON_CLINICAL,
    "1": Criticality.LIFE_SUSTAINING, "2": Criticality.LIFE_SUPPORTING, "3": Criticality.DIAGNOSTIC,
    "4": Criticality.NON_CLINICAL,
}


#: Attributes the risk layer reads (matching, criticality, controls, labels, scope).
RISK_ATTRIBUTES = ("vendor", "model", "firmware", "software", "device_class", "criticality", "controls",
                   "department", "os", "hostname")


def load_devices(engine: sa.Engine) -> list[Device]:
    """Every device with its addresses and the attributes of :data:`RISK_ATTRIBUTES` (no evidence): three
    table scans, much lighter than the inventory's full loader for a whole-inventory evaluation (plain
    driver rows; equal attributes shared between devices, as they are immutable)."""
    ips: dict[int, list[tuple[float, str]]] = defaultdict(list)
    attrs: dict[int, dict[str, Attribute]] = defaultdict(dict)
    sources = {s.value: s for s in AttributeSource}
    shared: dict[tuple[str, str, float, str], Attribute] = {}
    names = ", ".join(f"'{n}'" for n in RISK_ATTRIBUTES)  # constants of this module, not input
    with engine.connect() as conn:
        for device_id, ip, last_seen in select_rows(conn, "SELECT device_id, ip, last_seen FROM device_ips"):
            ips[device_id].append((-last_seen, ip))
        for device_id, name, value, confidence, source in select_rows(
                conn, f"SELECT device_id, name, value, confidence, source FROM attributes WHERE name IN ({names})"):
            key = (name, value, confidence, source)
            attribute = shared.get(key)
            if attribute is None:
                attribute = shared[key] = Attribute(name, value, confidence,
                                                    source=sources.get(source, AttributeSource.OBSERVED))
            attrs[device_id][name] = attribute
        rows = list(select_rows(conn, "SELECT id, key, mac, first_seen, last_seen, sensor FROM devices ORDER BY id"))
    out: list[Device] = []
    for device_id, key, mac, first_seen, last_seen, sensor in rows:
        found = ips.get(device_id)
        addresses = tuple(dict.fromkeys(ip for _, ip in sorted(found))) if found else ()
        out.append(Device(key=key, mac=mac, ips=addresses, first_seen=first_seen, last_seen=last_seen,
                          attributes=attrs.get(device_id, {}), sensor=sensor, id=device_id))
    return out


@dataclass
class DeviceView:
    """One device with what the risk layer reads about it."""

    device: Device
    facts: dict[str, set[str]] = field(default_factory=dict)
    flows: list[FlowRecord] = field(default_factory=list)
    phi_facts: bool = False

    @property
    def id(self) -> int:
        """The inventory id (every stored device has one)."""
        return int(self.device.id or 0)

    def hygiene_context(self) -> HygieneContext:
        """What the hygiene checks read."""
        return HygieneContext(self.device.id, self.facts, self.flows, frozenset(self.device.ips),
                              self.device.value("os"))


def load_views(engine: sa.Engine, devices: Sequence[Device], *, with_flows: bool = True) -> list[DeviceView]:
    """Views of ``devices``: hygiene facts (one query per 2000 devices) and flows (one pass over the table)."""
    views = {int(d.id): DeviceView(d) for d in devices if d.id is not None}
    ids = list(views)
    with engine.connect() as conn:
        for batch in chunks(ids):
            rows = conn.execute(sa.select(t.facts.c.device_id, t.facts.c.kind, t.facts.c.value).where(
                t.facts.c.device_id.in_(batch),
                sa.or_(t.facts.c.kind.in_(HYGIENE_KINDS), t.facts.c.kind.like("dicom.%"),
                       t.facts.c.kind.like("hl7.%"))))
            for device_id, kind, value in rows:
                view = views[int(device_id)]
                if kind.startswith(("dicom.", "hl7.")):
                    view.phi_facts = True
                else:
                    view.facts.setdefault(kind, set()).add(value)
        if with_flows and views:
            attach_flows(views.values(), select_flows(conn))
    return [views[i] for i in ids]


def attach_flows(views: Iterable[DeviceView], flows: Iterable[FlowRecord]) -> None:
    """Give each view the flows one of its addresses (IP or MAC) took part in."""
    by_ip: dict[str, list[DeviceView]] = defaultdict(list)
    by_mac: dict[str, list[DeviceView]] = defaultdict(list)
    for view in views:
        for ip in view.device.ips:
            by_ip[ip].append(view)
        if view.device.mac:
            by_mac[view.device.mac].append(view)
    for flow in flows:
        seen: set[int] = set()
        for view in (*by_ip.get(flow.src_ip, ()), *by_ip.get(flow.dst_ip, ()),
                     *by_mac.get(flow.src_mac or "", ()), *by_mac.get(flow.dst_mac or "", ())):
            if id(view) not in seen:
                seen.add(id(view))
                view.flows.append(flow)


def is_global(ip: str) -> bool:
    """True for an address on the internet (IANA special-purpose registries, RFC 6890)."""
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def internet_peers(view: DeviceView) -> set[str]:
    """Internet addresses the device exchanged traffic with."""
    own = set(view.device.ips)
    out: set[str] = set()
    for flow in view.flows:
        other = flow.dst_ip if flow.src_ip in own else flow.src_ip
        if other and is_global(other):
            out.add(other)
    return out


class ContextBuilder:
    """Builds the score's :class:`DeviceContext` of each view from the settings (parsed once)."""

    def __init__(self, weights: RiskWeights, taxonomy: Taxonomy | None = None) -> None:
        self.weights = weights
        self.taxonomy = taxonomy or default_taxonomy()
        self.zones: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, tuple[str, ...]]] = []
        for cidr, controls in weights.zone_controls.items():
            self.zones.append((ipaddress.ip_network(cidr, strict=False), tuple(c.strip().lower() for c in controls)))
        self._by_device = bool((weights.criticality or {}).get("device"))
        self._clinical: dict[str | None, bool] = {}
        self._criticality: dict[tuple[str | None, ...], tuple[Criticality, str]] = {}

    def clinical(self, device: Device) -> bool:
        """True when the device's class is a medical class (taxonomy group ``clinical``)."""
        name = device.value("device_class")
        found = self._clinical.get(name)
        if found is None:
            found = False
            for cls in self.taxonomy.lineage(name) if name else ():
                found = self.taxonomy.classes[cls].clinical
                break
            self._clinical[name] = found
        return found

    def criticality(self, device: Device) -> tuple[Criticality, str]:
        """The device's criticality and where it came from (computed once per distinct input)."""
        attribute = device.attributes.get("criticality")
        per_device = str(device.id) if self._by_device else None
        key = (attribute.value if attribute is not None else None,
               attribute.source.value if attribute is not None else None, device.value("device_class"),
               device.value("model"), device.value("department"), per_device)
        found = self._criticality.get(key)
        if found is None:
            found = self._criticality[key] = self._criticality_of(device)
        return found

    def _criticality_of(self, device: Device) -> tuple[Criticality, str]:
        attribute = device.attributes.get("criticality")
        if attribute is not None and attribute.value.strip().lower() in CRITICALITY_WORDS:
            return CRITICALITY_WORDS[attribute.value.strip().lower()], f"{attribute.source.value} attribute"
        cls, model = device.value("device_class"), device.value("model")
        level = criticality_for(cls, model, self.weights.criticality or None, device_id=str(device.id),
                                taxonomy=self.taxonomy)
        source = "site override" if self.weights.criticality and level != criticality_for(
            cls, taxonomy=self.taxonomy) else f"taxonomy class {cls}" if cls else "no class known"
        department = device.value("department")
        raised = CRITICALITY_WORDS.get(self.weights.department_criticality.get(department or "", "").lower())
        if raised is not None and raised.rank < level.rank:
            return raised, f"department {department}"
        return level, source

    def controls(self, device: Device) -> tuple[str, ...]:
        """Declared controls: the ``controls`` attribute and the zones holding one of the device's addresses."""
        declared = [c.strip().lower() for c in (device.value("controls") or "").split(",") if c.strip()]
        for ip in device.ips if self.zones else ():
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            for network, controls in self.zones:
                if addr.version == network.version and addr in network:
                    declared.extend(controls)
        return tuple(dict.fromkeys(declared))

    def context(self, view: DeviceView) -> DeviceContext:
        """The score's view of one device."""
        level, source = self.criticality(view.device)
        phi = view.phi_facts or any(f.app in PHI_APPS for f in view.flows)
        return DeviceContext(device_id=view.id, criticality=level.value, criticality_source=source,
                             handles_phi=phi, internet_exposed=bool(internet_peers(view)),
                             controls=self.controls(view.device))

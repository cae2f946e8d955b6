"""Devices, their attributes and the evidence behind each attribute (ARCHITECTURE.md, data model).

A Device is keyed by its MAC where one is seen (``mac:00:1b:63:84:45:e6``), otherwise by a
sensor-scoped IP (``ip:<sensor>/<address>``). Each :class:`Attribute` holds a value, a confidence in
[0, 1], where it came from (``source``) and the :class:`Evidence` list behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class AttributeSource(StrEnum):
    """Where an attribute value came from; a person's value wins over anything inferred."""

    OBSERVED = "observed"  # straight from an Observation (DHCP hostname, SNMP sysDescr ...)
    RULE = "rule"  # a fingerprint rule in identify/rules/
    IMPORT = "import"  # a CMMS / asset-register import
    MANUAL = "manual"  # set by a person in the UI, the API or the CLI


#: Attribute names with a meaning across the program. Others are allowed (protocol details such as
#: ``dhcp.param_list`` are kept under their observation kind).
STANDARD_ATTRIBUTES: tuple[str, ...] = (
    "hostname",
    "vendor",
    "model",
    "device_class",
    "os",
    "firmware",
    "software",
    "serial",
    "udi",
    "asset_tag",
    "department",
    "location",
    "owner",
    "criticality",
    "notes",
    "mac_vendor",
    "mac_randomized",
    "ae_title",
    "role",
    "modality",
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an attribute holds its value: one observation (or rule, import, person) behind it."""

    kind: str
    value: str
    ts: float
    sensor: str
    excerpt: str = ""
    rule: str | None = None

    def identity(self) -> tuple[str, str, str | None]:
        """Two evidences with the same identity are the same fact seen again (kept once)."""
        return (self.kind, self.value, self.rule)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a device with its confidence and evidence."""

    name: str
    value: str
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    source: AttributeSource = AttributeSource.OBSERVED


@dataclass(frozen=True, slots=True)
class Device:
    """A device of the inventory as the rest of the program sees it."""

    key: str
    mac: str | None
    ips: tuple[str, ...]
    first_seen: float
    last_seen: float
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    sensor: str = "local"
    id: int | None = None

    def value(self, name: str) -> str | None:
        """The value of attribute ``name``, or ``None`` when unknown."""
        attribute = self.attributes.get(name)
        return attribute.value if attribute is not None else None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """Something that changed on a device, when, and on what evidence."""

    ts: float
    kind: str  # new_device, ip_added, ip_removed, hostname_changed, attribute_changed ...
    attribute: str | None
    old: str | None
    new: str | None
    evidence: str = ""
    device_id: int | None = None


def device_key(mac: str | None, ip: str | None, sensor: str) -> str:
    """The inventory key of an endpoint: its MAC when seen, else its sensor-scoped IP."""
    if mac:
        return f"mac:{mac}"
    if ip:
        return f"ip:{sensor}/{ip}"
    raise ValueError("an endpoint needs a MAC or an IP")

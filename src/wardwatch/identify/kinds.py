"""Observation kinds → standard device attributes, each with a default confidence.

A kind maps to zero or more attributes; a kind with no mapping is still kept as a fact of the device
(the fingerprint rules read facts, not attributes). The default confidence applies when the dissector
leaves ``Observation.confidence`` unset. Defaults reflect how directly the protocol states the fact:
a name the device chose for itself in DHCP (RFC 2131 option 12) beats one it answered to over NetBIOS;
an inventory TLV the device sends about itself (LLDP-MED, ANSI/TIA-1057 §10.2.6) beats a banner string.

Three families are mapped by shape rather than listed one by one:

* ``import.<attribute>`` (CMMS/asset-register imports) and ``manual.<attribute>`` (a person) map to
  ``<attribute>`` itself with confidence 1.0; their precedence comes from the source, not the confidence.
* any other kind whose last component is a well-known field name (``*.model``, ``*.manufacturer``,
  ``*.serial_number``, ``*.firmware_version`` ...) maps by :data:`SUFFIXES`, so dissectors of clinical
  protocols (SDC, POCT1-A, ASTM, DICOM ...) are covered as their kinds appear.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

Transform = Callable[[str], str]


def _same(value: str) -> str:
    return value.strip()


def _host_label(value: str) -> str:
    """A host name without its domain (``pump-12.icu.example.org`` → ``pump-12``), RFC 1035 §2.3.1."""
    text = value.strip().rstrip(".")
    return text.split(".", 1)[0] if text and not text[0].isdigit() else text


def _mdns_host(value: str) -> str:
    """An mDNS host name without the ``.local`` domain (RFC 6762 §3)."""
    text = value.strip().rstrip(".")
    return text[: -len(".local")] if text.lower().endswith(".local") else text


def _netbios(value: str) -> str:
    """A NetBIOS name without its suffix byte notation (``PC01<00>`` → ``PC01``), RFC 1001 §14.1."""
    text = value.strip()
    cut = text.find("<")
    return (text[:cut] if cut > 0 else text).strip()


@dataclass(frozen=True, slots=True)
class Mapping:
    """One kind → attribute edge."""

    attribute: str
    confidence: float
    transform: Transform = _same


def _m(attribute: str, confidence: float, transform: Transform = _same) -> tuple[Mapping, ...]:
    return (Mapping(attribute, confidence, transform),)


#: Exact kinds. Hostname confidences: DHCP 0.8, DHCP FQDN 0.8, mDNS 0.75, NetBIOS 0.7, LLDP/CDP/SNMP
#: system names (administrator-configured) 0.8, DICOM AE titles are not host names.
KINDS: dict[str, tuple[Mapping, ...]] = {
    # DHCPv4 (RFC 2131/2132), DHCPv6 (RFC 8415, RFC 4704)
    "dhcp.hostname": _m("hostname", 0.8),
    "dhcp.fqdn": (Mapping("hostname", 0.8, _host_label), Mapping("fqdn", 0.8)),
    "dhcp.vendor_class": _m("software", 0.4),
    "dhcp.mud_url": _m("mud_url", 0.9),
    "dhcpv6.fqdn": (Mapping("hostname", 0.75, _host_label), Mapping("fqdn", 0.75)),
    "dhcpv6.vendor_class": _m("software", 0.4),
    # mDNS / DNS-SD (RFC 6762, RFC 6763)
    "mdns.hostname": _m("hostname", 0.75, _mdns_host),
    "mdns.txt.model": _m("model", 0.6),
    "mdns.model": _m("model", 0.6),
    "mdns.txt.manufacturer": _m("vendor", 0.6),
    "mdns.txt.firmware": _m("firmware", 0.6),
    # NetBIOS name service (RFC 1002 §4.2), SMB (MS-SMB2 §2.2.4, MS-SMB §2.2.4.5)
    "netbios.name": _m("hostname", 0.7, _netbios),
    "netbios.hostname": _m("hostname", 0.7, _netbios),
    "smb.dns_computer_name": _m("hostname", 0.75, _host_label),
    "smb.os_version": _m("os", 0.6),
    "smb.native_os": _m("os", 0.7),
    "smb.os": _m("os", 0.7),
    "smb.hostname": _m("hostname", 0.7),
    # LLDP (IEEE 802.1AB §8.5), LLDP-MED inventory (ANSI/TIA-1057 §10.2.6)
    "lldp.system_name": _m("hostname", 0.8, _host_label),
    "lldp.system_description": _m("os", 0.6),
    "lldp.mud_url": _m("mud_url", 0.9),
    "lldp.med.manufacturer": _m("vendor", 0.85),
    "lldp.med.model": _m("model", 0.85),
    "lldp.med.firmware_revision": _m("firmware", 0.85),
    "lldp.med.software_revision": _m("software", 0.8),
    "lldp.med.hardware_revision": _m("hardware", 0.85),
    "lldp.med.serial_number": _m("serial", 0.85),
    "lldp.med.asset_id": _m("asset_tag", 0.7),
    # CDP (Cisco Discovery Protocol v2)
    "cdp.device_id": _m("hostname", 0.8, _host_label),
    "cdp.platform": _m("model", 0.8),
    "cdp.software_version": _m("os", 0.7),
    # SNMP MIB-II system group (RFC 1213 §6.1 / RFC 3418)
    "snmp.sysname": _m("hostname", 0.8, _host_label),
    "snmp.sysdescr": _m("os", 0.65),
    "snmp.sysobjectid": _m("sys_object_id", 0.9),
    "snmp.syslocation": _m("location", 0.6),
    "snmp.syscontact": _m("owner", 0.4),
    # SSDP / UPnP Device Architecture 2.0 §1, §2.3 (device description)
    "ssdp.server": _m("os", 0.5),
    "ssdp.manufacturer": _m("vendor", 0.7),
    "ssdp.model_name": _m("model", 0.7),
    "ssdp.friendly_name": _m("hostname", 0.5),
    "ssdp.user_agent": _m("software", 0.4),
    # IEEE 11073 SDC (DPWS discovery and MDIB metadata)
    "sdc.friendly_name": _m("hostname", 0.5),
    # HTTP (RFC 9110 §10.1.5 User-Agent, §10.2.4 Server)
    "http.user_agent": _m("software", 0.4),
    "http.server": _m("software", 0.5),
    # Banners (RFC 4253 §4.2 SSH identification string; FTP/SMTP/Telnet greetings)
    "ssh.banner": _m("software", 0.5),
    "ssh.software": _m("software", 0.55),
    "ftp.banner": _m("software", 0.45),
    "smtp.banner": _m("software", 0.45),
    "telnet.banner": _m("software", 0.35),
    # TLS certificate of a server (RFC 5280 §4.1.2.6)
    "tls.cert_subject": _m("tls_subject", 0.6),
    # DICOM A-ASSOCIATE (PS3.8 §9.3.2, §D.3.3.2)
    "dicom.ae_title": _m("ae_title", 0.8),
    "dicom.calling_ae": _m("ae_title", 0.8),
    "dicom.called_ae": _m("ae_title", 0.75),
    "dicom.implementation_version": _m("software", 0.6),
    "dicom.implementation_version_name": _m("software", 0.6),
    # HL7 v2 MSH (HL7 v2.5 §2.14.9)
    "hl7.sending_application": _m("software", 0.5),
    "hl7.sending_facility": _m("location", 0.3),
    # Identity columns of imports: facts only (the device key and IP list carry them)
    "import.ip": (),
    "import.mac": (),
    "manual.ip": (),
    # Synthesised by the resolver from the IEEE registry (identify.oui)
    "mac.vendor": (Mapping("mac_vendor", 0.95), Mapping("vendor", 0.5)),
    "mac.randomized": _m("mac_randomized", 1.0),
}

#: Last-component field names shared by many protocols (dissector kinds ``<proto>.<field>``).
SUFFIXES: dict[str, tuple[Mapping, ...]] = {
    "hostname": _m("hostname", 0.6, _host_label),
    "manufacturer": _m("vendor", 0.75),
    "vendor": _m("vendor", 0.7),
    "model": _m("model", 0.75),
    "model_name": _m("model", 0.75),
    "model_number": _m("model", 0.7),
    "serial": _m("serial", 0.75),
    "serial_number": _m("serial", 0.75),
    "udi": _m("udi", 0.85),
    "firmware": _m("firmware", 0.75),
    "firmware_version": _m("firmware", 0.75),
    "firmware_revision": _m("firmware", 0.75),
    "software_version": _m("software", 0.6),
    "hardware_version": _m("hardware", 0.7),
    "os": _m("os", 0.6),
    "ae_title": _m("ae_title", 0.75),
    "modality": _m("modality", 0.75),
}

#: Prefixes whose kinds name the attribute directly, and the confidence they carry.
DIRECT_PREFIXES: dict[str, float] = {"import.": 1.0, "manual.": 1.0}


@functools.lru_cache(maxsize=4096)
def mappings_for(kind: str) -> tuple[Mapping, ...]:
    """The attributes a fact of ``kind`` supports (empty: kept as a fact only)."""
    exact = KINDS.get(kind)
    if exact is not None:
        return exact
    for prefix, confidence in DIRECT_PREFIXES.items():
        if kind.startswith(prefix) and len(kind) > len(prefix):
            return (Mapping(kind[len(prefix) :], confidence),)
    return SUFFIXES.get(kind.rsplit(".", 1)[-1], ()) if "." in kind else ()


def default_confidence(kind: str) -> float:
    """The highest default confidence of the attributes ``kind`` maps to (0.3 for unmapped kinds)."""
    found = mappings_for(kind)
    return max((m.confidence for m in found), default=0.3)

"""Link-local discovery: mDNS (RFC 6762/6763), SSDP (UPnP 1.1), LLDP/LLDP-MED, SDC WS-Discovery Hello."""

from __future__ import annotations

import struct
import uuid
from xml.sax.saxutils import escape

MDNS_MAC = bytes.fromhex("01005e0000fb")
MDNS_IP = bytes((224, 0, 0, 251))
SSDP_MAC = bytes.fromhex("01005e7ffffa")
SSDP_IP = bytes((239, 255, 255, 250))
LLDP_MAC = bytes.fromhex("0180c200000e")


def dns_name(name: str) -> bytes:
    """A domain name as uncompressed labels (RFC 1035 §3.1)."""
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("utf-8")[:63]
        out += bytes((len(raw),)) + raw
    return out + b"\x00"


def _rr(name: str, rtype: int, rdata: bytes, ttl: int = 4500, cache_flush: bool = False) -> bytes:
    cls = 0x8001 if cache_flush else 0x0001  # RFC 6762 §10.2 cache-flush bit
    return dns_name(name) + struct.pack("!HHIH", rtype, cls, ttl, len(rdata)) + rdata


def _txt(items: list[str]) -> bytes:
    return b"".join(bytes((len(s.encode()[:255]),)) + s.encode()[:255] for s in items)


def mdns_announce(service: str, instance: str, host: str, ip: bytes, port: int, txt: list[str]) -> bytes:
    """An unsolicited mDNS response announcing one DNS-SD service (RFC 6762 §8.3, RFC 6763 §4-6)."""
    fqdn_instance = f"{instance}.{service}.local"
    host_local = f"{host}.local"
    answers = [
        _rr(f"{service}.local", 12, dns_name(fqdn_instance)),                              # PTR
        _rr(fqdn_instance, 33, struct.pack("!HHH", 0, 0, port) + dns_name(host_local), 120, True),  # SRV
        _rr(fqdn_instance, 16, _txt(txt), 4500, True),                                       # TXT
        _rr(host_local, 1, ip, 120, True),                                                   # A
    ]
    header = struct.pack("!HHHHHH", 0, 0x8400, 0, len(answers), 0, 0)  # QR=1 AA=1, id 0 (§18.1)
    return header + b"".join(answers)


def mdns_query(services: list[str]) -> bytes:
    """An mDNS one-shot PTR query for service types (RFC 6762 §5.1), QU bit clear."""
    qs = b"".join(dns_name(f"{s}.local") + struct.pack("!HH", 12, 1) for s in services)
    return struct.pack("!HHHHHH", 0, 0, len(services), 0, 0, 0) + qs


def ssdp_notify(ip: str, server: str, device_uuid: str, location_path: str = "/description.xml",
                port: int = 80) -> bytes:
    """An SSDP ssdp:alive NOTIFY for the root device (UPnP Device Architecture 1.1 §1.1.2)."""
    return (
        "NOTIFY * HTTP/1.1\r\n"
        "HOST: 239.255.255.250:1900\r\n"
        "CACHE-CONTROL: max-age=1800\r\n"
        f"LOCATION: http://{ip}:{port}{location_path}\r\n"
        "NT: upnp:rootdevice\r\n"
        "NTS: ssdp:alive\r\n"
        f"SERVER: {server}\r\n"
        f"USN: uuid:{device_uuid}::upnp:rootdevice\r\n\r\n"
    ).encode()


def ssdp_msearch(user_agent: str) -> bytes:
    """An SSDP M-SEARCH for all devices, as Windows' SSDP Discovery service sends it (§1.3.2)."""
    return (
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
        f"ST: ssdp:all\r\nUSER-AGENT: {user_agent}\r\n\r\n"
    ).encode()


def _tlv(t: int, value: bytes) -> bytes:
    return struct.pack("!H", (t << 9) | len(value)) + value  # IEEE 802.1AB §8.4.1: 7-bit type, 9-bit length


def _med(subtype: int, value: bytes) -> bytes:
    return _tlv(127, b"\x00\x12\xbb" + bytes((subtype,)) + value)  # TIA-1057 organizationally specific


def lldp(mac: bytes, port: str, sys_name: str, sys_desc: str, caps: int, enabled: int, *,
         med: dict[str, str] | None = None, voice_vlan: int | None = None, mgmt_ip: bytes | None = None) -> bytes:
    """An LLDPDU (IEEE 802.1AB-2016 §8) with optional LLDP-MED inventory TLVs (ANSI/TIA-1057 §10.2)."""
    pdu = (_tlv(1, b"\x04" + mac) + _tlv(2, b"\x05" + port.encode()) + _tlv(3, struct.pack("!H", 120))
           + _tlv(4, port.encode()) + _tlv(5, sys_name.encode()) + _tlv(6, sys_desc.encode())
           + _tlv(7, struct.pack("!HH", caps, enabled)))
    if mgmt_ip is not None:
        # Management address: length 5, subtype IPv4, the address, ifIndex numbering, if 0, OID length 0.
        pdu += _tlv(8, b"\x05\x01" + mgmt_ip + b"\x02" + struct.pack("!I", 0) + b"\x00")
    if med is not None:
        pdu += _med(1, struct.pack("!HB", 0x0033, 3))  # capabilities: MED caps, network policy, inventory; class III
        if voice_vlan is not None:
            # Network policy: app type 1 (voice), U=0 T=1, VLAN, L2 priority 5, DSCP 46.
            policy = (1 << 24) | (1 << 22) | ((voice_vlan & 0xFFF) << 9) | (5 << 6) | 46
            pdu += _med(2, struct.pack("!I", policy))
        for sub, key in ((5, "hardware"), (6, "firmware"), (7, "software"), (8, "serial"),
                         (9, "manufacturer"), (10, "model")):
            if key in med:
                pdu += _med(sub, med[key].encode())
    return pdu + _tlv(0, b"")


def wsd_hello(endpoint_uuid: str, message_uuid: str, xaddr: str, location_scope: str, instance_id: int,
              extra_scopes: list[str] | None = None) -> bytes:
    """An SDC WS-Discovery Hello (OASIS WS-Discovery 1.1 §4.1, IEEE 11073-20702 §8, 11073-20701 §9.2);
    ``extra_scopes`` such as the MDS type (``sdc.cdc.type:///70001``, 11073-20701 §9.3) follow the location."""
    scopes = " ".join(["sdc.mds.pkp:1.2.840.10004.20701.1.1", escape(location_scope), *map(escape, extra_scopes or [])])
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://www.w3.org/2005/08/addressing" '
        'xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" '
        'xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01" '
        'xmlns:mdpws="http://standards.ieee.org/downloads/11073/11073-20702-2016">'
        "<s12:Header>"
        "<wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action>"
        f"<wsa:MessageID>urn:uuid:{message_uuid}</wsa:MessageID>"
        "<wsa:To>urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01</wsa:To>"
        f'<wsd:AppSequence InstanceId="{instance_id}" MessageNumber="1"/>'
        "</s12:Header><s12:Body><wsd:Hello>"
        f"<wsa:EndpointReference><wsa:Address>urn:uuid:{endpoint_uuid}</wsa:Address></wsa:EndpointReference>"
        "<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types>"
        f"<wsd:Scopes>{scopes}</wsd:Scopes>"
        f"<wsd:XAddrs>{escape(xaddr)}</wsd:XAddrs>"
        "<wsd:MetadataVersion>1</wsd:MetadataVersion>"
        "</wsd:Hello></s12:Body></s12:Envelope>"
    )
    return xml.encode()


def stable_uuid(*parts: object) -> str:
    """A name-based UUID (RFC 4122 §4.3, v5) so the same device always has the same endpoint id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "wardwatch-demo:" + ":".join(map(str, parts))))

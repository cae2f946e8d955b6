"""Zeek logs into the same Observations (and FlowRecords) as the packet path (issue 8).

One function per log ``path`` maps a record to Observations with the observation kinds the dissectors
use (``dhcp.hostname``, ``tls.sni``, ``http.user_agent``, ``snmp.sysdescr`` …), so a site that already
runs Zeek or Security Onion gets the same inventory without a second sensor. Subjects: the originator
(``id.orig_h``) for client facts, the responder (``id.resp_h``) for server facts, ``mac`` where Zeek
logs one (dhcp.log, conn.log with mac-logging).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from wardwatch.domain.flow import PROTO_TCP, PROTO_UDP, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.logs import values
from wardwatch.logs.records import parse_ts

Record = dict[str, Any]
Mapper = Callable[[Record, str], Iterator[Observation]]


def _text(value: Any) -> str | None:
    return values.text(value, unset=("", "-"))  # "-" is Zeek's default #unset_field


def _ip(record: Record, side: str) -> str | None:
    nested = record.get("id")
    if isinstance(nested, dict):  # reshaped logs with a nested id record
        return _text(nested.get(f"{side}_h"))
    return _text(record.get(f"id.{side}_h"))


def _obs(record: Record, sensor: str, kind: str, value: Any, *, ip: str | None = None, mac: str | None = None,
         peer: str | None = None) -> Iterator[Observation]:
    text = _text(value)
    if text is None or (ip is None and mac is None):
        return
    yield Observation(ts=parse_ts(record.get("ts")), sensor=sensor, kind=kind, value=text, mac=mac, ip=ip,
                      peer_ip=peer, excerpt=f"zeek {kind.split('.')[0]}.log", source="zeek")


def dhcp(record: Record, sensor: str) -> Iterator[Observation]:
    """dhcp.log: the client's MAC, host name, FQDN, assigned address, vendor class (when logged)."""
    mac = values.mac(record.get("mac"))
    ip = _text(record.get("assigned_addr")) or _text(record.get("client_addr"))
    yield from _obs(record, sensor, "dhcp.hostname", record.get("host_name"), mac=mac, ip=ip)
    yield from _obs(record, sensor, "dhcp.fqdn", record.get("client_fqdn"), mac=mac, ip=ip)
    yield from _obs(record, sensor, "dhcp.assigned_ip", record.get("assigned_addr"), mac=mac, ip=ip)
    yield from _obs(record, sensor, "dhcp.requested_ip", record.get("requested_addr"), mac=mac, ip=ip)
    yield from _obs(record, sensor, "dhcp.vendor_class", record.get("client_software")
                    or record.get("vendor_class"), mac=mac, ip=ip)
    yield from _obs(record, sensor, "dhcp.param_list", record.get("params") or record.get("param_list"),
                    mac=mac, ip=ip)


def dns(record: Record, sensor: str) -> Iterator[Observation]:
    """dns.log: names a client asked for (unicast), names an mDNS responder announced."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    query = _text(record.get("query"))
    port = str(record.get("id.resp_p") or values.obj(record.get("id")).get("resp_p", ""))
    if port == "5353" or (query or "").endswith(".local"):
        yield from _obs(record, sensor, "mdns.query", query, ip=orig)
        for answer in record.get("answers") or []:
            if isinstance(answer, str) and answer.startswith("_") and answer.endswith(".local"):
                yield from _obs(record, sensor, "mdns.service", answer, ip=orig)
    else:
        yield from _obs(record, sensor, "dns.query", query, ip=orig, peer=resp)


def http(record: Record, sensor: str) -> Iterator[Observation]:
    """http.log: User-Agent and Host of the client, Server of the responder (when logged)."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "http.user_agent", record.get("user_agent"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "http.host", record.get("host"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "http.server", record.get("server"), ip=resp, peer=orig)
    if _text(record.get("username")):
        yield from _obs(record, sensor, "http.basic_auth", record.get("username"), ip=orig, peer=resp)


_TLS_VERSIONS = {"TLSv10": "TLS 1.0", "TLSv11": "TLS 1.1", "TLSv12": "TLS 1.2", "TLSv13": "TLS 1.3",
                 "SSLv3": "SSL 3.0", "SSLv2": "SSL 2.0", "DTLSv10": "DTLS 1.0", "DTLSv12": "DTLS 1.2"}


def ssl(record: Record, sensor: str) -> Iterator[Observation]:
    """ssl.log: SNI and JA3/JA4 of the client; negotiated version, JA3S and certificate of the server."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "tls.sni", record.get("server_name"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "tls.ja3", record.get("ja3"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "tls.ja4", record.get("ja4"), ip=orig, peer=resp)
    version = _text(record.get("version"))
    if version:
        yield from _obs(record, sensor, "tls.version", _TLS_VERSIONS.get(version, version), ip=resp, peer=orig)
    yield from _obs(record, sensor, "tls.ja3s", record.get("ja3s"), ip=resp, peer=orig)
    yield from _obs(record, sensor, "tls.cert_subject", record.get("subject"), ip=resp, peer=orig)
    yield from _obs(record, sensor, "tls.cert_issuer", record.get("issuer"), ip=resp, peer=orig)


def snmp(record: Record, sensor: str) -> Iterator[Observation]:
    """snmp.log: the agent's sysDescr (display_string), the version and community in use."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "snmp.sysdescr", record.get("display_string"), ip=resp, peer=orig)
    yield from _obs(record, sensor, "snmp.version", record.get("version"), ip=resp, peer=orig)
    yield from _obs(record, sensor, "snmp.community", record.get("community"), ip=resp, peer=orig)


def software(record: Record, sensor: str) -> Iterator[Observation]:
    """software.log: what software Zeek recognised on a host (``zeek.software.<type>``)."""
    kind = str(record.get("software_type") or "UNKNOWN").split("::")[-1].lower()
    value = record.get("unparsed_version") or record.get("name")
    yield from _obs(record, sensor, f"zeek.software.{kind}", value, ip=_text(record.get("host")))


def known_hosts(record: Record, sensor: str) -> Iterator[Observation]:
    """known_hosts.log: a host exists."""
    host = _text(record.get("host"))
    yield from _obs(record, sensor, "net.ip", host, ip=host)


def known_services(record: Record, sensor: str) -> Iterator[Observation]:
    """known_services.log: a host offers a service."""
    host = _text(record.get("host"))
    proto = _text(record.get("port_proto")) or "tcp"
    service = _text(record.get("service"))
    label = f"{proto}/{record.get('port_num')}" + (f" {service.lower()}" if service else "")
    yield from _obs(record, sensor, "net.service", label, ip=host)


def ntlm(record: Record, sensor: str) -> Iterator[Observation]:
    """ntlm.log: the client's host name and domain; the server's NetBIOS and DNS names."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "netbios.name", record.get("hostname"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "smb.domain", record.get("domainname"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "netbios.name", record.get("server_nb_computer_name"), ip=resp, peer=orig)
    yield from _obs(record, sensor, "smb.dns_name", record.get("server_dns_computer_name"), ip=resp, peer=orig)


def smb_mapping(record: Record, sensor: str) -> Iterator[Observation]:
    """smb_mapping.log: the server offers SMB shares (service type, native file system)."""
    resp = _ip(record, "resp")
    yield from _obs(record, sensor, "smb.share_type", record.get("share_type"), ip=resp)


def ssh(record: Record, sensor: str) -> Iterator[Observation]:
    """ssh.log: client and server software banners."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "ssh.banner", record.get("client"), ip=orig, peer=resp)
    yield from _obs(record, sensor, "ssh.banner", record.get("server"), ip=resp, peer=orig)


def ftp(record: Record, sensor: str) -> Iterator[Observation]:
    """ftp.log: a user logged in over clear-text FTP (the password is never kept)."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "ftp.user", record.get("user"), ip=orig, peer=resp)
    if _text(record.get("password")):
        yield from _obs(record, sensor, "ftp.cleartext_password", "true", ip=orig, peer=resp)


def ntp(record: Record, sensor: str) -> Iterator[Observation]:
    """ntp.log: NTP servers (mode 4) with their stratum."""
    resp = _ip(record, "resp")
    if str(record.get("mode")) == "4":
        yield from _obs(record, sensor, "ntp.stratum", record.get("stratum"), ip=resp)


def _rejected(record: Record) -> bool:
    """Zeek's ``conn_state`` REJ: the connection attempt was rejected (the responder answered the SYN with
    a reset, RFC 9293 §3.10.7.1: a closed port)."""
    return (_text(record.get("proto")) or "tcp") == "tcp" and _text(record.get("conn_state")) == "REJ"


def conn(record: Record, sensor: str) -> Iterator[Observation]:
    """conn.log: who owns which address (with mac-logging) and which services answered."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    yield from _obs(record, sensor, "net.ip", orig, ip=orig, mac=values.mac(record.get("orig_l2_addr")))
    resp_pkts = record.get("resp_pkts")
    if resp_pkts not in (None, "0", 0, "-"):
        proto = _text(record.get("proto")) or "tcp"
        service = _text(record.get("service"))
        port = record.get("id.resp_p") or values.obj(record.get("id")).get("resp_p")
        label = f"{proto}/{port}" + (f" {service.split(',')[0]}" if service else "")
        yield from _obs(record, sensor, "net.ip", resp, ip=resp, mac=values.mac(record.get("resp_l2_addr")))
        if not _rejected(record):  # a reset to a SYN says the host is there, not that the port serves
            yield from _obs(record, sensor, "net.service", label, ip=resp)


def conn_flow(record: Record, sensor: str) -> FlowRecord | None:
    """A conn.log record as a FlowRecord (None when the 5-tuple is incomplete)."""
    orig, resp = _ip(record, "orig"), _ip(record, "resp")
    proto = {"tcp": PROTO_TCP, "udp": PROTO_UDP, "icmp": 1}.get(str(record.get("proto")))
    if not orig or not resp or proto is None:
        return None
    nested = values.obj(record.get("id"))

    def num(name: str) -> int:
        return values.integer(record.get(name))

    ts = parse_ts(record.get("ts"))
    try:
        duration = float(record.get("duration") or 0.0)
    except (TypeError, ValueError):
        duration = 0.0
    sport = values.integer(record.get("id.orig_p", nested.get("orig_p", 0)))
    dport = values.integer(record.get("id.resp_p", nested.get("resp_p", 0)))
    service = _text(record.get("service"))
    return FlowRecord(
        src_ip=orig, dst_ip=resp, proto=proto, src_port=sport, dst_port=dport,
        src_mac=values.mac(record.get("orig_l2_addr")), dst_mac=values.mac(record.get("resp_l2_addr")),
        first_seen=ts, last_seen=ts + duration, packets_fwd=num("orig_pkts"), packets_rev=num("resp_pkts"),
        bytes_fwd=num("orig_ip_bytes"), bytes_rev=num("resp_ip_bytes"),
        app=service.split(",")[0].lower() if service else None, sensor=sensor,
        refused=proto == PROTO_TCP and _rejected(record),
    )


MAPPERS: dict[str, Mapper] = {
    "dhcp": dhcp, "dns": dns, "http": http, "ssl": ssl, "snmp": snmp, "software": software,
    "known_hosts": known_hosts, "known_services": known_services, "ntlm": ntlm, "smb_mapping": smb_mapping,
    "ssh": ssh, "ftp": ftp, "ntp": ntp, "conn": conn,
}

"""Suricata EVE JSON into Observations and FlowRecords (issue 8).

Event types: flow (→ FlowRecord and ``net.*`` facts), dhcp, dns (v1, v2 and v3 schemas), http, tls, smb,
snmp, ssh, ftp, smtp, alert and anomaly (kept as ``ids.alert`` / ``ids.anomaly`` facts on the endpoints,
for detection to pick up). ``ether.src_mac``/``dest_mac`` are used when Suricata logs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wardwatch.domain.flow import PROTO_TCP, PROTO_UDP, FlowRecord
from wardwatch.domain.observation import Observation, clip
from wardwatch.logs import values
from wardwatch.logs.records import parse_ts

Record = dict[str, Any]


def _text(value: Any) -> str | None:
    return values.text(value)


class _Event:
    """One EVE record with helpers to emit facts about its client or server side."""

    def __init__(self, record: Record, sensor: str) -> None:
        self.record, self.sensor = record, sensor
        self.ts = parse_ts(record.get("timestamp"))
        ether = values.obj(record.get("ether"))
        self.src_ip, self.dst_ip = _text(record.get("src_ip")), _text(record.get("dest_ip"))
        self.src_mac, self.dst_mac = values.mac(ether.get("src_mac")), values.mac(ether.get("dest_mac"))

    def section(self, name: str) -> dict[str, Any]:
        """The record's ``name`` object (``{}`` when absent or not an object)."""
        return values.obj(self.record.get(name))

    def about(self, side: str, kind: str, value: Any, excerpt: str = "") -> Iterator[Observation]:
        """One Observation about the client (``side="src"``) or server (``"dst"``) when both are known."""
        text = _text(value)
        if text is None:
            return
        ip, mac, peer = ((self.src_ip, self.src_mac, self.dst_ip) if side == "src"
                         else (self.dst_ip, self.dst_mac, self.src_ip))
        if ip is None and mac is None:
            return
        yield Observation(ts=self.ts, sensor=self.sensor, kind=kind, value=text, mac=mac, ip=ip, peer_ip=peer,
                          excerpt=excerpt or f"suricata {self.record.get('event_type')}", source="suricata")


def _dhcp(e: _Event) -> Iterator[Observation]:
    d = e.section("dhcp")
    mac = values.mac(d.get("client_mac"))
    ip = _text(d.get("assigned_ip")) or _text(d.get("client_ip"))
    if mac in (None,) and ip is None:
        return
    for kind, key in (("dhcp.hostname", "hostname"), ("dhcp.vendor_class", "vendor_class_identifier"),
                      ("dhcp.assigned_ip", "assigned_ip"), ("dhcp.requested_ip", "requested_ip"),
                      ("dhcp.client_id", "client_id")):
        value = _text(d.get(key))
        if value and (ip or mac):
            yield Observation(ts=e.ts, sensor=e.sensor, kind=kind, value=value, mac=mac,
                              ip=ip if ip not in ("0.0.0.0",) else None, excerpt="suricata dhcp", source="suricata")
    params = d.get("params")
    if isinstance(params, list) and params:
        yield Observation(ts=e.ts, sensor=e.sensor, kind="dhcp.param_list_names",
                          value=clip(",".join(map(str, params))), mac=mac, ip=ip, excerpt="suricata dhcp",
                          source="suricata")


def _dns(e: _Event) -> Iterator[Observation]:
    d = e.section("dns")
    names: list[Any] = []
    if d.get("type") == "query" or "queries" in d or d.get("type") == "request":
        if isinstance(d.get("queries"), list):
            names += [q.get("rrname") for q in d["queries"] if isinstance(q, dict) and q.get("rrname")]
        elif d.get("rrname"):
            names.append(d["rrname"])
    for name in names:
        yield from e.about("src", "mdns.query" if str(name).endswith(".local") else "dns.query", name)


def _http(e: _Event) -> Iterator[Observation]:
    h = e.section("http")
    yield from e.about("src", "http.user_agent", h.get("http_user_agent"))
    yield from e.about("src", "http.host", h.get("hostname"))
    yield from e.about("dst", "http.server", h.get("server"))


_TLS = {"TLSv1": "TLS 1.0", "TLS 1.0": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLS 1.1": "TLS 1.1",
        "TLSv1.2": "TLS 1.2", "TLS 1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3", "TLS 1.3": "TLS 1.3", "SSLv3": "SSL 3.0",
        "SSLv2": "SSL 2.0"}


def _tls(e: _Event) -> Iterator[Observation]:
    t = e.section("tls")
    yield from e.about("src", "tls.sni", t.get("sni"))
    ja3 = values.obj(t.get("ja3"))
    yield from e.about("src", "tls.ja3", ja3.get("hash"))
    yield from e.about("src", "tls.ja4", t.get("ja4"))
    version = _text(t.get("version"))
    if version:
        yield from e.about("dst", "tls.version", _TLS.get(version, version))
    yield from e.about("dst", "tls.cert_subject", t.get("subject"))
    yield from e.about("dst", "tls.cert_issuer", t.get("issuerdn"))
    yield from e.about("dst", "tls.cert_not_after", t.get("notafter"))
    yield from e.about("dst", "tls.cert_not_before", t.get("notbefore"))
    if t.get("subject") and t.get("subject") == t.get("issuerdn"):
        yield from e.about("dst", "tls.cert_self_signed", "true")


def _smb(e: _Event) -> Iterator[Observation]:
    s = e.section("smb")
    dialects = [str(d) for d in s.get("client_dialects") or [] if isinstance(d, str)]
    if dialects:
        yield from e.about("src", "smb.dialects", ",".join(dialects))
    dialect = _text(s.get("dialect"))
    if dialect:
        yield from e.about("dst", "smb.dialect", dialect)
    smb1 = any(not d.upper().startswith("SMB 2") for d in dialects) or str(s.get("command", "")).startswith("SMB1")
    if smb1:
        yield from e.about("src", "smb.v1", "true")
        yield from e.about("dst", "smb.v1", "true")


def _snmp(e: _Event) -> Iterator[Observation]:
    s = e.section("snmp")
    agent = "src" if str(s.get("pdu_type", "")).endswith(("response", "trap", "report")) else "dst"
    yield from e.about(agent, "snmp.version", s.get("version"))
    yield from e.about(agent, "snmp.community", s.get("community"))


def _ssh(e: _Event) -> Iterator[Observation]:
    s = e.section("ssh")
    for side, key in (("src", "client"), ("dst", "server")):
        part = values.obj(s.get(key))
        if part.get("software_version"):
            yield from e.about(side, "ssh.banner", f"SSH-{part.get('proto_version', '2.0')}-{part['software_version']}")


def _ftp(e: _Event) -> Iterator[Observation]:
    f = e.section("ftp")
    if str(f.get("command", "")).upper() == "USER":
        yield from e.about("src", "ftp.user", f.get("command_data"))
    if str(f.get("command", "")).upper() == "PASS":
        yield from e.about("src", "ftp.cleartext_password", "true")


def _smtp(e: _Event) -> Iterator[Observation]:
    yield from e.about("src", "smtp.ehlo", e.section("smtp").get("helo"))


def _alert(e: _Event) -> Iterator[Observation]:
    a = e.section("alert")
    label = f"{a.get('signature_id', '')} {a.get('signature', '')}".strip()
    yield from e.about("src", "ids.alert", label)


def _anomaly(e: _Event) -> Iterator[Observation]:
    a = e.section("anomaly")
    yield from e.about("src", "ids.anomaly", f"{a.get('type', '')} {a.get('event', '')}".strip())


def _refused(record: Record) -> bool:
    """A TCP attempt the responder refused: it answered only with resets (RFC 9293 §3.10.7.1, a closed
    port). Suricata's ``tcp.tcp_flags_tc`` is the hex OR of the TCP flags seen towards the client: a reset
    (0x04) without a SYN (0x02) there means no SYN-ACK ever came back."""
    if str(record.get("proto", "")).upper() != "TCP":
        return False
    tcp = record.get("tcp")
    flags = tcp.get("tcp_flags_tc") if isinstance(tcp, dict) else None
    try:
        to_client = int(str(flags), 16)
    except ValueError:
        return False
    return bool(to_client & 0x04) and not to_client & 0x02


def _flow(e: _Event) -> Iterator[Observation]:
    f = e.section("flow")
    yield from e.about("src", "net.ip", e.src_ip)
    if values.integer(f.get("pkts_toclient")) > 0:
        yield from e.about("dst", "net.ip", e.dst_ip)
        proto = str(e.record.get("proto", "")).lower()
        app = _text(e.record.get("app_proto"))
        if proto in ("tcp", "udp") and e.record.get("dest_port") and not _refused(e.record):
            label = f"{proto}/{e.record['dest_port']}" + (f" {app}" if app and app != "failed" else "")
            yield from e.about("dst", "net.service", label)


MAPPERS = {"dhcp": _dhcp, "dns": _dns, "http": _http, "tls": _tls, "smb": _smb, "snmp": _snmp, "ssh": _ssh,
           "ftp": _ftp, "smtp": _smtp, "alert": _alert, "anomaly": _anomaly, "flow": _flow}


def eve_observations(record: Record, sensor: str) -> Iterator[Observation]:
    """Observations of one EVE record (nothing for event types that carry no identity)."""
    mapper = MAPPERS.get(str(record.get("event_type")))
    if mapper is not None:
        yield from mapper(_Event(record, sensor))


def eve_flow(record: Record, sensor: str) -> FlowRecord | None:
    """An EVE ``flow`` record as a FlowRecord."""
    if record.get("event_type") != "flow":
        return None
    e = _Event(record, sensor)
    proto = {"TCP": PROTO_TCP, "UDP": PROTO_UDP, "ICMP": 1}.get(str(record.get("proto", "")).upper())
    if not e.src_ip or not e.dst_ip or proto is None:
        return None
    f = e.section("flow")

    def num(key: str) -> int:
        return values.integer(f.get(key))

    app = _text(record.get("app_proto"))
    return FlowRecord(
        src_ip=e.src_ip, dst_ip=e.dst_ip, proto=proto, src_port=values.integer(record.get("src_port")),
        dst_port=values.integer(record.get("dest_port")), src_mac=e.src_mac, dst_mac=e.dst_mac,
        first_seen=parse_ts(f.get("start")) or e.ts, last_seen=parse_ts(f.get("end")) or e.ts,
        packets_fwd=num("pkts_toserver"), packets_rev=num("pkts_toclient"), bytes_fwd=num("bytes_toserver"),
        bytes_rev=num("bytes_toclient"), app=app if app and app != "failed" else None, sensor=sensor,
        refused=num("pkts_toclient") > 0 and _refused(record),
    )

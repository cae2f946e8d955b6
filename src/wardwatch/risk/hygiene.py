"""Hygiene findings from observed behaviour (issue 4): what the traffic shows a device doing badly.

Each check reads the device's facts (distinct observations, ``kind → values``) and the flows it took part
in, and returns :class:`~wardwatch.domain.finding.Finding` objects of kind HYGIENE with an explanation that
quotes the evidence (never a secret: a password is never kept, a community string only when it is a
well-known default).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from wardwatch.domain.finding import Finding, FindingKind, FindingStatus
from wardwatch.domain.flow import PROTO_TCP, FlowRecord

Facts = Mapping[str, Collection[str]]

#: Operating systems past their vendor's end of support (Microsoft lifecycle, Red Hat, Apple).
EOL_OS = re.compile(
    r"windows\s*(?:nt|2000|xp|vista|7\b|8\b|8\.1|server\s*200[038]|server\s*2012|embedded\s*(?:standard\s*)?200[79]"
    r"|ce\b)|centos\s*[4-7]\b|red\s*hat.*\b[4-6]\.\d|mac\s*os\s*x\s*10\.(?:[0-9]|1[0-3])\b|linux\s*2\.[46]\.",
    re.IGNORECASE,
)
#: Remote-access tools by the names of their cloud services (TLS SNI, DNS) and their ports.
REMOTE_ACCESS_NAMES = {
    "teamviewer": "TeamViewer", "anydesk": "AnyDesk", "logmein": "LogMeIn", "splashtop": "Splashtop",
    "bomgar": "BeyondTrust/Bomgar", "beyondtrustcloud": "BeyondTrust", "screenconnect": "ConnectWise ScreenConnect",
    "rustdesk": "RustDesk", "gotoassist": "GoTo Assist", "axeda": "PTC Axeda", "vnc": "VNC",
}
REMOTE_ACCESS_PORTS = {3389: "RDP", 5900: "VNC", 5800: "VNC (HTTP)", 5938: "TeamViewer", 7070: "AnyDesk"}
DEFAULT_COMMUNITIES = frozenset({"public", "private", "community", "admin", "default", "cisco", "manager"})
CLINICAL_CLEARTEXT_APPS = frozenset({"dicom", "hl7"})


@dataclass(frozen=True)
class HygieneContext:
    """What a check reads about one device."""

    device_id: int | None
    facts: Facts
    flows: Sequence[FlowRecord]
    device_ips: frozenset[str]
    os: str | None = None


def _finding(ctx: HygieneContext, title: str, severity: str, explanation: str, confidence: float = 0.9
             ) -> Finding:
    return Finding(device_id=ctx.device_id, kind=FindingKind.HYGIENE, status=FindingStatus.AFFECTED,
                   severity=severity, explanation=explanation, confidence=confidence, title=title)


def _values(ctx: HygieneContext, kind: str) -> list[str]:
    return sorted(ctx.facts.get(kind, ()))


def cleartext_credentials(ctx: HygieneContext) -> Iterable[Finding]:
    """Telnet, FTP passwords, HTTP basic auth and SNMP community strings sent in clear."""
    if _values(ctx, "telnet.seen"):
        yield _finding(ctx, "Telnet in use", "high",
                       "Telnet sessions carry logins and commands in clear text (telnet.seen).")
    if _values(ctx, "ftp.cleartext_password") or _values(ctx, "ftp.user"):
        users = ", ".join(_values(ctx, "ftp.user")[:3])
        yield _finding(ctx, "FTP login in clear text", "high",
                       f"FTP USER/PASS seen in clear{f' (user {users})' if users else ''}.")
    if _values(ctx, "http.basic_auth"):
        yield _finding(ctx, "HTTP basic authentication without TLS", "high",
                       "HTTP Authorization: Basic seen in clear for user "
                       f"{', '.join(_values(ctx, 'http.basic_auth')[:3])}.")
    communities = _values(ctx, "snmp.community")
    if communities:
        defaults = [c for c in communities if c.lower() in DEFAULT_COMMUNITIES]
        detail = f"default community {', '.join(defaults)}" if defaults else "a community string"
        yield _finding(ctx, "SNMP v1/v2c community string in clear", "high" if defaults else "medium",
                       f"SNMP v1/v2c authenticates with {detail} sent in clear text.")


def smb_v1(ctx: HygieneContext) -> Iterable[Finding]:
    """SMBv1 offered or used (the protocol of EternalBlue/WannaCry, MS17-010)."""
    if "true" in ctx.facts.get("smb.v1", ()):
        yield _finding(ctx, "SMBv1 in use", "high",
                       "SMB1 dialects were negotiated or offered (smb.v1); SMBv1 is deprecated and was the "
                       "vector of WannaCry (MS17-010).")


def weak_tls(ctx: HygieneContext) -> Iterable[Finding]:
    """TLS below 1.2, expired or self-signed certificates."""
    old = [v for v in _values(ctx, "tls.version") if v.upper().startswith(("SSL", "TLS 1.0", "TLS 1.1", "TLSV1.0",
                                                                          "TLSV1.1", "TLS1.0", "TLS1.1"))]
    if old:
        yield _finding(ctx, "TLS below 1.2", "medium",
                       f"Negotiated {', '.join(old)} (RFC 8996 deprecates TLS 1.0/1.1).")
    if "true" in ctx.facts.get("tls.cert_self_signed", ()):
        yield _finding(ctx, "Self-signed TLS certificate", "low",
                       "The device presents a self-signed certificate; clients cannot authenticate it.", 0.8)
    import datetime as dt

    now = dt.datetime.now(dt.UTC).isoformat()
    expired = [v for v in _values(ctx, "tls.cert_not_after") if v and v < now]
    if expired:
        yield _finding(ctx, "Expired TLS certificate", "medium", f"Certificate expired on {expired[0]}.")


def end_of_life_os(ctx: HygieneContext) -> Iterable[Finding]:
    """An operating system past end of support."""
    candidates = [ctx.os or "", *_values(ctx, "smb.os_version"), *_values(ctx, "http.user_agent"),
                  *_values(ctx, "snmp.sysdescr")]
    for text in candidates:
        match = EOL_OS.search(text)
        if match:
            yield _finding(ctx, "End-of-life operating system", "high",
                           f"'{match.group(0)}' is past its vendor's end of support (seen in: {text[:80]}).", 0.8)
            return


def _subnet(ip: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return ipaddress.ip_network(f"{ip}/{24 if addr.version == 4 else 64}", strict=False)


def clinical_cleartext_across_subnets(ctx: HygieneContext) -> Iterable[Finding]:
    """DICOM or HL7 without TLS between different subnets (PHI crossing the network in clear)."""
    crossing: set[str] = set()
    for flow in ctx.flows:
        if flow.app in CLINICAL_CLEARTEXT_APPS and _subnet(flow.src_ip) != _subnet(flow.dst_ip):
            crossing.add(f"{flow.app.upper()} {flow.src_ip}→{flow.dst_ip}:{flow.dst_port}")
    if crossing:
        yield _finding(ctx, "DICOM/HL7 in clear across subnets", "medium",
                       "Clinical data crosses subnets without TLS: " + "; ".join(sorted(crossing)[:3]) + ".")


def internet_traffic(ctx: HygieneContext) -> Iterable[Finding]:
    """The device talks to addresses on the internet."""
    external: set[str] = set()
    for flow in ctx.flows:
        other = flow.dst_ip if flow.src_ip in ctx.device_ips else flow.src_ip
        try:
            addr = ipaddress.ip_address(other)
        except ValueError:
            continue
        if addr.is_global:
            external.add(other)
    if external:
        yield _finding(ctx, "Talks to the internet", "medium",
                       f"Traffic with {len(external)} internet address(es), "
                       f"e.g. {', '.join(sorted(external)[:3])}.", 0.85)


def remote_access(ctx: HygieneContext) -> Iterable[Finding]:
    """Remote-access tools (by their cloud names or ports)."""
    names = [*_values(ctx, "tls.sni"), *_values(ctx, "dns.query"), *_values(ctx, "http.host")]
    tools = sorted({label for n in names for key, label in REMOTE_ACCESS_NAMES.items() if key in n.lower()})
    for flow in ctx.flows:
        if flow.proto == PROTO_TCP and flow.dst_port in REMOTE_ACCESS_PORTS and flow.packets_rev:
            tools.append(f"{REMOTE_ACCESS_PORTS[flow.dst_port]} (tcp/{flow.dst_port})")
    if tools:
        yield _finding(ctx, "Remote-access tool", "medium",
                       f"Remote access seen: {', '.join(sorted(set(tools))[:4])}. Check it is approved and "
                       "covered by the vendor's remote-service agreement.", 0.8)


def _says_no(value: object) -> bool:
    """An MDS2 capability answered "No" (``False`` in the profile, or the word itself)."""
    return value is False or str(value).strip().lower() in ("no", "n", "false")


def mds2_contradictions(ctx: HygieneContext, mds2: Mapping[str, object] | None) -> Iterable[Finding]:
    """The MDS2 form (ANSI/NEMA HN 1-2019) contradicts observed traffic.

    RMOT-1 "remote service" answered No while remote access is seen; CONN-6 "internet required" answered
    No (or CONN-1 "network capable" No) while the device talks to the internet.
    """
    if not mds2:
        return
    remote = list(remote_access(ctx))
    if remote and (_says_no(mds2.get("remote_service")) or _says_no(mds2.get("remote_access"))):
        yield _finding(ctx, "MDS2 contradiction: remote service", "medium",
                       "The manufacturer's MDS2 form answers 'no' to remote service (RMOT-1), but traffic shows: "
                       + remote[0].explanation)
    internet = list(internet_traffic(ctx))
    if internet and (_says_no(mds2.get("internet_required")) or _says_no(mds2.get("network_capable"))):
        yield _finding(ctx, "MDS2 contradiction: internet use", "medium",
                       "The manufacturer's MDS2 form says the device needs no internet connection (CONN-6), but "
                       + internet[0].explanation[0].lower() + internet[0].explanation[1:])


CHECKS: tuple[Callable[[HygieneContext], Iterable[Finding]], ...] = (
    cleartext_credentials, smb_v1, weak_tls, end_of_life_os, clinical_cleartext_across_subnets,
    internet_traffic, remote_access,
)


def hygiene_findings(ctx: HygieneContext, mds2: Mapping[str, object] | None = None) -> list[Finding]:
    """Every hygiene finding for one device."""
    out: list[Finding] = []
    for check in CHECKS:
        out.extend(check(ctx))
    out.extend(mds2_contradictions(ctx, mds2))
    return out

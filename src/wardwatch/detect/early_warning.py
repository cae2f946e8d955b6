"""Early warning: a new advisory, KEV entry or indicator is matched against the inventory and the stored
flows at once, and raises one alert naming every affected device, routed to the teams that own them.

* **advisory** (CSAF, NVD, CVE 5): the knowledge base's :class:`~wardwatch.intel.match.Matcher` over every
  device; one alert per advisory listing the affected and possibly affected devices (dedup key
  ``early-warning:advisory:<source>:<id>``, so a re-import does not raise it twice);
* **KEV entry**: the advisories naming the CVE, matched the same way; one alert per CVE;
* **indicator** (IP, domain, JA3/JA4, certificate hash): the flows and device facts of the last N days;
  one alert per indicator listing the devices that talked to it, with the flows as evidence and the
  indicator's TLP in ``details["tlp"]`` (the routing refuses to send AMBER/RED to uncleared recipients).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from wardwatch.alerting.lifecycle import AlertDesk, Raised
from wardwatch.detect.interface import describe
from wardwatch.domain.advisory import Advisory, KevEntry
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.device import Device
from wardwatch.domain.finding import Finding, FindingStatus
from wardwatch.domain.flow import FlowRecord
from wardwatch.intel.indicators import ThreatIndicator, url_host
from wardwatch.intel.match import Matcher
from wardwatch.intel.service import ImportReport, import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import tables as t
from wardwatch.inventory.repository import Inventory

ADVISORY_RULE = "early-warning-advisory"
KEV_RULE = "early-warning-kev"
INDICATOR_RULE = "early-warning-indicator"
_HIT = (FindingStatus.AFFECTED, FindingStatus.POSSIBLY_AFFECTED)
#: Device facts that name a peer by name or fingerprint, per indicator kind.
_FACTS = {"domain": ("dns.query", "http.host", "tls.sni"), "ja3": ("tls.ja3",), "ja4": ("tls.ja4",),
          "cert_sha256": ("tls.cert_sha256",)}
MAX_EVIDENCE = 25


def _severity(score: float | None, kev: bool) -> Severity:
    level = (Severity.CRITICAL if score is not None and score >= 9.0 else Severity.HIGH if score is not None
             and score >= 7.0 else Severity.MEDIUM if score is not None and score >= 4.0 else Severity.LOW)
    return max(level, Severity.HIGH) if kev else level


def _ref(device: Device) -> str:
    return device.key


@dataclass
class EarlyWarning:
    """Matches what just arrived against what the hospital has, and raises the alerts."""

    inventory: Inventory
    desk: AlertDesk
    kb: KnowledgeBase | None = None
    window_days: float = 30.0
    raised: list[Raised] = field(default_factory=list)

    # -- advisories ----------------------------------------------------------------------------------
    def on_advisories(self, advisories: Sequence[Advisory], now: float, *, kev: Iterable[str] = ()) -> list[Raised]:
        """One alert per advisory that touches any device."""
        devices = self.inventory.list_devices()
        findings = Matcher(advisories).match_devices(devices)
        by_id = {str(d.id): d for d in devices} | {d.key: d for d in devices}
        kev_cves = set(kev) or (set(self.kb.kev()) if self.kb is not None else set())
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            if finding.status in _HIT and finding.advisory:
                grouped[finding.advisory].append(finding)
        alerts = []
        touched: list[Device] = []
        for advisory in advisories:
            hits = grouped.get(advisory.id, [])
            if not hits:
                continue
            affected = sorted({str(f.device_id) for f in hits if f.status is FindingStatus.AFFECTED})
            possibly = sorted({str(f.device_id) for f in hits} - set(affected))
            members = [by_id[i] for i in affected + possibly if i in by_id]
            touched.extend(members)
            cves = sorted({f.cve for f in hits if f.cve})
            score = max((f.cvss_score for f in hits if f.cvss_score is not None), default=None)
            in_kev = sorted(set(cves) & kev_cves)
            evidence = [f"{by_id[str(f.device_id)].key}: {f.explanation}" for f in hits if str(f.device_id) in by_id]
            alerts.append(Alert(
                rule=ADVISORY_RULE, severity=_severity(score, bool(in_kev)),
                title=f"{advisory.id}: {len(members)} device(s) affected — {advisory.title}"[:300],
                devices=tuple(_ref(d) for d in members), evidence=tuple(e[:300] for e in evidence[:MAX_EVIDENCE]),
                dedup_key=f"early-warning:advisory:{advisory.source}:{advisory.id}"[:300], ts=now,
                details={"advisory": advisory.id, "source": advisory.source, "cves": cves, "kev": in_kev,
                         "affected": [by_id[i].key for i in affected if i in by_id],
                         "possibly_affected": [by_id[i].key for i in possibly if i in by_id],
                         "url": advisory.url}))
        return self._raise(alerts, touched, now)

    def on_kev(self, entries: Iterable[KevEntry], now: float) -> list[Raised]:
        """One alert per new KEV CVE that an advisory in the knowledge base ties to devices."""
        if self.kb is None:
            return []
        wanted = {e.cve: e for e in entries}
        if not wanted:
            return []
        advisories = [a for a in self.kb.advisories() if any(v.cve in wanted for v in a.vulnerabilities)]
        devices = self.inventory.list_devices()
        by_id = {str(d.id): d for d in devices}
        per_cve: dict[str, set[str]] = defaultdict(set)
        for finding in Matcher(advisories).match_devices(devices):
            if finding.cve in wanted and finding.status in _HIT:
                per_cve[finding.cve].add(str(finding.device_id))
        alerts: list[Alert] = []
        touched: list[Device] = []
        for cve, ids in sorted(per_cve.items()):
            members = [by_id[i] for i in sorted(ids) if i in by_id]
            touched.extend(members)
            entry = wanted[cve]
            alerts.append(Alert(
                rule=KEV_RULE, severity=Severity.CRITICAL if entry.ransomware == "Known" else Severity.HIGH,
                title=f"{cve} is known exploited (CISA KEV): {len(members)} device(s)"[:300],
                devices=tuple(_ref(d) for d in members), evidence=(f"KEV {entry.date_added}: {entry.name}"[:300],),
                dedup_key=f"early-warning:kev:{cve}", ts=now,
                details={"cve": cve, "due_date": entry.due_date, "required_action": entry.required_action}))
        return self._raise(alerts, touched, now)

    def import_and_warn(self, paths: Iterable[Path | str], now: float) -> tuple[ImportReport, list[Raised]]:
        """``intel import`` with early warning on what was new or updated in it."""
        if self.kb is None:
            raise ValueError("early warning on imports needs the knowledge base")
        before = _advisory_versions(self.kb)
        kev_before = set(self.kb.kev())
        report = import_paths(self.kb, paths)
        after = _advisory_versions(self.kb)
        changed = {key for key, version in after.items() if before.get(key, ("",)) != version}
        fresh = [a for a in self.kb.advisories() if (a.source, a.id) in changed]
        raised = self.on_advisories(fresh, now) if fresh else []
        kev_now = self.kb.kev()
        raised += self.on_kev([e for c, e in kev_now.items() if c not in kev_before], now)
        return report, raised

    # -- indicators ----------------------------------------------------------------------------------
    def on_indicators(self, indicators: Iterable[ThreatIndicator], now: float) -> list[Raised]:
        """One alert per indicator some device talked to in the last ``window_days``."""
        since = now - self.window_days * 86400
        alerts: list[Alert] = []
        touched: list[Device] = []
        lookup = _DeviceLookup(self.inventory)
        for ind in indicators:
            flows, facts = self._sightings(ind, since)
            talkers: dict[str, Device] = {}
            for flow in flows:
                for ip, other in ((flow.src_ip, flow.dst_ip), (flow.dst_ip, flow.src_ip)):
                    if _hits_ip(ind, other) and not _hits_ip(ind, ip):
                        device = lookup.by_ip(ip)
                        if device is not None:
                            talkers[device.key] = device
            for device_id, _kind, _value in facts:
                device = lookup.by_id(device_id)
                if device is not None:
                    talkers[device.key] = device
            if not talkers:
                continue
            touched.extend(talkers.values())
            evidence = [describe(f) for f in flows[:MAX_EVIDENCE]]
            evidence += [f"{_key_of(lookup.by_id(d), d)}: {k} = {v}" for d, k, v in facts[:10]]
            alerts.append(Alert(
                rule=INDICATOR_RULE, severity=Severity.HIGH if ind.confidence >= 0.7 else Severity.MEDIUM,
                title=f"{len(talkers)} device(s) talked to {ind.kind} {ind.value} ({ind.feed})"[:300],
                devices=tuple(sorted(talkers)), evidence=tuple(e[:300] for e in evidence),
                dedup_key=f"early-warning:indicator:{ind.kind}:{ind.value}"[:300], ts=now,
                details={"indicator": ind.value, "kind": ind.kind, "feed": ind.feed, "tlp": ind.tlp.label,
                         "confidence": ind.confidence, "ref": ind.ref, "description": ind.description,
                         "flows": len(flows), "window_days": self.window_days}))
        return self._raise(alerts, touched, now)

    def _sightings(self, ind: ThreatIndicator, since: float) -> tuple[list[FlowRecord], list[tuple[int, str, str]]]:
        kind, value = ind.kind, ind.value
        if kind == "url":
            host = url_host(value)
            if host is None:
                return [], []
            try:
                ipaddress.ip_address(host)
                kind, value = "ip", host
            except ValueError:
                kind, value = "domain", host
        flows: list[FlowRecord] = []
        facts: list[tuple[int, str, str]] = []
        with self.inventory.engine.connect() as conn:
            if kind == "ip":
                flows = _flows_with(conn, ThreatIndicator(kind="ip", value=value, feed=ind.feed), since)
            elif kind in _FACTS:
                cond = (t.facts.c.value == value) if kind != "domain" else sa.or_(
                    t.facts.c.value == value, t.facts.c.value.like(f"%.{value}"))
                rows = conn.execute(sa.select(t.facts.c.device_id, t.facts.c.kind, t.facts.c.value).where(
                    t.facts.c.kind.in_(_FACTS[kind]), cond, t.facts.c.last_seen >= since).limit(500))
                facts = [(int(r.device_id), r.kind, r.value) for r in rows]
        return flows, facts

    def _raise(self, alerts: list[Alert], devices: list[Device], now: float) -> list[Raised]:
        if not alerts:
            return []
        done = self.desk.raise_alerts(alerts, devices=devices, now=now)
        self.raised.extend(done)
        return done


def _key_of(device: Device | None, device_id: int) -> str:
    return device.key if device is not None else str(device_id)


def _hits_ip(ind: ThreatIndicator, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(ind.value, strict=False)
    except ValueError:
        return False


def _flows_with(conn: sa.Connection, ind: ThreatIndicator, since: float) -> list[FlowRecord]:
    f = t.flows
    net = ipaddress.ip_network(ind.value, strict=False)
    if net.num_addresses == 1:
        where = sa.or_(f.c.src_ip == ind.value, f.c.dst_ip == ind.value)
        rows = conn.execute(sa.select(f).where(where, f.c.last_seen >= since).order_by(f.c.first_seen).limit(500))
    else:
        rows = conn.execute(sa.select(f).where(f.c.last_seen >= since).order_by(f.c.first_seen))
    out = []
    for r in rows:
        if net.num_addresses > 1 and not (_hits_ip(ind, r.src_ip) or _hits_ip(ind, r.dst_ip)):
            continue
        out.append(FlowRecord(src_ip=r.src_ip, dst_ip=r.dst_ip, proto=r.proto, src_port=r.src_port,
                              dst_port=r.dst_port, src_mac=r.src_mac or None, dst_mac=r.dst_mac or None,
                              first_seen=r.first_seen, last_seen=r.last_seen, packets_fwd=r.packets_fwd,
                              packets_rev=r.packets_rev, bytes_fwd=r.bytes_fwd, bytes_rev=r.bytes_rev,
                              vlan=r.vlan or None, app=r.app, sensor=r.sensor))
        if len(out) >= 500:
            break
    return out


class _DeviceLookup:
    """Devices by IP or id, cached for one batch."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._cache: dict[str, Device | None] = {}

    def by_ip(self, ip: str) -> Device | None:
        return self._get(ip)

    def by_id(self, device_id: int) -> Device | None:
        return self._get(str(device_id))

    def _get(self, ref: str) -> Device | None:
        if ref not in self._cache:
            from wardwatch.errors import NotFoundError

            try:
                self._cache[ref] = self.inventory.get_device(ref)
            except NotFoundError:
                self._cache[ref] = None
        return self._cache[ref]


def _advisory_versions(kb: KnowledgeBase) -> dict[tuple[str, str], str]:
    return kb.advisory_versions()

"""Remediation actions for open findings (issue 4): what to do, who, how long, what downtime, what it removes.

One action covers one remedy for one device model (a firmware upgrade of every affected unit of a model is
one change with a per-unit cost), so its effort is ``setup + per device × units`` (``[risk]`` effort
tables). Kinds, after the finding:

* a vulnerability with a CSAF ``vendor_fix`` remediation (§3.2.3.12.1) → **patch**; with only a
  ``mitigation``/``workaround`` → **vendor mitigation**; with neither → **monitor** (security team; adds
  the ``monitored`` control) and **accept** (documented risk acceptance, removes nothing);
* Telnet, FTP, SMBv1 → **disable service**; HTTP basic auth, SNMP community strings → **change credentials**;
  TLS below 1.2 or bad certificates → **harden TLS**; an end-of-life OS → **replace** the device;
* internet traffic, remote-access tools, MDS2 contradictions, and any device with open vulnerabilities that
  is not segmented → **segment/ACL** (adds the ``segmented`` control, cuts internet exposure).

Owner: security for monitoring, clinical engineering when a medical device is covered, IT otherwise. Risk
removed: the drop of the covered devices' scores when the action's effect is applied (exact per action;
the what-if recomputes a set of actions jointly). Due: the shortest SLA of the covered findings.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from wardwatch.domain.finding import FindingKind
from wardwatch.domain.risk import ActionKind, RemediationAction
from wardwatch.risk.findings import Scored
from wardwatch.risk.score import RiskWeights
from wardwatch.risk.whatif import DeviceRisk, Effect, Scorer

#: Sub-kind of action → the domain's ActionKind.
KINDS: dict[str, ActionKind] = {
    "patch": ActionKind.PATCH, "mitigate": ActionKind.CONFIGURE, "disable_service": ActionKind.CONFIGURE,
    "change_credentials": ActionKind.CONFIGURE, "harden_tls": ActionKind.CONFIGURE, "segment": ActionKind.SEGMENT,
    "replace": ActionKind.REPLACE, "monitor": ActionKind.MONITOR, "accept": ActionKind.ACCEPT,
}
#: Hygiene finding title → the action that removes it (risk/hygiene.py titles).
HYGIENE_ACTIONS: dict[str, str] = {
    "Telnet in use": "disable_service", "FTP login in clear text": "disable_service",
    "SMBv1 in use": "disable_service",
    "HTTP basic authentication without TLS": "change_credentials",
    "SNMP v1/v2c community string in clear": "change_credentials",
    "TLS below 1.2": "harden_tls", "Self-signed TLS certificate": "harden_tls", "Expired TLS certificate": "harden_tls",
    "End-of-life operating system": "replace",
    "Talks to the internet": "segment", "Remote-access tool": "segment", "DICOM/HL7 in clear across subnets": "segment",
    "MDS2 contradiction: remote service": "segment", "MDS2 contradiction: internet use": "segment",
}
_TITLES = {
    "patch": "Apply the vendor fix of {topic}", "mitigate": "Apply the vendor mitigation of {topic}",
    "disable_service": "Disable the service: {topic}", "change_credentials": "Change credentials: {topic}",
    "harden_tls": "Harden TLS: {topic}", "segment": "Segment and restrict with ACLs",
    "replace": "Replace the end-of-life device", "monitor": "Monitor for exploitation (no fix available)",
    "accept": "Document risk acceptance of {topic}",
}
_DEFAULT_DUE = 90


@dataclass
class _Group:
    subkind: str
    topic: str
    vendor: str
    model: str
    effects: dict[DeviceRisk, Effect] = field(default_factory=dict)  # per device (or group of identical ones)
    findings: list[Scored] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, device: DeviceRisk, effect: Effect, scored: Scored | None = None) -> None:
        self.effects[device] = self.effects[device].merge(effect) if device in self.effects else effect
        if scored is not None:
            self.findings.append(scored)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A remediation action and its effect on each device it covers."""

    action: RemediationAction
    effects: Mapping[int, Effect]


_REMEDIES: dict[tuple[str, ...], tuple[str, str]] = {}


def _remedy(scored: Scored) -> tuple[str, str]:
    """(sub-kind, remediation text) of a vulnerability finding from its CSAF remediations."""
    texts = scored.finding.remediations
    found = _REMEDIES.get(texts)
    if found is None:
        if len(_REMEDIES) > 50_000:
            _REMEDIES.clear()
        found = _REMEDIES[texts] = _pick_remedy(texts)
    return found


def _pick_remedy(texts: tuple[str, ...]) -> tuple[str, str]:
    for prefix, subkind in (("vendor_fix:", "patch"), ("mitigation:", "mitigate"), ("workaround:", "mitigate")):
        for text in texts:
            if text.startswith(prefix):
                return subkind, text[len(prefix):].strip()
    return "monitor", ""


def candidates(devices: Iterable[DeviceRisk], scorer: Scorer, weights: RiskWeights) -> list[Candidate]:
    """Every candidate action over the open findings of ``devices``, costed and with the risk it removes.

    ``devices`` in device-id order; a :class:`DeviceRisk` standing for several devices (``members``) may
    come once or under each member: it is grouped and costed once, its effect counted for every member.
    """
    groups: dict[tuple[str, str, str, str], _Group] = {}
    seen: set[DeviceRisk] = set()

    def group(subkind: str, topic: str, device: DeviceRisk) -> _Group:
        key = (subkind, topic, device.vendor.casefold(), device.model.casefold())
        if key not in groups:
            groups[key] = _Group(subkind, topic, device.vendor, device.model)
        return groups[key]

    for device in devices:
        if device in seen:
            continue
        seen.add(device)
        open_findings = [s for s in device.scored if s.active and s.fingerprint in device.open]
        has_vuln = False
        for s in open_findings:
            one = Effect(removes=frozenset({s.fingerprint}))
            if s.finding.kind is FindingKind.HYGIENE:
                subkind = HYGIENE_ACTIONS.get(s.finding.title, "segment")
                if subkind == "segment":
                    group("segment", "network", device).add(device, Effect(one.removes, ("segmented",),
                                                                           cut_internet=True), s)
                elif subkind == "replace":
                    group("replace", "eol", device).add(device, Effect(removes_all=True), s)
                else:
                    group(subkind, s.finding.title, device).add(device, one, s)
                continue
            has_vuln = True
            subkind, text = _remedy(s)
            topic = s.finding.advisory or s.finding.cve or s.finding.title
            if subkind == "monitor":
                if "monitored" not in device.ctx.controls:
                    group("monitor", "monitoring", device).add(device, Effect(controls=("monitored",)), s)
                group("accept", topic, device).add(device, Effect(), s)
            else:
                g = group(subkind, topic, device)
                g.add(device, one, s)
                if text and text not in g.notes:
                    g.notes.append(text)
        if has_vuln and "segmented" not in device.ctx.controls:
            group("segment", "network", device).add(device, Effect(controls=("segmented",), cut_internet=True))
    return [_cost(g, scorer, weights) for g in groups.values()]


def _cost(g: _Group, scorer: Scorer, weights: RiskWeights) -> Candidate:
    units = sum(len(d.ids) for d in g.effects)
    clinical = sum(len(d.ids) for d in g.effects if d.clinical)
    effort = weights.effort_setup.get(g.subkind, 1.0) + weights.effort_per_device.get(g.subkind, 1.0) * units
    downtime = weights.downtime_per_device.get(g.subkind, 0.0) * clinical
    removed = sum(len(d.ids) * (scorer.score(d) - scorer.score_after(d, e)) for d, e in g.effects.items())
    owner = "security" if g.subkind == "monitor" else "clinical_engineering" if clinical else "it"
    due = min((s.sla_days for s in g.findings), default=_DEFAULT_DUE)
    model = f"{g.vendor} {g.model}".strip() or "devices without a known model"
    title = _TITLES[g.subkind].format(topic=g.topic) + f" on {units} × {model}"
    cves = sorted({s.finding.cve for s in g.findings if s.finding.cve})
    explanation = "; ".join(g.notes)[:600] or _explain(g, cves)
    ident = hashlib.sha1(f"{g.subkind}|{g.topic}|{g.vendor.casefold()}|{g.model.casefold()}".encode(),
                         usedforsecurity=False).hexdigest()[:10]
    effects = {i: e for d, e in g.effects.items() for i in d.ids}
    action = RemediationAction(
        id=f"{g.subkind}-{ident}", kind=KINDS[g.subkind], title=title, owner_team=owner,
        effort_hours=round(effort, 2), downtime_hours=round(downtime, 2), risk_removed=round(max(removed, 0.0), 2),
        due_days=due, device_ids=tuple(sorted(effects)),
        findings=tuple(sorted({s.fingerprint for s in g.findings})), explanation=explanation,
    )
    return Candidate(action, effects)


def _explain(g: _Group, cves: list[str]) -> str:
    about = f" ({', '.join(cves[:5])})" if cves else ""
    return {
        "monitor": "No vendor fix or mitigation is published" + about + ": watch these devices' traffic for "
                   "exploitation (IDS signatures, baseline alerts) until one is.",
        "accept": "No fix is available" + about + "; record the residual risk and its owner's acceptance.",
        "segment": "Place the devices in a clinical zone that allows only their required flows; block "
                   "internet and remote access except through an approved path.",
        "replace": "The operating system is past its vendor's end of support; plan a replacement.",
    }.get(g.subkind, f"Resolve: {g.topic}" + about)


def effects_of(chosen: Iterable[Candidate]) -> list[Mapping[int, Effect]]:
    """The per-device effects of the chosen actions (input of the what-if)."""
    return [c.effects for c in chosen]


def group_by_device(candidates_: Iterable[Candidate]) -> dict[int, list[str]]:
    """Device id → ids of the actions covering it."""
    out: dict[int, list[str]] = defaultdict(list)
    for c in candidates_:
        for device_id in c.effects:
            out[device_id].append(c.action.id)
    return out

"""Baseline learning (window, frozen/rolling, decisions kept), policy generation (least privilege and
clinical rules), versions (diff, approve, one-step rollback), replay, and the webhook enforcer."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.alerting.receivers import webhook_receiver
from wardwatch.domain.device import Attribute, Device
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.policy import RuleOrigin, VersionStatus
from wardwatch.errors import WardwatchError
from wardwatch.inventory.repository import Inventory
from wardwatch.prevent.baseline import DAY, BaselineMode, EntryState, hours_mask, learn, update
from wardwatch.prevent.baseline_store import BaselineStore
from wardwatch.prevent.endpoints import DeviceDirectory
from wardwatch.prevent.enforce.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookEnforcer, verify
from wardwatch.prevent.policy import PolicyMatcher, generate
from wardwatch.prevent.replay import replay
from wardwatch.prevent.versions import PolicyVersions
from wardwatch.prevent.zones import build_zones

T0 = 1_793_610_000.0  # 09:00 UTC


def dev(key: str, ip: str, cls: str | None = None, dept: str | None = None) -> Device:
    attrs = {}
    if cls:
        attrs["device_class"] = Attribute("device_class", cls, 0.9)
    if dept:
        attrs["department"] = Attribute("department", dept, 1.0)
    return Device(key=key, mac=None, ips=(ip,), first_seen=T0, last_seen=T0, attributes=attrs)


CT = dev("ct", "10.0.1.10", "ct_scanner", "radiology")
US = dev("us", "10.0.1.11", "ultrasound", "radiology")
PACS = dev("pacs", "10.0.2.20", "pacs_archive", "it")
MON = dev("mon", "10.0.3.30", "patient_monitor", "icu")
HIS = dev("his", "10.0.4.40", "clinical_information_system", "it")
DNS = dev("dns", "10.0.0.53", "server", "it")
DIRECTORY = DeviceDirectory([CT, US, PACS, MON, HIS, DNS])


def flow(src: str, dst: str, proto: int, port: int, ts: float = T0, size: int = 1000) -> FlowRecord:
    return FlowRecord(src_ip=src, dst_ip=dst, proto=proto, src_port=40000, dst_port=port, src_mac=None,
                      dst_mac=None, first_seen=ts, last_seen=ts + 5, packets_fwd=5, packets_rev=5, bytes_fwd=size,
                      bytes_rev=size)


FLOWS = [flow("10.0.1.10", "10.0.2.20", 6, 104), flow("10.0.1.10", "10.0.2.20", 6, 104, size=5000),
         flow("10.0.1.10", "10.0.0.53", 17, 53), flow("10.0.3.30", "10.0.4.40", 6, 2575),
         flow("10.0.1.10", "8.8.8.8", 6, 443, ts=T0 - 30 * DAY)]  # outside a 14-day window


def test_learn_entries_window_and_classes() -> None:
    baseline = learn(FLOWS, DIRECTORY, window_days=14)
    out = {(e.subject, e.peer, e.proto, e.port): e for e in baseline.entries.values()
           if e.scope == "device" and e.direction == "out"}
    dicom = out[("ct", "pacs", 6, 104)]
    assert dicom.flows == 2 and dicom.bytes_min == 2000 and dicom.bytes_max == 10000
    assert dicom.hours == 1 << 9
    assert ("ct", "ip:8.8.8.8", 6, 443) not in out  # outside the window
    assert ("pacs", "ct", 6, 104) in {(e.subject, e.peer, e.proto, e.port) for e in baseline.entries.values()
                                      if e.direction == "in"}
    classes = {(e.subject, e.peer) for e in baseline.entries.values() if e.scope == "class"}
    assert ("class:ct_scanner", "class:pacs_archive") in classes
    assert learn(FLOWS, DIRECTORY, window_days=60).of("ct", "out")  # a wider window holds the old flow
    assert any(e.peer == "ip:8.8.8.8" for e in learn(FLOWS, DIRECTORY, window_days=60).of("ct", "out"))


def test_refused_attempts_are_not_learned() -> None:
    scan = dataclasses.replace(flow("10.0.1.10", "10.0.3.30", 6, 23), packets_rev=1, bytes_rev=60, refused=True)
    baseline = learn([*FLOWS, scan], DIRECTORY, window_days=14)
    assert ("ct", "mon", 6, 23) not in {(e.subject, e.peer, e.proto, e.port) for e in baseline.entries.values()}
    assert ("ct", "mon", 6, 23) in {(e.subject, e.peer, e.proto, e.port) for e in learn(
        [*FLOWS, dataclasses.replace(scan, refused=False)], DIRECTORY, window_days=14).entries.values()}


def test_hours_mask() -> None:
    assert hours_mask(T0, T0 + 60) == 1 << 9
    assert hours_mask(T0 + 3000, T0 + 4000) == (1 << 9) | (1 << 10)
    assert hours_mask(T0, T0 + DAY) == (1 << 24) - 1


def test_frozen_and_rolling() -> None:
    frozen = learn(FLOWS, DIRECTORY)
    with pytest.raises(WardwatchError):
        update(frozen, FLOWS, DIRECTORY)
    rolling = learn(FLOWS[:1], DIRECTORY, mode=BaselineMode.ROLLING, window_days=1)
    later = flow("10.0.3.30", "10.0.4.40", 6, 2575, ts=T0 + 3 * DAY)
    update(rolling, [later], DIRECTORY)
    peers = {(e.subject, e.peer) for e in rolling.normal_entries() if e.direction == "out"}
    assert ("mon", "his") in peers and ("ct", "pacs") not in peers  # aged out of the 1-day window


def test_decisions_are_stored_and_survive_relearning(sqlite_url: str) -> None:
    inventory = Inventory.open(sqlite_url)
    store = BaselineStore(inventory.engine)
    baseline = learn(FLOWS, DIRECTORY)
    store.save(baseline)
    loaded = store.latest()
    assert loaded is not None and loaded.entries.keys() == baseline.entries.keys()
    target = next(e for e in loaded.entries.values() if e.subject == "ct" and e.port == 53 and e.direction == "out")
    with pytest.raises(ValueError):
        store.decide(target.id or 0, EntryState.REJECTED, " ")
    store.decide(target.id or 0, EntryState.REJECTED, "Jo Biomed")
    decided = store.latest()
    assert decided is not None
    again = learn(FLOWS, DIRECTORY, previous=decided)
    entry = again.entries[target.key]
    assert entry.state == EntryState.REJECTED and entry.decided_by == "Jo Biomed"
    policy = generate(again, DIRECTORY, clinical=False)
    assert PolicyMatcher(policy).allows(FLOWS[2]) is None  # the rejected DNS entry gives no rule
    inventory.close()


def test_policy_least_privilege_and_clinical_rules() -> None:
    baseline = learn(FLOWS, DIRECTORY)
    policy = generate(baseline, DIRECTORY)
    matcher = PolicyMatcher(policy)
    assert matcher.allows(FLOWS[0]) is not None
    # the ultrasound never talked to the PACS, but DICOM modality → PACS is a clinical rule
    rule = matcher.allows_tuple("10.0.1.11", "10.0.2.20", 6, 104)
    assert rule is not None and rule.origin == RuleOrigin.CLINICAL
    assert matcher.allows_tuple("10.0.1.11", "10.0.2.20", 6, 22) is None
    # HL7 from a monitor to the interface engine; not to the PACS
    assert matcher.allows_tuple("10.0.3.30", "10.0.4.40", 6, 2575) is not None
    assert matcher.allows_tuple("10.0.3.30", "10.0.2.20", 6, 2575) is None
    # least privilege: the CT's learned DNS does not open DNS to everyone; the reverse direction is denied
    assert matcher.allows_tuple("10.0.2.20", "10.0.1.10", 6, 104) is None
    assert {z.name for z in policy.zones} >= {"ct_scanner", "pacs_archive"}
    dns_infra = generate(baseline, DIRECTORY, infrastructure=["10.0.0.53"])
    assert PolicyMatcher(dns_infra).allows_tuple("10.0.3.30", "10.0.0.53", 17, 53) is not None
    assert PolicyMatcher(dns_infra).allows_tuple("10.0.3.30", "10.0.0.53", 17, 123) is not None


def test_zones_by_department_and_by_hand() -> None:
    zones = build_zones(DIRECTORY.devices, basis="department", manual={"dns": "Core Infra"})
    names = {z.name: sorted(m.key for m in z.members) for z in zones}
    assert names["radiology"] == ["ct", "us"] and names["core_infra"] == ["dns"]
    assert {z.name: z.basis for z in zones}["core_infra"] == "manual"
    subnets = build_zones(DIRECTORY.devices, basis="subnet")
    assert {m.key for z in subnets if z.name == "net-10-0-1-0-24" for m in z.members} == {"ct", "us"}


def test_versions_diff_approve_rollback(database_url: str) -> None:
    inventory = Inventory.open(database_url)
    versions = PolicyVersions(inventory.engine)
    v1 = generate(learn(FLOWS[:2], DIRECTORY), DIRECTORY, clinical=False)
    v2 = generate(learn(FLOWS, DIRECTORY), DIRECTORY, clinical=False)
    versions.add(v1, author="wardwatch")
    versions.add(v2, author="wardwatch")
    diff = versions.diff(1, 2)
    assert {(r.proto, r.port) for r in diff.added} == {(17, 53), (6, 2575)} and not diff.removed
    assert versions.diff(1, 1).empty
    with pytest.raises(WardwatchError):
        versions.approve(1, "  ")
    versions.approve(1, "Dr. A")
    versions.approve(2, "Dr. B")
    assert [v.status for v in versions.list()] == [VersionStatus.SUPERSEDED, VersionStatus.ACTIVE]
    assert versions.get(2).approved_by == "Dr. B"
    back = versions.rollback()
    assert back.number == 1 and back.status == VersionStatus.ACTIVE
    assert versions.get(2).status == VersionStatus.ROLLED_BACK
    with pytest.raises(WardwatchError):
        versions.rollback()  # nothing older than version 1
    inventory.close()


def test_replay_reports_what_would_break() -> None:
    policy = generate(learn(FLOWS[:2], DIRECTORY), DIRECTORY, clinical=False)
    report = replay(policy, FLOWS, DIRECTORY)
    assert report.allowed == 2 and report.blocked == 3
    blocked = {d.device: [b.describe() for b in d.blocked] for d in report.devices.values() if d.blocked}
    assert blocked["mon"] == ["10.0.3.30 → 10.0.4.40 tcp/2575"]
    assert sorted(blocked["ct"]) == ["10.0.1.10 → 10.0.0.53 udp/53", "10.0.1.10 → 8.8.8.8 tcp/443"]
    assert json.dumps(report.to_dict())


def test_webhook_enforcer_dry_run_and_signed_quarantine() -> None:
    secret = b"nac-shared-secret"
    with webhook_receiver() as (url, received):
        enforcer = WebhookEnforcer(url, secret)
        dry = enforcer.quarantine("ct", ("10.0.1.10",), approver="Dr. A", reason="ransomware beacon")
        assert dry.dry_run and received.empty()
        with pytest.raises(WardwatchError):
            enforcer.quarantine("ct", ("10.0.1.10",), approver="", reason="x", dry_run=False)
        enforcer.quarantine("ct", ("10.0.1.10",), approver="Dr. A", reason="ransomware beacon", dry_run=False)
        enforcer.release("ct", ("10.0.1.10",), approver="Dr. A", dry_run=False)
        (h1, b1), (_h2, b2) = received.get(timeout=10), received.get(timeout=10)
    assert verify(secret, h1[TIMESTAMP_HEADER.lower()], b1, h1[SIGNATURE_HEADER.lower()])
    assert not verify(secret, h1[TIMESTAMP_HEADER.lower()], b1 + b" ", h1[SIGNATURE_HEADER.lower()])
    assert json.loads(b1)["event"] == "quarantine" and json.loads(b1)["approver"] == "Dr. A"
    assert json.loads(b2)["event"] == "release"
    assert dataclasses.asdict(dry)["point"] == "webhook"

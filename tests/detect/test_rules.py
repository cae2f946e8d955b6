"""Every detection rule fires on a capture built to trigger it and stays quiet on the baseline capture.

The baseline is learned (through the whole pipeline) from the crafted normal day in ``scenes``; each
trigger capture is that normal day plus the traffic the rule is about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.detect.scenes import (
    ATTACKER,
    DAY9,
    ENGINE,
    MACS,
    MODALITY,
    MONITOR,
    PACS,
    SNMP_GET,
    Scene,
    associate_rq,
    dns_query,
    hl7_message,
    normal_day,
)
from wardwatch.detect.engine import DetectionEngine, detect_capture, read_capture
from wardwatch.detect.indicators import Indicator, IndicatorSet
from wardwatch.detect.interface import REGISTRY, DetectionContext, rules
from wardwatch.domain.alert import Alert

T = DAY9 + 1800  # 09:30 UTC, inside the learned hours
IOCS = IndicatorSet([Indicator("ip", "203.0.113.66", "test-feed", description="C2 server"),
                     Indicator("domain", "evil.example.net", "test-feed")])
HTTP_BASIC = b"GET /status HTTP/1.1\r\nHost: engine\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n"


def _key(ip: str) -> str:
    """The device a host of the scene becomes: its MAC, since each host sends from one local address only
    (the flow table's ownership proof, ``net.owned_ip``)."""
    return f"mac:{MACS[ip]}"


# rule id → (what to add to the normal day, a device the alert must name)
TRIGGERS: dict[str, tuple[Callable[[Scene], object], str]] = {
    "policy_violation": (lambda s: s.tcp(T, MODALITY, ENGINE, 22, b"SSH-2.0-x\r\n"), _key(MODALITY)),
    "new_peer": (lambda s: s.tcp(T, MODALITY, MONITOR, 104, associate_rq("CT01")), _key(MONITOR)),
    "new_external_destination": (lambda s: s.tcp(T, MODALITY, "8.8.8.8", 443, b"\x16\x03\x01"), _key(MODALITY)),
    "new_protocol_port": (lambda s: s.tcp(T, MODALITY, PACS, 4242, b"hello"), _key(MODALITY)),
    "volume_out_of_range": (lambda s: s.tcp(T, MODALITY, PACS, 104, associate_rq("CT01") + b"\x00" * 300_000),
                            _key(MODALITY)),
    "unusual_hours": (lambda s: s.tcp(DAY9 - 6 * 3600, MODALITY, PACS, 104, associate_rq("CT01")), _key(MODALITY)),
    "scan": (lambda s: [s.tcp(T + i * 0.01, ATTACKER, PACS, 1000 + i, refused=True) for i in range(30)], _key(PACS)),
    "cleartext_credentials": (lambda s: s.tcp(T, MONITOR, ENGINE, 80, HTTP_BASIC, b"HTTP/1.1 200 OK\r\n\r\n"),
                              _key(MONITOR)),
    "dicom_unknown_ae": (lambda s: s.tcp(T, MODALITY, PACS, 104, associate_rq("EVIL_SCU")), _key(MODALITY)),
    "hl7_unknown_sender": (lambda s: s.tcp(T, MONITOR, ENGINE, 2575, hl7_message("ROGUE_APP")), _key(MONITOR)),
    "ioc_match": (lambda s: (s.udp(T, MODALITY, "10.1.0.53", 53, dns_query("c2.evil.example.net")),
                             s.tcp(T + 1, MODALITY, "203.0.113.66", 443, b"\x16\x03\x01")), _key(MODALITY)),
}


def _ctx(base: DetectionContext, ref: str | None = None) -> DetectionContext:
    return dataclasses.replace(base, indicators=IOCS, capture_ref=ref)


def test_every_registered_rule_has_a_trigger() -> None:
    rules()
    assert set(REGISTRY) == set(TRIGGERS)


def test_quiet_on_the_baseline_capture(learned: tuple[Path, DetectionContext]) -> None:
    pcap, ctx = learned
    alerts = detect_capture(pcap, _ctx(ctx))
    assert alerts == []


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_rule_fires_on_its_trigger(rule_id: str, learned: tuple[Path, DetectionContext], tmp_path: Path) -> None:
    _pcap, ctx = learned
    add, device = TRIGGERS[rule_id]
    scene = normal_day()
    add(scene)
    trigger = scene.write(tmp_path / f"{rule_id}.pcap")
    alerts = detect_capture(trigger, _ctx(ctx), rules([rule_id]))
    mine = [a for a in alerts if a.rule == rule_id]
    assert mine, f"{rule_id} did not fire"
    assert any(device in a.devices for a in mine), [a.devices for a in mine]
    assert all(a.capture_ref == str(trigger) and a.evidence for a in mine)
    # the same rule is quiet on the normal day alone
    normal = normal_day().write(tmp_path / "normal.pcap")
    assert [a for a in detect_capture(normal, _ctx(ctx), rules([rule_id]))] == []


@pytest.mark.parametrize(("port", "client", "server", "kind"), [
    (23, b"", b"\xff\xfb\x01\xff\xfb\x03login: ", "telnet"),
    (21, b"USER service\r\nPASS secret\r\n", b"220 FTP ready\r\n331 Password required\r\n", "ftp"),
    (80, HTTP_BASIC, b"HTTP/1.1 200 OK\r\n\r\n", "http"),
])
def test_cleartext_credentials_each_protocol(port: int, client: bytes, server: bytes, kind: str,
                                             learned: tuple[Path, DetectionContext], tmp_path: Path) -> None:
    _pcap, ctx = learned
    pcap = normal_day().tcp(T, MONITOR, ENGINE, port, client, server).write(tmp_path / "creds.pcap")
    alerts = detect_capture(pcap, _ctx(ctx), rules(["cleartext_credentials"]))
    assert {a.details["protocol"] for a in alerts} == {kind}
    assert all("secret" not in " ".join(a.evidence) for a in alerts)  # the password never leaves


def test_cleartext_snmp_community(learned: tuple[Path, DetectionContext], tmp_path: Path) -> None:
    _pcap, ctx = learned
    pcap = normal_day().udp(T, MONITOR, ENGINE, 161, SNMP_GET).write(tmp_path / "snmp.pcap")
    alerts = detect_capture(pcap, _ctx(ctx), rules(["cleartext_credentials"]))
    assert [a.details["protocol"] for a in alerts] == ["snmp"]
    assert _key(MONITOR) in alerts[0].devices


def test_rejected_baseline_entry_is_not_normal(learned: tuple[Path, DetectionContext], tmp_path: Path) -> None:
    """A person rejecting the learned AE title makes its next association an alert."""
    pcap, ctx = learned
    assert ctx.baseline is not None
    baseline = dataclasses.replace(ctx.baseline, entries={
        k: (dataclasses.replace(e, state="rejected") if e.peer == "dicom.calling_ae=CT01" else e)  # type: ignore[arg-type]
        for k, e in ctx.baseline.entries.items()})
    alerts = detect_capture(pcap, dataclasses.replace(ctx, baseline=baseline), rules(["dicom_unknown_ae"]))
    assert {a.details["value"] for a in alerts} == {"CT01"}


def test_engine_deduplicates(learned: tuple[Path, DetectionContext], tmp_path: Path) -> None:
    _pcap, ctx = learned
    scene = normal_day()
    for i in range(3):
        scene.tcp(T + i, MODALITY, PACS, 104, associate_rq("EVIL_SCU"))
    flows, observations = read_capture(scene.write(tmp_path / "x.pcap"))
    alerts: list[Alert] = DetectionEngine(_ctx(ctx), rules(["dicom_unknown_ae"])).run(flows, observations)
    assert len(alerts) == 1 and alerts[0].count == 3


def test_detect_and_alert_stores_and_delivers(tmp_path: Path) -> None:
    """The service: stored baseline and active policy, alerts stored once, delivered to syslog once."""
    from tests.alerting.receivers import syslog_receiver
    from wardwatch.alerting.notifiers.syslog import SyslogNotifier
    from wardwatch.alerting.store import AlertStore
    from wardwatch.detect.service import context_for, detect_and_alert
    from wardwatch.inventory.repository import Inventory
    from wardwatch.pipeline.analyze import analyze_captures
    from wardwatch.prevent.policy import generate
    from wardwatch.prevent.service import directory_of, learn_baseline
    from wardwatch.prevent.versions import PolicyVersions

    with Inventory.open(f"sqlite:///{tmp_path / 'ww.db'}") as inventory:
        analyze_captures([normal_day().write(tmp_path / "normal.pcap")], inventory)
        baseline = learn_baseline(inventory)
        versions = PolicyVersions(inventory.engine)
        versions.add(generate(baseline, directory_of(inventory)))
        versions.approve(1, "Dr. A")
        ctx = context_for(inventory)
        assert ctx.policy is not None and ctx.baseline is not None
        flows, observations = read_capture(normal_day().tcp(T, MODALITY, PACS, 104, associate_rq("EVIL_SCU"))
                                           .write(tmp_path / "t.pcap"))
        with syslog_receiver("udp") as (port, received):
            notifier = SyslogNotifier("127.0.0.1", port)
            first = detect_and_alert(inventory, flows, observations, notifiers=[notifier])
            assert [a.rule for a in first.alerts] == ["dicom_unknown_ae"]
            message = received.get(timeout=10)
            second = detect_and_alert(inventory, flows, observations, notifiers=[notifier])
        assert b"EVIL_SCU" in message and received.empty()
        assert second.alerts[0].count == 2 and len(AlertStore(inventory.engine).list()) == 1

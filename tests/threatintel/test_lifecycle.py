"""Alert lifecycle: dedup, grouping, routing per team and severity through real webhooks, the TLP gate,
assignment, acknowledgement, suppression with expiry, escalation driven by a passed-in clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wardwatch.alerting.escalation import EscalationPolicy, escalate
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.alerting.notifiers.webhook import WebhookNotifier
from wardwatch.alerting.routing import CLINICAL_ENGINEERING, IT, Route, Routing
from wardwatch.domain.alert import Alert, AlertStatus, Severity
from wardwatch.domain.device import Attribute, Device
from wardwatch.intel.indicators import SharingPolicy
from wardwatch.inventory import Inventory

T0 = 1_700_000_000.0


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, body["alert"]))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, object]]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _device(key: str, device_class: str) -> Device:
    return Device(key=key, mac=None, ips=(), first_seen=T0, last_seen=T0,
                  attributes={"device_class": Attribute("device_class", device_class, 1.0)})


def _alert(key: str, devices: tuple[str, ...], severity: Severity = Severity.HIGH, tlp: str | None = None) -> Alert:
    details: dict[str, object] = {"tlp": tlp} if tlp else {}
    return Alert(rule="test-rule", severity=severity, title=f"alert {key}", devices=devices, evidence=("e",),
                 dedup_key=key, ts=T0, details=details)


def _routing(url: str) -> Routing:
    hook = lambda path: WebhookNotifier(f"{url}/{path}", b"secret", timeout=5)  # noqa: E731
    return Routing(routes={
        CLINICAL_ENGINEERING: [Route(hook("ce"), "ce@hospital.example", Severity.MEDIUM)],
        IT: [Route(hook("it"), "it@hospital.example", Severity.HIGH),
             Route(hook("partner"), "partner-soc@outside.example", Severity.LOW)],
    }, sharing=SharingPolicy(amber=frozenset({"ce@hospital.example", "it@hospital.example"})))


def test_routing_dedup_and_tlp(inventory: Inventory, receiver: tuple[str, list[tuple[str, dict[str, object]]]]) -> None:
    url, received = receiver
    desk = AlertDesk(inventory.engine, _routing(url))
    pump, printer = _device("mac:00:00:00:00:00:01", "infusion_pump"), _device("mac:00:00:00:00:00:02", "printer")
    desk.raise_alerts([_alert("k1", (pump.key,))], devices=[pump, printer], now=T0)
    assert [p for p, _ in received] == ["/ce"]  # the pump belongs to clinical engineering
    desk.raise_alerts([_alert("k1", (pump.key,))], devices=[pump, printer], now=T0 + 5)
    assert len(received) == 1  # a repeat is counted, not re-sent
    assert desk.views()[0].alert.count == 2
    received.clear()
    desk.raise_alerts([_alert("k2", (printer.key,), Severity.MEDIUM)], devices=[printer], now=T0)
    assert [p for p, _ in received] == ["/partner"]  # IT's own route wants HIGH and above
    received.clear()
    raised = desk.raise_alerts([_alert("k3", (printer.key,), tlp="TLP:AMBER")], devices=[printer], now=T0)
    assert [p for p, _ in received] == ["/it"]  # AMBER never reaches the uncleared outside partner
    delivery = raised[0].delivery
    assert delivery is not None and len(delivery.refused) == 1 and "partner-soc" in delivery.refused[0]
    received.clear()
    desk.raise_alerts([_alert("k4", (printer.key,), tlp="TLP:RED")], devices=[printer], now=T0)
    assert received == []  # nobody is cleared for RED
    groups = desk.groups(now=T0)
    assert sorted(len(v) for v in groups.values()) == [1, 3]


def test_assign_ack_resolve_suppress_and_escalate(inventory: Inventory) -> None:
    desk = AlertDesk(inventory.engine, Routing())
    pump = _device("mac:00:00:00:00:00:01", "infusion_pump")
    first, second, third = (desk.raise_alerts([_alert(k, (pump.key,), Severity.CRITICAL)], devices=[pump],
                                              now=T0)[0].alert for k in ("a", "b", "c"))
    assert first.id and second.id and third.id
    desk.assign(first.id, "alice", person="bob", now=T0 + 1)
    assert desk.get(first.id).assignee == "bob"
    view = desk.suppress(second.id, "alice", reason="maintenance window", until=T0 + 86400, now=T0 + 1)
    assert view.suppressed(T0 + 10) and not view.suppressed(T0 + 86401)
    again = desk.raise_alerts([_alert("b", (pump.key,), Severity.CRITICAL)], devices=[pump], now=T0 + 20)[0]
    assert again.suppressed and again.delivery is None
    policy = EscalationPolicy(chains={CLINICAL_ENGINEERING: ("ce-oncall", "ce-lead")})
    assert escalate(desk, policy, T0 + 10 * 60) == []  # critical: 15 minutes to acknowledge
    desk.acknowledge(third.id, "carol", now=T0 + 60)
    steps = escalate(desk, policy, T0 + 16 * 60)
    assert [(s.alert_id, s.level, s.assignee) for s in steps] == [(first.id, 1, "ce-oncall")]
    assert [(s.alert_id, s.level) for s in escalate(desk, policy, T0 + 31 * 60)] == [(first.id, 2)]
    assert escalate(desk, policy, T0 + 300 * 60) == []  # the chain is exhausted
    assert desk.get(first.id).assignee == "ce-lead"
    desk.resolve(first.id, "bob", note="patched", now=T0 + 9000)
    assert desk.get(first.id).alert.status is AlertStatus.RESOLVED
    actions = [e["action"] for e in desk.events(first.id)]
    assert actions == ["raised", "notified", "assigned", "escalated", "escalated", "resolved"]

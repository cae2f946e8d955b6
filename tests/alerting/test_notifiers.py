"""Delivery against real local receivers: syslog CEF over UDP/TCP/TLS, signed webhook, SMTP (aiosmtpd)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.alerting.receivers import self_signed, syslog_receiver, webhook_receiver
from wardwatch.alerting.notifiers.cef import cef, escape_header, escape_value, rfc5424
from wardwatch.alerting.notifiers.email import EmailNotifier
from wardwatch.alerting.notifiers.interface import NotifyError, deliver
from wardwatch.alerting.notifiers.syslog import SyslogNotifier
from wardwatch.alerting.notifiers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, sign
from wardwatch.domain.alert import Alert, Severity
from wardwatch.prevent.enforce.webhook import verify

ALERT = Alert(rule="dicom_unknown_ae", severity=Severity.HIGH, title="DICOM association from unknown AE 'EVIL|=X'",
              devices=("ip:local/10.1.1.10", "ip:local/10.1.2.20"), evidence=("calling AE 'EVIL|=X'\nline 2",),
              dedup_key="dicom_unknown_ae:ip:local/10.1.1.10:EVIL", ts=1_793_611_800.25, id=7,
              capture_ref="/captures/x.pcap")
#: RFC 5424 §6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD SP MSG
SYSLOG = re.compile(r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
                    r"(?P<sd>-|\[.*?\]) (?P<msg>.*)$", re.S)


def split_cef(record: str) -> tuple[list[str], str]:
    """The seven header fields (unescaped) and the extension of a CEF record."""
    fields, current, i = [], "", 0
    while len(fields) < 7:
        c = record[i]
        if c == "\\" and record[i + 1] in "\\|":
            current += record[i + 1]
            i += 2
            continue
        if c == "|":
            fields.append(current)
            current = ""
        else:
            current += c
        i += 1
    return fields, record[i:]


def parse_ext(ext: str) -> dict[str, str]:
    """CEF extension into a dict (keys are unescaped words; values unescaped)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"(\w+)=((?:\\.|[^\\])*?)(?= \w+=|$)", ext):
        out[m.group(1)] = re.sub(r"\\(.)", lambda g: {"n": "\n", "r": "\r"}.get(g.group(1), g.group(1)),
                                 m.group(2))
    return out


def check_message(raw: bytes) -> None:
    m = SYSLOG.match(raw.decode("utf-8"))
    assert m, raw
    assert int(m["pri"]) == 16 * 8 + 3  # local0, error (HIGH)
    assert m["ts"] == "2026-11-02T09:30:00.250Z" and m["app"] == "wardwatch" and m["msgid"] == "dicom_unknown_ae"
    header, ext = split_cef(m["msg"])
    assert header[0] == "CEF:0" and header[4] == "dicom_unknown_ae" and header[5] == ALERT.title
    assert header[6] == "8"
    values = parse_ext(ext)
    assert values["rt"] == "1793611800250" and values["msg"] == ALERT.title
    assert values["cs1"] == ",".join(ALERT.devices) and values["cs3"] == ALERT.evidence[0]
    assert values["src"] == "10.1.1.10" and values["dst"] == "10.1.2.20" and values["externalId"] == "7"


def test_cef_escaping_by_hand() -> None:
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_value("k=v\\x\ny") == "k\\=v\\\\x\\ny"
    record = cef(ALERT)
    assert "unknown AE 'EVIL\\|=X'|8|" in record  # '=' is not escaped in the header, '|' is
    assert "msg=DICOM association from unknown AE 'EVIL|\\=X'" in record  # and the other way round
    assert "\n" not in rfc5424(ALERT, hostname="sensor-1")


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_syslog_delivery(transport: str, tmp_path: Path) -> None:
    tls = self_signed(tmp_path) if transport == "tls" else None
    with syslog_receiver(transport, tls) as (port, received):
        notifier = SyslogNotifier("127.0.0.1", port, transport=transport, hostname="sensor-1",
                                  ca_file=str(tls[0]) if tls else None, server_name="localhost")
        notifier.send(ALERT)
        notifier.send(ALERT)  # the stream connection is reused
        first, second = received.get(timeout=10), received.get(timeout=10)
        notifier.close()
    check_message(first)
    assert first == second


def test_syslog_tls_refuses_an_unknown_certificate(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    with syslog_receiver("tcp", tls) as (port, _received):
        notifier = SyslogNotifier("127.0.0.1", port, transport="tls", server_name="localhost")  # system CAs only
        with pytest.raises(NotifyError):
            notifier.send(ALERT)


def test_webhook_signed_body() -> None:
    secret = b"s3cret-shared-with-the-receiver"
    with webhook_receiver() as (url, received):
        WebhookNotifier(url, secret).send(ALERT)
        headers, body = received.get(timeout=10)
    stamp = headers[TIMESTAMP_HEADER.lower()]
    assert headers[SIGNATURE_HEADER.lower()] == sign(secret, stamp, body)
    assert verify(secret, stamp, body, headers[SIGNATURE_HEADER.lower()], now=time.time())
    assert not verify(b"other", stamp, body, headers[SIGNATURE_HEADER.lower()])
    data = json.loads(body)
    assert data["alert"]["rule"] == "dicom_unknown_ae" and data["alert"]["severity"] == "high"
    assert data["alert"]["devices"] == list(ALERT.devices)


def test_webhook_error_status_is_reported() -> None:
    with webhook_receiver(status=500) as (url, _received):
        failures = deliver(ALERT, [WebhookNotifier(url, b"k")])
    assert failures and "HTTP 500" in failures[0]


def test_email_through_aiosmtpd() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[object] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: object) -> None:
            got.append(message)

    from tests.peers.capture import free_port

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        EmailNotifier("127.0.0.1", port, sender="wardwatch@hospital.example",
                      recipients=["biomed@hospital.example"]).send(ALERT)
    finally:
        controller.stop()
    assert len(got) == 1
    msg = got[0]
    assert msg["Subject"] == f"[wardwatch HIGH] {ALERT.title}"  # type: ignore[index]
    assert msg["To"] == "biomed@hospital.example"  # type: ignore[index]
    text = msg.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    assert "ip:local/10.1.1.10" in text and "Capture: /captures/x.pcap" in text and "Rule: dicom_unknown_ae" in text


def test_unreachable_syslog_tcp_is_a_notify_error() -> None:
    from tests.peers.capture import free_port

    with pytest.raises(NotifyError):
        SyslogNotifier("127.0.0.1", free_port(), transport="tcp", timeout=2).send(ALERT)

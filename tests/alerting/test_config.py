"""Alert delivery from the ``[alerting]`` settings, against real receivers on loopback."""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alerting.receivers import syslog_receiver, webhook_receiver
from wardwatch.alerting.config import AlertingSettings, alerting_settings, routing_for
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.alerting.notifiers.webhook import SIGNATURE_HEADER, sign
from wardwatch.domain.alert import Alert, Severity
from wardwatch.errors import ConfigError
from wardwatch.inventory.repository import Inventory
from wardwatch.settings import Settings

SECRET = "hmac-secret-from-the-vault"
ALERT = Alert(rule="scan", severity=Severity.HIGH, title="port scan of an infusion pump",
              devices=("ip:local/10.0.0.9",), evidence=("30 ports",), dedup_key="scan:10.0.0.9", ts=1_793_611_800.0)


def _settings(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "wardwatch.toml"
    path.write_text(text, encoding="utf-8")
    return Settings.load(environ=environ or {}, config_file=path)


def _two_routes(syslog_port: int, url: str) -> str:
    return f"""
[alerting.notifiers.siem]
type = "syslog"
host = "127.0.0.1"
port = {syslog_port}
transport = "udp"

[alerting.notifiers.soar]
type = "webhook"
url = "{url}"
secret_env = "SOAR_SECRET"

[[alerting.routes]]
team = "it"
notifier = "siem"
min_severity = "medium"

[[alerting.routes]]
team = "it"
notifier = "soar"
min_severity = "high"
"""


def test_settings_file_routes_a_raised_alert_to_syslog_and_webhook(
        tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with syslog_receiver("udp") as (port, syslog), webhook_receiver() as (url, hooks):
        settings = _settings(tmp_path, _two_routes(port, url))
        routing = routing_for(settings, environ={"SOAR_SECRET": SECRET})
        assert [r.notifier.name for r in routing.routes["it"]] == ["siem", "soar"]
        inventory = Inventory.open(database_url)
        try:
            (raised,) = AlertDesk(inventory.engine, routing).raise_alerts([ALERT], now=ALERT.ts)
            # below the webhook route's minimum: only the syslog route gets it
            (low,) = AlertDesk(inventory.engine, routing).raise_alerts(
                [Alert(rule="x", severity=Severity.MEDIUM, title="medium one", devices=(), evidence=(),
                       dedup_key="x:1", ts=ALERT.ts)], now=ALERT.ts)
        finally:
            inventory.close()
        assert raised.new and raised.delivery is not None
        assert raised.delivery.sent == [f"it/siem:udp://127.0.0.1:{port}", f"it/soar:{url}"]
        assert low.delivery is not None and low.delivery.sent == [f"it/siem:udp://127.0.0.1:{port}"]
        message = syslog.get(timeout=5).decode()
        assert "CEF:0|wardwatch|wardwatch|" in message and "|scan|port scan of an infusion pump|8|" in message
        assert "medium one" in syslog.get(timeout=5).decode()
        headers, body = hooks.get(timeout=5)
        assert json.loads(body)["alert"]["title"] == ALERT.title
        stamp = headers["x-wardwatch-timestamp"]
        assert headers[SIGNATURE_HEADER.lower()] == sign(SECRET.encode(), stamp, body)
        with pytest.raises(queue.Empty):
            hooks.get(timeout=0.3)
    assert SECRET not in caplog.text and SECRET not in repr(alerting_settings(settings))


def test_webhook_without_secret_is_unsigned(tmp_path: Path) -> None:
    with webhook_receiver() as (url, hooks):
        text = f'[alerting.notifiers.hook]\ntype = "webhook"\nurl = "{url}"\n[[alerting.routes]]\nnotifier = "hook"\n'
        routing = routing_for(_settings(tmp_path, text))
        report = routing.deliver(ALERT, ["it"])
        assert report.sent == [f"it/hook:{url}"]
        headers, _ = hooks.get(timeout=5)
        assert SIGNATURE_HEADER.lower() not in headers


def test_environment_layers_reach_the_section(tmp_path: Path) -> None:
    text = ('[alerting.notifiers.soar]\ntype = "webhook"\nurl = "https://soar.example/h"\n'
            '[[alerting.routes]]\nnotifier = "soar"\n')
    settings = _settings(tmp_path, text, {"WARDWATCH_ALERTING__NOTIFIERS__SOAR__SECRET": SECRET,
                                          "WARDWATCH_ALERTING__NOTIFIERS__SOAR__TIMEOUT": "3"})
    section = alerting_settings(settings)
    soar = section.notifiers["soar"]
    assert soar.type == "webhook" and soar.timeout == 3.0 and SECRET not in repr(section)
    (route,) = routing_for(settings).routes["it"]
    assert route.recipient == "https://soar.example/h" and route.min_severity == Severity.LOW


def test_defaults_route_nothing() -> None:
    settings = Settings.load(environ={}, config_file=None)
    assert alerting_settings(settings) == AlertingSettings()
    assert routing_for(settings).routes == {}


@pytest.mark.parametrize(("text", "expected"), [
    ('[alerting.notifiers.siem]\ntype = "syslog"\nhost = "h"\ntransport = "sctp"\n',
     "invalid setting alerting.notifiers.siem.syslog.transport: Input should be 'udp', 'tcp' or 'tls'"),
    ('[alerting.notifiers.siem]\ntype = "pager"\n', "invalid setting alerting.notifiers.siem: Input tag 'pager'"),
    ('[alerting.notifiers.hook]\ntype = "webhook"\nurl = "ftp://x/y"\n',
     "invalid setting alerting.notifiers.hook.webhook.url: Value error, must be an http:// or https:// URL"),
    ('[[alerting.routes]]\nnotifier = "siem"\n',
     "invalid setting alerting: Value error, route 1 names undeclared notifier 'siem'"),
    ('[alerting.notifiers.mail]\ntype = "email"\nhost = "smtp"\nfrom = "ww@h.example"\n'
     '[[alerting.routes]]\nnotifier = "mail"\n',
     "invalid setting alerting: Value error, route 1: email notifier 'mail' needs a recipient"),
    ('[alerting.notifiers.mail]\ntype = "email"\nhost = "smtp"\nfrom = "ww@h.example"\n'
     '[[alerting.routes]]\nnotifier = "mail"\nrecipient = "a@h.example"\nmin_severity = "urgent"\n',
     "invalid setting alerting.routes.0.min_severity: Value error, must be info, low, medium, high or critical"),
    ('[alerting.notifiers.hook]\ntype = "webhook"\nurl = "https://h.example/x"\nsecret_env = "NOT_SET_ANYWHERE"\n'
     '[[alerting.routes]]\nnotifier = "hook"\n',
     "invalid setting alerting.notifiers.hook.secret_env: environment variable NOT_SET_ANYWHERE is not set"),
])
def test_invalid_section_is_one_config_error_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        routing_for(_settings(tmp_path, text), environ={})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(expected), message


def test_cli_reports_an_invalid_section_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "wardwatch.toml"
    config.write_text(f'[alerting.notifiers.hook]\ntype = "webhook"\nurl = "nope"\nsecret = "{SECRET}"\n',
                      encoding="utf-8")
    env = {**os.environ, "WARDWATCH_CONFIG": str(config), "WARDWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
           "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "wardwatch.cli", "alert", "escalate"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: invalid setting alerting.notifiers.hook.webhook.url: Value error, must be an http:// or https:// URL"]
    assert SECRET not in result.stderr + result.stdout


def test_analyze_delivers_detections_through_the_configured_routes(tmp_path: Path) -> None:
    """The running product's path: analyze → detection → the [alerting] routes of the owning teams."""
    from tests.detect.scenes import DAY9, MODALITY, PACS, associate_rq, normal_day
    from wardwatch.pipeline.analyze import analyze_captures
    from wardwatch.prevent.policy import generate
    from wardwatch.prevent.service import directory_of, learn_baseline
    from wardwatch.prevent.versions import PolicyVersions

    attack = normal_day().tcp(DAY9 + 1800, MODALITY, PACS, 104, associate_rq("EVIL_SCU")).write(tmp_path / "t.pcap")
    with Inventory.open(f"sqlite:///{tmp_path / 'ww.db'}") as inventory:
        analyze_captures([normal_day().write(tmp_path / "normal.pcap")], inventory)
        versions = PolicyVersions(inventory.engine)
        versions.add(generate(learn_baseline(inventory), directory_of(inventory)))
        versions.approve(1, "Dr. A")
        with syslog_receiver("udp") as (port, syslog), webhook_receiver() as (url, hooks):
            routes = "".join(f'[[alerting.routes]]\nteam = "{team}"\nnotifier = "{name}"\n'
                             for team in ("it", "clinical-engineering") for name in ("siem", "soar"))
            text = _two_routes(port, url).split("[[alerting.routes]]")[0] + routes
            routing = routing_for(_settings(tmp_path, text), environ={"SOAR_SECRET": SECRET})
            report = analyze_captures([attack], inventory, routing=routing)
            assert report.files[0].alerts >= 1
            assert b"EVIL_SCU" in syslog.get(timeout=10)
            headers, body = hooks.get(timeout=10)
            assert json.loads(body)["alert"]["rule"] == "dicom_unknown_ae"
            assert headers[SIGNATURE_HEADER.lower()] == sign(SECRET.encode(), headers["x-wardwatch-timestamp"], body)

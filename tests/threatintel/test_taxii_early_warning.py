"""Must show 1: indicators published on a real TAXII 2.1 server (medallion) match a host of a capture;
after one poll the alert exists with the device and the flows as evidence."""

from __future__ import annotations

import pytest

from tests.threatintel.conftest import PASSWORD, USER, TaxiiServer
from tests.threatintel.support import TLP_AMBER, analyze_http_capture, stix_indicator
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.detect.early_warning import INDICATOR_RULE, EarlyWarning
from wardwatch.detect.interface import describe
from wardwatch.intel.feeds_schedule import FeedConfig, FeedScheduler
from wardwatch.intel.indicators import Tlp
from wardwatch.intel.ti_store import IndicatorStore
from wardwatch.inventory import Inventory


def test_one_poll_raises_the_alert_with_device_and_flows(taxii_server: TaxiiServer, inventory: Inventory,
                                                        desk: AlertDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    flow, server_ip = analyze_http_capture(inventory)
    client = inventory.get_device(flow.src_ip)
    taxii_server.publish([
        stix_indicator(f"[ipv4-addr:value = '{server_ip}']", name="C2 server", marking=TLP_AMBER),
        stix_indicator("[ipv4-addr:value = '203.0.113.77']", name="unrelated", confidence=40),
    ])
    monkeypatch.setenv("WARDWATCH_TEST_TAXII_PASSWORD", PASSWORD)
    feed = FeedConfig(name="isac", kind="taxii", url=taxii_server.collection_url, user=USER,
                      password_env="WARDWATCH_TEST_TAXII_PASSWORD", interval=3600, timeout=5)
    now = max(f.last_seen for f in inventory.flows()) + 3600
    store = IndicatorStore(inventory.engine)
    warning = EarlyWarning(inventory, desk, window_days=7)
    scheduler = FeedScheduler(store, [feed], on_result=lambda r: warning.on_indicators(r.added, now))

    outcomes = scheduler.run_due(now)

    assert [o.ok for o in outcomes] == [True], outcomes
    assert {i.value for i in store.indicators(feed="isac")} == {server_ip, "203.0.113.77"}
    alerts = [v for v in desk.views() if v.alert.rule == INDICATOR_RULE]
    assert len(alerts) == 1
    alert = alerts[0].alert
    assert alert.devices == (client.key,)
    assert alert.details["tlp"] == Tlp.AMBER.label and alert.details["feed"] == "isac"
    talked = [f for f in inventory.flows() if server_ip in (f.src_ip, f.dst_ip)]
    assert set(alert.evidence) == {describe(f) for f in talked}
    assert alert.details["flows"] == len(talked)

    # not due again within the interval; when due, the incremental poll brings nothing new: no new alert
    assert scheduler.run_due(now + 60) == []
    again = scheduler.run_due(now + 3600)
    assert again[0].ok and again[0].result is not None and again[0].result.added == ()
    assert len([v for v in desk.views() if v.alert.rule == INDICATOR_RULE]) == 1


def test_indicator_outside_the_window_raises_nothing(taxii_server: TaxiiServer, inventory: Inventory,
                                                    desk: AlertDesk) -> None:
    _flow, server_ip = analyze_http_capture(inventory)
    taxii_server.publish([stix_indicator(f"[ipv4-addr:value = '{server_ip}']", name="old C2")])
    feed = FeedConfig(name="isac", kind="taxii", url=taxii_server.collection_url, user=USER, timeout=5)
    store = IndicatorStore(inventory.engine)
    now = max(f.last_seen for f in inventory.flows()) + 10 * 86400
    warning = EarlyWarning(inventory, desk, window_days=7)
    import os

    os.environ.pop("WARDWATCH_TEST_TAXII_PASSWORD", None)
    bad_auth = FeedScheduler(store, [feed]).run(feed, now)
    assert not bad_auth.ok  # no password: the server refuses (HTTP 401) and it is reported
    feed_ok = FeedConfig(name="isac", kind="taxii", url=taxii_server.collection_url, user=USER,
                         password_env="TAXII_PW_FOR_TEST", timeout=5)
    os.environ["TAXII_PW_FOR_TEST"] = PASSWORD
    try:
        outcome = FeedScheduler(store, [feed_ok], on_result=lambda r: warning.on_indicators(r.added, now)).run(
            feed_ok, now)
    finally:
        del os.environ["TAXII_PW_FOR_TEST"]
    assert outcome.ok
    assert store.feed("isac") is not None and store.feed("isac").failures == 0  # type: ignore[union-attr]
    assert [v for v in desk.views() if v.alert.rule == INDICATOR_RULE] == []

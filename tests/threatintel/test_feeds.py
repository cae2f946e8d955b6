"""STIX bundles and the MISP feed of ../shared/data/stix-misp import; a matching MISP event (feed and
REST API) raises the early-warning alert; failing feeds keep the knowledge (must show 1 and 5)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import require_shared
from tests.threatintel.support import analyze_http_capture, misp_event, write_misp_feed
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.detect.early_warning import INDICATOR_RULE, EarlyWarning
from wardwatch.intel.feeds_schedule import FeedConfig, FeedScheduler
from wardwatch.intel.indicators import IndicatorBatch, Tlp
from wardwatch.intel.misp import MispApi, MispFeed
from wardwatch.intel.stix import read_bundle
from wardwatch.intel.ti_store import IndicatorStore
from wardwatch.inventory import Inventory

STIX_NETWORK_TYPES = ("ipv4-addr:value", "domain-name:value", "url:value", "file:hashes")


def test_shared_stix_bundles_import(inventory: Inventory) -> None:
    store = IndicatorStore(inventory.engine)
    folder = require_shared("stix-misp")
    files = sorted(folder.glob("stix21-*/*.json"))
    assert len(files) >= 15
    for path in files:
        batch = read_bundle(path)
        document = json.loads(path.read_text())
        objects = document.get("objects", [document])
        # every indicator whose pattern names a network value or file hash is either imported or reported
        wanted = {o["id"] for o in objects if o.get("type") == "indicator"
                  and any(t in o.get("pattern", "") for t in STIX_NETWORK_TYPES)}
        got = {i.ref for i in batch.indicators}
        reported = {p.split("(")[1].split(")")[0] for p in batch.problems if "(" in p}
        assert wanted <= got | reported, path.name
        store.store(batch, kind="stix-file", now=1.0)
    values = {(i.kind, i.value) for i in store.indicators()}
    assert ("url", "http://x4z9arb.cn/4712/") in values  # indicator-for-malicious-url.json
    assert ("ip", "10.0.0.0") in values  # indicator-for-c2-ip-address.json
    marked = [i for i in store.indicators(feed="stix:using-marking-definitions")]
    assert marked and all(i.tlp is Tlp.AMBER for i in marked)  # object_marking_refs → TLP:AMBER (1.0 id)
    assert any(c.startswith("CVE-") for c in store.cves())  # poisonivy.json's vulnerability objects


def test_shared_misp_feed_imports() -> None:
    folder = require_shared("stix-misp", "misp-feed-cert-fr-anssi")
    batch = MispFeed("cert-fr", str(folder)).fetch()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {i.ref for i in batch.indicators}  # refs are attribute UUIDs
    for uuid in manifest:  # every event contributed (each has network or hash attributes)
        event = json.loads((folder / f"{uuid}.json").read_text())["Event"]
        uuids = {a["uuid"] for a in event.get("Attribute", [])}
        uuids |= {a["uuid"] for o in event.get("Object", []) for a in o.get("Attribute", [])}
        assert uuids & {i.ref for i in batch.indicators}, uuid
    assert {i.tlp for i in batch.indicators} == {Tlp.CLEAR}  # the feed is tagged tlp:clear
    assert "104.168.174.32" in {i.value for i in batch.indicators}  # Maze event, first attribute


def test_misp_feed_event_matching_a_capture_raises_the_alert(tmp_path: Path, inventory: Inventory,
                                                            desk: AlertDesk) -> None:
    flow, server_ip = analyze_http_capture(inventory)
    feed_dir = write_misp_feed(tmp_path / "feed", [misp_event([("ip-dst|port", f"{server_ip}|80"),
                                                               ("domain", "unrelated.example")], tlp="tlp:amber")])
    store = IndicatorStore(inventory.engine)
    now = flow.last_seen + 60
    warning = EarlyWarning(inventory, desk, window_days=3)
    config = FeedConfig(name="isac-misp", kind="misp-feed", url=str(feed_dir))
    outcome = FeedScheduler(store, [config], on_result=lambda r: warning.on_indicators(r.added, now)).run(config, now)
    assert outcome.ok
    alerts = [v.alert for v in desk.views() if v.alert.rule == INDICATOR_RULE]
    assert len(alerts) == 1
    assert alerts[0].devices == (inventory.get_device(flow.src_ip).key,)
    assert alerts[0].details["tlp"] == "TLP:AMBER"
    assert any(f"→ {server_ip}:80" in e for e in alerts[0].evidence)


class _MispHandler(BaseHTTPRequestHandler):
    events: ClassVar[list[dict[str, object]]] = []
    seen: ClassVar[list[tuple[str, str, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers.get("Authorization", ""), body))
        if self.headers.get("Authorization") != "test-api-key":
            self.send_response(403)
            self.end_headers()
            return
        page, limit = int(body["page"]), int(body["limit"])
        data = json.dumps({"response": self.events[(page - 1) * limit: page * limit]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def misp_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MispHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_misp_rest_api_pages_and_auth(misp_server: str, inventory: Inventory, desk: AlertDesk) -> None:
    flow, server_ip = analyze_http_capture(inventory)
    _MispHandler.events = [misp_event([("ip-src", f"198.51.100.{i}")]) for i in range(1, 4)]
    _MispHandler.events.append(misp_event([("ip-dst", server_ip), ("vulnerability", "CVE-2021-44228")]))
    _MispHandler.seen = []
    batch = MispApi("misp", misp_server, "test-api-key", page_size=2).fetch()
    assert [b["page"] for _p, _a, b in _MispHandler.seen] == [1, 2, 3]
    assert all(p == "/events/restSearch" and a == "test-api-key" for p, a, _b in _MispHandler.seen)
    assert {i.value for i in batch.indicators} == {"198.51.100.1", "198.51.100.2", "198.51.100.3", server_ip}
    assert [v.cve for v in batch.vulnerabilities] == ["CVE-2021-44228"]
    store = IndicatorStore(inventory.engine)
    result = store.store(batch, kind="misp-api", now=flow.last_seen)
    EarlyWarning(inventory, desk, window_days=1).on_indicators(result.added, flow.last_seen + 1)
    assert [v.alert.devices for v in desk.views()] == [(inventory.get_device(flow.src_ip).key,)]
    from wardwatch.intel.misp import FeedFetchError

    with pytest.raises(FeedFetchError, match="403"):
        MispApi("misp", misp_server, "wrong-key").fetch()


# -- must show 5: failures keep the knowledge; feeds never delete each other's rows ------------------------

@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a slow feed)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()


class _StaticHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def static_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StaticHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_failing_feeds_keep_previous_knowledge(tmp_path: Path, inventory: Inventory, silent_server: str,
                                               static_server: str) -> None:
    store = IndicatorStore(inventory.engine)
    good = write_misp_feed(tmp_path / "good", [misp_event([("ip-dst", "192.0.2.10"), ("domain", "c2.example")])])
    feeds = {
        "unreachable": FeedConfig(name="a", kind="stix-url", url=f"http://127.0.0.1:{_closed_port()}/b.json",
                                  timeout=1),
        "slow": FeedConfig(name="a", kind="stix-url", url=f"{silent_server}/b.json", timeout=0.5),
        "malformed-stix": FeedConfig(name="a", kind="stix-url", url=f"{static_server}/b.json", timeout=2),
        "malformed-misp": FeedConfig(name="a", kind="misp-feed", url=str(tmp_path / "bad")),
        "missing-taxii": FeedConfig(name="a", kind="taxii", url=f"http://127.0.0.1:{_closed_port()}/api1/collections/x/",
                                    timeout=1),
    }
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text('{"6a1c-not-closed": ')
    _StaticHandler.body = b'{"type": "bundle", "objects": "not a list"}'
    first = FeedScheduler(store, [FeedConfig(name="a", kind="misp-feed", url=str(good))]).run_due(100.0)
    assert first[0].ok
    before = {(i.kind, i.value) for i in store.indicators(feed="a")}
    assert before == {("ip", "192.0.2.10"), ("domain", "c2.example")}
    for n, (label, config) in enumerate(feeds.items(), start=1):
        outcome = FeedScheduler(store, [config]).run(config, 100.0 + n)
        assert not outcome.ok and outcome.error, label
        assert {(i.kind, i.value) for i in store.indicators(feed="a")} == before, label
        status = store.feed("a")
        assert status is not None and status.failures == n and status.last_error == outcome.error, label
        assert status.last_success == 100.0


def test_a_feed_never_deletes_what_another_contributed(inventory: Inventory) -> None:
    store = IndicatorStore(inventory.engine)
    one = IndicatorBatch(feed="one")
    one.add("ip", "192.0.2.1")
    one.add("domain", "shared.example")
    two = IndicatorBatch(feed="two")
    two.add("domain", "shared.example")
    two.add("ip", "192.0.2.2")
    store.store(one, now=1.0)
    result = store.store(two, now=2.0)
    assert [i.value for i in result.added] == ["192.0.2.2"]  # shared.example was already known
    empty_two = IndicatorBatch(feed="two")  # feed two now publishes nothing (a complete snapshot)
    assert store.store(empty_two, now=3.0).removed == 2
    assert {(i.feed, i.value) for i in store.indicators()} == {("one", "192.0.2.1"), ("one", "shared.example")}

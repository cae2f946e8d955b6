"""``intel update`` against a local HTTP server serving fixture feeds (never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from tests.intel.conftest import FIXTURES
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.intel.update import update_feeds

KEV = json.dumps(
    {
        "title": "KEV",
        "catalogVersion": "2024.06.01",
        "dateReleased": "2024-06-01T00:00:00Z",
        "count": 1,
        "vulnerabilities": [
            {
                "cveID": "CVE-2021-44228",
                "vendorProject": "Apache",
                "product": "Log4j2",
                "vulnerabilityName": "Log4Shell",
                "dateAdded": "2021-12-10",
            }
        ],
    }
).encode()
EPSS = gzip.compress(
    b"#model_version:v2023.03.01,score_date:2024-06-01T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.97,0.99\n"
)
LAST_MODIFIED = formatdate(1717200000, usegmt=True)


class _Feeds(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.requests.append((url.path, dict(self.headers)))
        if url.path == "/nvd":
            start = int(parse_qs(url.query)["startIndex"][0])
            doc = json.loads((FIXTURES / "nvd-embedded-components.json").read_text())
            size = int(parse_qs(url.query)["resultsPerPage"][0])
            doc.update(
                startIndex=start, resultsPerPage=size, vulnerabilities=doc["vulnerabilities"][start : start + size]
            )
            return self._send(json.dumps(doc).encode(), None)
        body = {"/kev.json": KEV, "/epss.csv.gz": EPSS}.get(url.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send_response(304)
            self.end_headers()
            return
        self._send(body, etag)

    def _send(self, body: bytes, etag: str | None) -> None:
        self.send_response(200)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    _Feeds.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_update_downloads_then_revalidates(server: str, tmp_path: Path, sqlite_url: str) -> None:
    feeds = {
        "kev.json": f"{server}/kev.json",
        "epss.csv.gz": f"{server}/epss.csv.gz",
        "missing.json": f"{server}/missing.json",
    }
    cache = tmp_path / "cache"
    first = update_feeds(cache, feeds, nvd_url=f"{server}/nvd", nvd_page_size=2, timeout=5)
    assert first.downloaded == ["kev.json", "epss.csv.gz", "nvd-0000.json", "nvd-0001.json", "nvd-0002.json"]
    assert first.failed == [("missing.json", f"HTTP 404 from {server}/missing.json")]
    second = update_feeds(cache, feeds, timeout=5)
    assert second.not_modified == ["kev.json", "epss.csv.gz"] and second.downloaded == []
    conditional = [h for p, h in _Feeds.requests[-3:] if p in ("/kev.json", "/epss.csv.gz")]
    assert all("If-None-Match" in h and h["If-Modified-Since"] == LAST_MODIFIED for h in conditional)
    # the cache imports like any folder
    kb = KnowledgeBase(sqlite_url)
    report = import_paths(kb, [cache])
    assert report.rejected == []
    assert {s for _, s, _ in report.imported} == {"kev", "epss", "nvd"}
    assert kb.kev()["CVE-2021-44228"].product == "Log4j2" and kb.epss()["CVE-2021-44228"].epss == 0.97
    assert kb.counts()["intel_advisories"] == 5


def test_unreachable_server_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    report = update_feeds(tmp_path, {"kev.json": "http://127.0.0.1:9/kev.json"}, timeout=2)
    assert report.downloaded == [] and report.failed[0][0] == "kev.json"

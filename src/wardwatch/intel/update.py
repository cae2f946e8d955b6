"""``intel update``: download the public feeds into an on-disk cache with conditional requests.

Each feed is fetched with ``If-None-Match`` / ``If-Modified-Since`` from the ETag / Last-Modified the
server gave last time (RFC 9110 §13.1.2, §13.1.3); a ``304 Not Modified`` keeps the cached file. Cache
metadata lives beside the files in ``cache.json``. Base URLs are configurable (an air-gapped site points
them at an internal mirror; the tests at a local HTTP server). NVD CVE API 2.0 pages are walked with
``startIndex``/``resultsPerPage`` (NVD API docs, "Pagination").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from wardwatch.errors import WardwatchError

#: Official locations of the public feeds (override per site).
DEFAULT_FEEDS: dict[str, str] = {
    "kev.json": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "epss.csv.gz": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
    "csaf-icsma-index.txt": "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/index.txt",
}
DEFAULT_NVD_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"


class FeedError(WardwatchError):
    """A feed could not be downloaded."""


@dataclass(slots=True)
class UpdateReport:
    """Per feed: downloaded (new content), not_modified (304) or failed (with the reason)."""

    downloaded: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


class FeedCache:
    """A folder of downloaded feeds with their validators (ETag, Last-Modified)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.meta_path = folder / "cache.json"
        try:
            self.meta: dict[str, dict[str, str]] = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.meta = {}

    def headers(self, name: str) -> dict[str, str]:
        """Conditional-request headers for a cached feed (none when not cached)."""
        entry = self.meta.get(name, {})
        if not (self.folder / name).exists():
            return {}
        out = {}
        if entry.get("etag"):
            out["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            out["If-Modified-Since"] = entry["last_modified"]
        return out

    def save(self, name: str, content: bytes, response: httpx.Response) -> Path:
        """Store new content atomically and remember its validators."""
        target = self.folder / name
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(content)
        tmp.replace(target)
        self.meta[name] = {
            k: v
            for k, v in (
                ("etag", response.headers.get("etag")),
                ("last_modified", response.headers.get("last-modified")),
            )
            if v
        }
        self.meta_path.write_text(json.dumps(self.meta, indent=1), encoding="utf-8")
        return target


def _fetch(
    client: httpx.Client,
    cache: FeedCache,
    name: str,
    url: str,
    report: UpdateReport,
    params: dict[str, Any] | None = None,
) -> None:
    try:
        response = client.get(url, headers=cache.headers(name), params=params)
    except httpx.HTTPError as exc:
        report.failed.append((name, f"{type(exc).__name__}: {exc}"))
        return
    if response.status_code == 304:
        report.not_modified.append(name)
        report.files.append(cache.folder / name)
        return
    if response.status_code != 200:
        report.failed.append((name, f"HTTP {response.status_code} from {url}"))
        return
    report.downloaded.append(name)
    report.files.append(cache.save(name, response.content, response))


def update_feeds(
    cache_dir: Path,
    feeds: dict[str, str] | None = None,
    *,
    nvd_url: str | None = None,
    nvd_params: dict[str, str] | None = None,
    nvd_page_size: int = 2000,
    nvd_max_pages: int = 50,
    timeout: float = 60.0,
    transport: httpx.BaseTransport | None = None,
) -> UpdateReport:
    """Download every feed (and NVD pages when ``nvd_url`` is given) into ``cache_dir``."""
    cache = FeedCache(cache_dir)
    report = UpdateReport()
    with httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        transport=transport,
        headers={"User-Agent": "wardwatch-intel-update"},
    ) as client:
        for name, url in (feeds if feeds is not None else DEFAULT_FEEDS).items():
            _fetch(client, cache, name, url, report)
        if nvd_url:
            start = 0
            for page in range(nvd_max_pages):
                name = f"nvd-{page:04d}.json"
                params = {
                    **(nvd_params or {}),
                    "startIndex": str(start),
                    "resultsPerPage": str(nvd_page_size),
                }
                _fetch(client, cache, name, nvd_url, report, params)
                path = cache.folder / name
                if not path.exists() or (name,) in [(f,) for f, _ in report.failed]:
                    break
                try:
                    total = int(json.loads(path.read_bytes()).get("totalResults", 0))
                except (ValueError, OSError):
                    break
                start += nvd_page_size
                if start >= total:
                    break
    return report

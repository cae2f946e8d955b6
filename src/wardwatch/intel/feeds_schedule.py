"""Threat-intelligence feeds as configuration, and the scheduler that polls them.

A feed is a ``[[feeds]]`` table of the settings file (or of a feeds TOML file)::

    [[feeds]]
    name = "h-isac"                 # unique; indicator rows belong to it
    kind = "taxii"                  # stix-file | stix-url | taxii | misp-feed | misp-api
    url = "https://taxii.example/api1/collections/9cfa669c-ee94-4ece-afd2-f8edac37d8fd/"
    user = "wardwatch"
    password_env = "WARDWATCH_FEED_HISAC_PASSWORD"   # secrets come from the environment, never the file
    interval = 3600                 # seconds between polls
    timeout = 10                    # seconds per request
    default_tlp = "TLP:AMBER"       # for unmarked content
    ttl_days = 90                   # MISP: expiry after the attribute's timestamp

:meth:`FeedScheduler.run_due` is driven by a clock passed in (testable without sleeping): each due feed
is fetched; success stores the batch (per-feed ownership, see ``ti_store``) and hands the result to the
``on_result`` callback (early warning); any failure is recorded on the feed and the knowledge stays.
"""

from __future__ import annotations

import logging
import os
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wardwatch.errors import ConfigError, ParseError
from wardwatch.intel.indicators import IndicatorBatch, Tlp
from wardwatch.intel.misp import FeedFetchError, MispApi, MispFeed, fetch_bytes
from wardwatch.intel.stix import parse_bundle, read_bundle
from wardwatch.intel.taxii import TaxiiFeed
from wardwatch.intel.ti_store import IndicatorStore, StoreResult

log = logging.getLogger(__name__)
KINDS = ("stix-file", "stix-url", "taxii", "misp-feed", "misp-api")


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One configured feed."""

    name: str
    kind: str
    url: str
    user: str | None = None
    password_env: str | None = None
    key_env: str | None = None
    interval: float = 3600.0
    timeout: float = 10.0
    default_tlp: Tlp = Tlp.GREEN
    ttl_days: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedConfig:
        """Check one ``[[feeds]]`` table."""
        name, kind, url = data.get("name"), data.get("kind"), data.get("url")
        if not isinstance(name, str) or not name or len(name) > 64:
            raise ConfigError(f"feed: 'name' must be a string of 1-64 characters, got {name!r}")
        if kind not in KINDS:
            raise ConfigError(f"feed {name}: 'kind' must be one of {', '.join(KINDS)}")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"feed {name}: 'url' (a URL or a path) is required")
        tlp = Tlp.parse(str(data.get("default_tlp", "TLP:GREEN")))
        if tlp is None:
            raise ConfigError(f"feed {name}: default_tlp {data.get('default_tlp')!r} is not a TLP level")
        try:
            return cls(name=name, kind=kind, url=url, user=data.get("user"), password_env=data.get("password_env"),
                       key_env=data.get("key_env"), interval=float(data.get("interval", 3600)),
                       timeout=float(data.get("timeout", 10)), default_tlp=tlp,
                       ttl_days=float(data["ttl_days"]) if data.get("ttl_days") is not None else None)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"feed {name}: {exc}") from None

    def secret(self, env: str | None) -> str | None:
        """A secret named by an environment variable."""
        return os.environ.get(env) if env else None


def load_feeds(path: Path) -> list[FeedConfig]:
    """The ``[[feeds]]`` of a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    feeds = [FeedConfig.from_dict(f) for f in data.get("feeds", []) if isinstance(f, dict)]
    names = [f.name for f in feeds]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: feed names must be unique")
    return feeds


def fetch(feed: FeedConfig, cursor: str | None = None) -> IndicatorBatch:
    """One fetch of one feed (raises FeedFetchError / ParseError on failure)."""
    if feed.kind == "stix-file":
        return read_bundle(Path(feed.url), feed.name, default_tlp=feed.default_tlp)
    if feed.kind == "stix-url":
        with httpx.Client(timeout=feed.timeout, follow_redirects=False) as client:
            body = fetch_bytes(client, "GET", feed.url, headers={"Accept": "application/stix+json;version=2.1"})
        import json

        try:
            document = json.loads(body)
        except ValueError as exc:
            raise ParseError(f"{feed.name}: not valid JSON: {str(exc)[:120]}") from None
        return parse_bundle(document, feed.name, default_tlp=feed.default_tlp, name=feed.name)
    if feed.kind == "taxii":
        return TaxiiFeed(feed.name, feed.url, feed.user, feed.secret(feed.password_env), feed.default_tlp,
                         feed.timeout).poll(cursor)
    if feed.kind == "misp-feed":
        return MispFeed(feed.name, feed.url, feed.default_tlp, feed.ttl_days, feed.timeout).fetch()
    key = feed.secret(feed.key_env)
    if not key:
        raise FeedFetchError(f"{feed.name}: no API key (set {feed.key_env or 'key_env'})")
    since = float(cursor) if cursor and cursor.replace(".", "").isdigit() else None
    batch = MispApi(feed.name, feed.url, key, feed.default_tlp, feed.ttl_days, feed.timeout).fetch(since)
    batch.cursor = str(int(time.time()))
    return batch


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one scheduled fetch did."""

    feed: str
    ok: bool
    error: str | None = None
    result: StoreResult | None = None
    problems: tuple[str, ...] = ()


Fetcher = Callable[[FeedConfig, str | None], IndicatorBatch]


class FeedScheduler:
    """Polls configured feeds when due; the clock is passed in."""

    def __init__(self, store: IndicatorStore, feeds: Iterable[FeedConfig], *,
                 on_result: Callable[[StoreResult], None] | None = None, fetcher: Fetcher = fetch) -> None:
        self.store = store
        self.feeds = {f.name: f for f in feeds}
        self.on_result = on_result
        self.fetcher = fetcher

    def due(self, now: float) -> list[FeedConfig]:
        """Feeds whose interval has passed since their last attempt (never-polled feeds are due)."""
        status = {s.name: s for s in self.store.feeds()}
        out = []
        for feed in self.feeds.values():
            seen = status.get(feed.name)
            if seen is None or seen.last_attempt is None or now - seen.last_attempt >= feed.interval:
                out.append(feed)
        return out

    def run(self, feed: FeedConfig, now: float) -> FeedOutcome:
        """Fetch and store one feed now."""
        status = self.store.feed(feed.name)
        try:
            batch = self.fetcher(feed, status.cursor if status else None)
        except (FeedFetchError, ParseError) as exc:
            log.warning("feed %s failed: %s", feed.name, exc)
            self.store.record_failure(feed.name, str(exc), kind=feed.kind, now=now)
            return FeedOutcome(feed.name, False, str(exc))
        result = self.store.store(batch, kind=feed.kind, now=now)
        if self.on_result is not None:
            self.on_result(result)
        return FeedOutcome(feed.name, True, None, result, tuple(batch.problems[:50]))

    def run_due(self, now: float) -> list[FeedOutcome]:
        """Run every due feed."""
        return [self.run(feed, now) for feed in self.due(now)]

"""The threat-indicator store: one transaction per feed batch, per-feed ownership, failure bookkeeping.

Rules (issue 9, "Must show" 5):

* a batch is written whole or not at all (one ``engine.begin()``);
* a snapshot batch (``complete=True``) replaces only rows of *its own* feed; an incremental batch only
  adds and refreshes; no feed ever deletes what another feed contributed;
* a failed fetch (unreachable, slow, malformed) is recorded with :meth:`IndicatorStore.record_failure`
  and leaves the knowledge in place.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wardwatch.detect.indicators import Indicator
from wardwatch.intel.indicators import NETWORK_KINDS, IndicatorBatch, ThreatIndicator, Tlp, url_host
from wardwatch.intel.ti_tables import ti_feeds, ti_indicators, ti_vulnerabilities


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What one batch changed."""

    feed: str
    added: tuple[ThreatIndicator, ...]  # values no feed held before
    refreshed: int
    removed: int
    new_cves: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """The bookkeeping of one feed."""

    name: str
    kind: str
    last_attempt: float | None
    last_success: float | None
    last_error: str | None
    failures: int
    cursor: str | None
    items: int


def _row(ind: ThreatIndicator, now: float) -> dict[str, Any]:
    return {"feed": ind.feed, "kind": ind.kind, "value": ind.value, "tlp": int(ind.tlp),
            "confidence": ind.confidence, "source": ind.source[:200], "ref": ind.ref[:200],
            "description": ind.description[:300], "valid_from": ind.valid_from, "expires": ind.expires,
            "first_seen": now, "last_seen": now}


def _indicator(row: Any) -> ThreatIndicator:
    return ThreatIndicator(kind=row.kind, value=row.value, feed=row.feed, tlp=Tlp(row.tlp),
                           confidence=row.confidence, source=row.source, ref=row.ref,
                           description=row.description, valid_from=row.valid_from, expires=row.expires)


class IndicatorStore:
    """Indicators and CVE references of every feed, in the inventory database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def store(self, batch: IndicatorBatch, *, kind: str = "", now: float | None = None) -> StoreResult:
        """Write one batch in one transaction and mark the feed successful."""
        moment = time.time() if now is None else now
        unique = {(i.kind, i.value): i for i in batch.indicators}
        with self.engine.begin() as conn:
            known_any = self._known(conn, list(unique))
            held = {(r.kind, r.value): r.id for r in conn.execute(
                sa.select(ti_indicators.c.id, ti_indicators.c.kind, ti_indicators.c.value)
                .where(ti_indicators.c.feed == batch.feed))}
            fresh = [i for k, i in unique.items() if k not in held]
            again = [i for k, i in unique.items() if k in held]
            if fresh:
                conn.execute(ti_indicators.insert(), [_row(i, moment) for i in fresh])
            for ind in again:
                values = _row(ind, moment)
                del values["first_seen"]
                conn.execute(ti_indicators.update().where(ti_indicators.c.id == held[(ind.kind, ind.value)]),
                             values)
            removed = 0
            if batch.complete:
                gone = [pk for key, pk in held.items() if key not in unique]
                for start in range(0, len(gone), 1000):
                    removed += conn.execute(ti_indicators.delete().where(
                        ti_indicators.c.feed == batch.feed, ti_indicators.c.id.in_(gone[start:start + 1000]))
                    ).rowcount
            new_cves = self._store_cves(conn, batch, moment)
            items = conn.execute(sa.select(sa.func.count()).select_from(ti_indicators)
                                 .where(ti_indicators.c.feed == batch.feed)).scalar_one()
            self._status(conn, batch.feed, kind, moment, success=True, error=None, cursor=batch.cursor,
                         items=int(items))
        added = tuple(i for i in fresh if (i.kind, i.value) not in known_any)
        return StoreResult(batch.feed, added, len(again), removed, new_cves)

    @staticmethod
    def _known(conn: sa.Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        known: set[tuple[str, str]] = set()
        values = [v for _, v in keys]
        for start in range(0, len(values), 1000):
            rows = conn.execute(sa.select(ti_indicators.c.kind, ti_indicators.c.value)
                                .where(ti_indicators.c.value.in_(values[start:start + 1000])))
            known.update((r.kind, r.value) for r in rows)
        return known

    @staticmethod
    def _store_cves(conn: sa.Connection, batch: IndicatorBatch, now: float) -> tuple[str, ...]:
        cves = {v.cve: v for v in batch.vulnerabilities}
        if not cves:
            return ()
        before = set(conn.execute(sa.select(ti_vulnerabilities.c.cve).where(
            ti_vulnerabilities.c.cve.in_(list(cves)))).scalars())
        mine = set(conn.execute(sa.select(ti_vulnerabilities.c.cve).where(
            ti_vulnerabilities.c.feed == batch.feed, ti_vulnerabilities.c.cve.in_(list(cves)))).scalars())
        rows = [{"feed": batch.feed, "cve": v.cve, "tlp": int(v.tlp), "ref": v.ref[:200],
                 "description": v.description[:300], "first_seen": now, "last_seen": now}
                for c, v in cves.items() if c not in mine]
        if rows:
            conn.execute(ti_vulnerabilities.insert(), rows)
        conn.execute(ti_vulnerabilities.update().where(ti_vulnerabilities.c.feed == batch.feed,
                                                       ti_vulnerabilities.c.cve.in_(list(mine))),
                     {"last_seen": now})
        return tuple(sorted(set(cves) - before))

    def record_failure(self, feed: str, error: str, *, kind: str = "", now: float | None = None) -> None:
        """Note a failed fetch; the feed's indicators stay as they were."""
        with self.engine.begin() as conn:
            self._status(conn, feed, kind, time.time() if now is None else now, success=False,
                         error=error[:500], cursor=None, items=None)

    @staticmethod
    def _status(conn: sa.Connection, feed: str, kind: str, now: float, *, success: bool, error: str | None,
                cursor: str | None, items: int | None) -> None:
        row = conn.execute(sa.select(ti_feeds).where(ti_feeds.c.name == feed)).first()
        if row is None:
            conn.execute(ti_feeds.insert(), {"name": feed, "kind": kind or "?", "last_attempt": now,
                                             "last_success": now if success else None, "last_error": error,
                                             "failures": 0 if success else 1, "cursor": cursor,
                                             "items": items or 0})
            return
        values: dict[str, Any] = {"last_attempt": now, "last_error": error}
        if kind:
            values["kind"] = kind
        if success:
            values.update(last_success=now, failures=0, items=items if items is not None else row.items)
            if cursor is not None:
                values["cursor"] = cursor
        else:
            values["failures"] = row.failures + 1
        conn.execute(ti_feeds.update().where(ti_feeds.c.name == feed), values)

    # -- reading ------------------------------------------------------------------------------------
    def feeds(self) -> list[FeedStatus]:
        """The status of every feed seen so far."""
        with self.engine.connect() as conn:
            return [FeedStatus(r.name, r.kind, r.last_attempt, r.last_success, r.last_error, r.failures,
                               r.cursor, r.items) for r in conn.execute(sa.select(ti_feeds).order_by(ti_feeds.c.name))]

    def feed(self, name: str) -> FeedStatus | None:
        """The status of one feed."""
        return next((f for f in self.feeds() if f.name == name), None)

    def indicators(self, *, feed: str | None = None, now: float | None = None) -> list[ThreatIndicator]:
        """Stored indicators (of one feed, or all); with ``now``, only those live at that time."""
        query = sa.select(ti_indicators).order_by(ti_indicators.c.id)
        if feed is not None:
            query = query.where(ti_indicators.c.feed == feed)
        with self.engine.connect() as conn:
            items = [_indicator(r) for r in conn.execute(query)]
        return [i for i in items if now is None or i.live(now)]

    def cves(self) -> dict[str, list[str]]:
        """CVE → the feeds naming it."""
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(ti_vulnerabilities.c.cve, ti_vulnerabilities.c.feed)):
                out.setdefault(r.cve, []).append(r.feed)
        return out

    def detection_indicators(self, now: float) -> Iterator[Indicator]:
        """Live network indicators in the detection engine's shape (an ``IndicatorSource``)."""
        yield from as_detection(self.indicators(now=now))


class StoredIndicators:
    """``detect.indicators.IndicatorSource`` over the store, at a given time."""

    def __init__(self, store: IndicatorStore, now: float) -> None:
        self.store = store
        self.now = now

    def indicators(self) -> Iterable[Indicator]:
        """The live network indicators."""
        return self.store.detection_indicators(self.now)


def as_detection(items: Iterable[ThreatIndicator]) -> Iterator[Indicator]:
    """Network-matchable indicators for the detection engine; URLs contribute their host."""
    for item in items:
        kind, value = item.kind, item.value
        if kind == "url":
            host = url_host(value)
            if host is None:
                continue
            kind, value = ("ip", host) if host.replace(".", "").isdigit() or ":" in host else ("domain", host)
        if kind not in NETWORK_KINDS:
            continue
        yield Indicator(kind=kind, value=value, source=item.feed, confidence=item.confidence,
                        description=f"{item.tlp.label} {item.description}".strip()[:300], expires=item.expires)

"""The server side: batches from the bus into the inventory, each exactly once.

:class:`Applier` applies one batch in ONE transaction: it records the batch id in ``bus_batches``
(``pipeline.ledger``), resolves the Observations through the inventory's resolver and store, writes the
flows, an ``ingest_runs`` row (source ``bus:<batch id>``) and the sensor's status row, then commits. A
batch whose id is already recorded is skipped, so redelivery after a lost ack, a killed worker or a
sensor resending its spool changes nothing. On PostgreSQL the transaction first takes an advisory lock,
so several workers never resolve the same device concurrently (the resolver reads, then writes).

:func:`consume` is a worker's loop: fetch, decode, apply in a thread (the bus connection keeps its
heartbeats), and only then ack; a database failure naks the message for redelivery; a malformed message
is terminated and counted.

The ledger would grow by one row per batch forever, so the loop also runs a :class:`LedgerPruner`: at most
once per interval (hourly by default) it forgets batch ids applied more than the retention ago
(``[server] ledger_retention_days``, default twice the stream's 7-day ``max_age``: a batch older than the
stream can no longer be redelivered by JetStream, and a sensor's spool resends within the stream's age).
It deletes in chunks, each its own short transaction, between fetches, so batch application waits at
most for one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from wardwatch.inventory.db import InventoryError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline import ledger
from wardwatch.pipeline.batch import Batch, BatchError, decode
from wardwatch.pipeline.bus.interface import STREAM_MAX_AGE, BusUnavailable, Subscriber
from wardwatch.settings import Settings

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock key serialising ingest transactions ("ww" "in" as ASCII).
INGEST_LOCK = 0x7777_696E
DAY = 86400.0
#: The bus's ``max_age`` (:data:`~wardwatch.pipeline.bus.interface.STREAM_MAX_AGE`), in days.
STREAM_MAX_AGE_DAYS = STREAM_MAX_AGE / DAY


class ServerSettings(BaseModel):
    """The ``[server]`` settings section (``WARDWATCH_SERVER__LEDGER_RETENTION_DAYS`` ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ledger_retention_days: float = Field(
        default=2 * STREAM_MAX_AGE_DAYS, gt=0,
        description="days an applied batch id is remembered (must exceed the stream's max_age)")
    ledger_prune_interval: float = Field(default=3600.0, gt=0, description="seconds between ledger prunes")
    ledger_prune_chunk: int = Field(default=5000, ge=1, description="rows deleted per transaction")

    @classmethod
    def of(cls, settings: Settings) -> ServerSettings:
        """The validated section of ``settings`` (:class:`~wardwatch.errors.ConfigError` if invalid)."""
        return settings.section("server", cls)


@dataclass
class WorkerStats:
    """What one worker did."""

    applied: int = 0
    duplicates: int = 0
    malformed: int = 0
    failed: int = 0
    observations: int = 0
    last_error: str = ""
    started: float = field(default_factory=time.time)


class Applier:
    """Applies batches to an inventory, idempotently."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.postgres = inventory.engine.dialect.name == "postgresql"

    def apply(self, batch: Batch) -> bool:
        """Apply ``batch`` once; False when it had been applied before. :class:`InventoryError` on failure."""
        try:
            with self.inventory.engine.begin() as conn:
                if self.postgres:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INGEST_LOCK)))
                if not ledger.claim(conn, batch):
                    return False
                self.inventory.ingest_in(conn, batch.observations, batch.flows, source=f"bus:{batch.id}")
                ledger.touch_sensor(conn, batch)
        except SQLAlchemyError as exc:
            raise InventoryError(f"batch {batch.id} not applied: {exc.__class__.__name__}: "
                                 f"{str(exc).splitlines()[0]}") from exc
        return True


class LedgerPruner:
    """Forgets old ``bus_batches`` rows at most once per interval; clock injectable (tests never sleep)."""

    def __init__(self, engine: sa.Engine, *, retention: float = 2 * STREAM_MAX_AGE_DAYS * DAY,
                 interval: float = 3600.0, chunk: int = 5000, clock: Callable[[], float] = time.time) -> None:
        if retention <= 0 or interval <= 0 or chunk < 1:
            raise ValueError("retention and interval must be positive, chunk at least 1")
        self.engine, self.retention, self.interval, self.chunk, self.clock = engine, retention, interval, chunk, clock
        self.next_run = clock()  # the first check after start prunes
        self.pruned = 0

    @classmethod
    def from_settings(cls, engine: sa.Engine, settings: ServerSettings,
                      clock: Callable[[], float] = time.time) -> LedgerPruner:
        """A pruner with the ``[server]`` retention, interval and chunk."""
        return cls(engine, retention=settings.ledger_retention_days * DAY, interval=settings.ledger_prune_interval,
                   chunk=settings.ledger_prune_chunk, clock=clock)

    def due(self) -> bool:
        """Whether the interval has passed since the last run."""
        return self.clock() >= self.next_run

    def run(self) -> int:
        """Prune now (chunk by chunk, one transaction each); returns how many rows went."""
        now = self.clock()
        self.next_run = now + self.interval
        cutoff = now - self.retention
        total = 0
        while True:
            with self.engine.begin() as conn:
                gone = ledger.prune(conn, cutoff, limit=self.chunk)
            total += gone
            if gone < self.chunk:
                break
        self.pruned += total
        log.info("ledger: forgot %d applied batch ids older than %.1f days", total, self.retention / DAY)
        return total

    def maybe_run(self) -> int | None:
        """:meth:`run` when :meth:`due`; a database failure is logged and retried next interval."""
        if not self.due():
            return None
        try:
            return self.run()
        except SQLAlchemyError as exc:
            log.warning("ledger prune failed, retrying in %.0f s: %s: %s", self.interval, exc.__class__.__name__,
                        str(exc).splitlines()[0] if str(exc) else "")
            return None


async def consume(subscriber: Subscriber, applier: Applier, stop: asyncio.Event, *, fetch: int = 16,
                  stats: WorkerStats | None = None, on_applied: Callable[[Batch], None] | None = None,
                  pruner: LedgerPruner | None = None) -> WorkerStats:
    """Run one worker until ``stop`` is set; returns its counters. ``pruner`` runs between fetches."""
    stats = stats or WorkerStats()
    backoff = 0.1
    while not stop.is_set():
        if pruner is not None and pruner.due():
            await asyncio.to_thread(pruner.maybe_run)
        try:
            deliveries = await subscriber.fetch(fetch, timeout=0.5)
            backoff = 0.1
        except BusUnavailable as exc:
            log.info("bus unavailable: %s", exc)
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        for delivery in deliveries:
            try:
                batch = decode(delivery.data)
            except BatchError as exc:
                stats.malformed += 1
                log.warning("malformed batch terminated: %s", exc)
                await delivery.term()
                continue
            try:
                applied = await asyncio.to_thread(applier.apply, batch)
            except InventoryError as exc:
                stats.failed += 1
                stats.last_error = str(exc)
                log.warning("%s; will be redelivered", exc)
                await delivery.nak(delay=min(0.5 * delivery.attempt, 5.0))
                continue
            await delivery.ack()
            if applied:
                stats.applied += 1
                stats.observations += len(batch)
                if on_applied is not None:
                    on_applied(batch)
            else:
                stats.duplicates += 1
    return stats


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

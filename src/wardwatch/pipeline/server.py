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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from wardwatch.inventory.db import InventoryError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline import ledger
from wardwatch.pipeline.batch import Batch, BatchError, decode
from wardwatch.pipeline.bus.interface import BusUnavailable, Subscriber

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock key serialising ingest transactions ("ww" "in" as ASCII).
INGEST_LOCK = 0x7777_696E


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


async def consume(subscriber: Subscriber, applier: Applier, stop: asyncio.Event, *, fetch: int = 16,
                  stats: WorkerStats | None = None, on_applied: Callable[[Batch], None] | None = None) -> WorkerStats:
    """Run one worker until ``stop`` is set; returns its counters."""
    stats = stats or WorkerStats()
    backoff = 0.1
    while not stop.is_set():
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

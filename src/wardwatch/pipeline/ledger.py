"""The server's ledger: which batches were applied, and what each sensor last reported.

``bus_batches`` holds one row per applied batch id (``pipeline.batch.BatchId``); it is written in the
same transaction as the batch's Observations, so a redelivered batch finds its row and is skipped: the
inventory sees every batch exactly once. ``sensors`` keeps, per sensor, the header of its newest batch
(time, counters such as kernel drops) and when the server last heard from it, for ``wardwatch status``.
Both tables live on the inventory's metadata and are created by migration ``8a01_realtime``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wardwatch.inventory.tables import metadata
from wardwatch.pipeline.batch import Batch

bus_batches = sa.Table(
    "bus_batches",
    metadata,
    sa.Column("sensor", sa.String(64), primary_key=True),
    sa.Column("epoch", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("site", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False, index=True),
    sa.Column("observations", sa.Integer, nullable=False),
    sa.Column("flows", sa.Integer, nullable=False),
)

sensors = sa.Table(
    "sensors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("site", sa.String(64), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("last_batch", sa.Float, nullable=False),  # the newest batch's creation time (sensor clock)
    sa.Column("last_contact", sa.Float, nullable=False),  # when the server applied it (server clock)
    sa.Column("batches", sa.BigInteger, nullable=False),
    sa.Column("observations", sa.BigInteger, nullable=False),
    sa.Column("counters", sa.JSON, nullable=False),
)


@dataclass(frozen=True)
class SensorStatus:
    """One row of ``wardwatch status``."""

    name: str
    site: str
    source: str
    last_batch: float
    last_contact: float
    batches: int
    observations: int
    counters: dict[str, int]

    def lag(self, now: float | None = None) -> float:
        """Seconds between the newest batch's creation and ``now``."""
        return max(0.0, (time.time() if now is None else now) - self.last_batch)


def claim(conn: sa.Connection, batch: Batch) -> bool:
    """Record ``batch`` as applied; False when it already was (then the caller must roll back)."""
    bid = batch.id
    key = (bus_batches.c.sensor == bid.sensor) & (bus_batches.c.epoch == bid.epoch) & (bus_batches.c.seq == bid.seq)
    if conn.execute(sa.select(sa.literal(1)).select_from(bus_batches).where(key)).first() is not None:
        return False
    conn.execute(sa.insert(bus_batches), {"sensor": bid.sensor, "epoch": bid.epoch, "seq": bid.seq,
                                          "site": batch.site, "created": batch.created,
                                          "applied_at": time.time(), "observations": len(batch.observations),
                                          "flows": len(batch.flows)})
    return True


def touch_sensor(conn: sa.Connection, batch: Batch) -> None:
    """Update the sensor's row from this batch's header (newest batch wins for time and counters)."""
    now = time.time()
    row = conn.execute(sa.select(sensors).where(sensors.c.name == batch.id.sensor)).first()
    if row is None:
        conn.execute(sa.insert(sensors), {"name": batch.id.sensor, "site": batch.site, "source": batch.source,
                                          "last_batch": batch.created, "last_contact": now, "batches": 1,
                                          "observations": len(batch.observations), "counters": batch.counters})
        return
    values: dict[str, Any] = {"last_contact": now, "batches": row.batches + 1,
                              "observations": row.observations + len(batch.observations)}
    if batch.created >= row.last_batch:
        values.update(last_batch=batch.created, counters=batch.counters, site=batch.site, source=batch.source)
    conn.execute(sa.update(sensors).where(sensors.c.name == batch.id.sensor).values(**values))


def sensor_status(conn: sa.Connection) -> list[SensorStatus]:
    """Every known sensor, by name."""
    rows = conn.execute(sa.select(sensors).order_by(sensors.c.name))
    return [SensorStatus(r.name, r.site, r.source, r.last_batch, r.last_contact, r.batches, r.observations,
                         {str(k): int(v) for k, v in dict(r.counters or {}).items()}) for r in rows]


def prune(conn: sa.Connection, older_than: float, *, limit: int | None = None) -> int:
    """Forget applied-batch ids older than ``older_than`` (beyond the bus's redelivery horizon); at most
    ``limit`` of the oldest when given, so a caller can keep each transaction short. Returns how many went."""
    old = bus_batches.c.applied_at < older_than
    if limit is None:
        return conn.execute(sa.delete(bus_batches).where(old)).rowcount
    key = sa.tuple_(bus_batches.c.sensor, bus_batches.c.epoch, bus_batches.c.seq)
    oldest = (sa.select(bus_batches.c.sensor, bus_batches.c.epoch, bus_batches.c.seq).where(old)
              .order_by(bus_batches.c.applied_at).limit(limit))
    return conn.execute(sa.delete(bus_batches).where(key.in_(oldest))).rowcount

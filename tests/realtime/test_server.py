"""The server applies each batch exactly once and keeps sensor status (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import require_shared
from wardwatch.domain.observation import Observation
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.allinone import run_all_in_one
from wardwatch.pipeline.batch import Batch, BatchId, encode
from wardwatch.pipeline.bus.memory import MemoryBus
from wardwatch.pipeline.ledger import sensor_status
from wardwatch.pipeline.sensor import MemoryOutlet, Sensor, SensorSettings
from wardwatch.pipeline.server import Applier, consume
from wardwatch.pipeline.sources import LogSource
from wardwatch.pipeline.spool import IdSource


def _batch(seq: int, n: int, created: float = 100.0) -> Batch:
    obs = tuple(Observation(ts=float(i), sensor="s1", kind="dhcp.hostname", value=f"h{seq}-{i}",
                            mac=f"02:00:00:00:{seq:02x}:{i:02x}") for i in range(n))
    return Batch(id=BatchId("s1", 1, seq), site="icu", created=created, observations=obs,
                 counters={"packets": 10 * seq, "drops": seq}, source="interface")


def test_redelivered_batch_is_skipped(database_url: str) -> None:
    inventory = Inventory.open(database_url)
    applier = Applier(inventory)
    assert applier.apply(_batch(1, 5))
    assert not applier.apply(_batch(1, 5))  # redelivery
    assert applier.apply(_batch(2, 3, created=50.0))  # older batch, applied, status keeps the newest
    assert inventory.count_devices() == 8
    runs = [r for r in inventory.ingest_runs() if r["source"].startswith("bus:")]
    assert sorted(r["source"] for r in runs) == ["bus:s1.1.1", "bus:s1.1.2"]
    with inventory.engine.connect() as conn:
        (status,) = sensor_status(conn)
        assert conn.execute(sa.text("SELECT count(*) FROM bus_batches")).scalar() == 2
    assert (status.name, status.site, status.batches, status.observations) == ("s1", "icu", 2, 8)
    assert status.counters == {"packets": 10, "drops": 1}
    assert status.lag(now=101.0) == 1.0
    inventory.close()


def test_consume_terminates_malformed_and_acks_applied(sqlite_url: str) -> None:
    inventory = Inventory.open(sqlite_url)
    bus = MemoryBus()
    bus.put("bad", b"\x07garbage")
    bus.put("s1.1.1", encode(_batch(1, 2)))
    bus.put("s1.1.1", encode(_batch(1, 2)))  # published twice

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(consume(bus, Applier(inventory), stop))
        await asyncio.to_thread(bus.wait_idle, 10)
        stop.set()
        stats = await task
        assert (stats.applied, stats.duplicates, stats.malformed) == (1, 1, 1)

    asyncio.run(run())
    assert bus.pending == 0
    inventory.close()


def test_all_in_one_zeek_logs(sqlite_url: str, tmp_path: Path) -> None:
    logs = require_shared("zeek-logs", "scripts.base.protocols.dhcp.dhcp-all-msg-types__dhcp.log")
    bus = MemoryBus()
    sensor = Sensor(SensorSettings(name="z1", site="icu", interval=0.1), LogSource([logs], "z1", "zeek"),
                    MemoryOutlet(bus), IdSource("z1"))
    report = run_all_in_one(sqlite_url, sensor, threading.Event())
    assert report.observations > 0
    inventory = Inventory.open(sqlite_url)
    device = inventory.get_device("90:b1:1c:99:49:29")
    assert any(a.value == "btest.is.cool" for a in device.attributes.values())
    inventory.close()

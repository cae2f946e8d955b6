"""The batch ledger is pruned: old ids go, recent ones stay and still catch redeliveries; the schedule
runs on an injected clock (no sleeping)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from wardwatch.domain.observation import Observation
from wardwatch.errors import ConfigError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.batch import Batch, BatchId, encode
from wardwatch.pipeline.bus.memory import MemoryBus
from wardwatch.pipeline.ledger import bus_batches
from wardwatch.pipeline.server import DAY, Applier, LedgerPruner, ServerSettings, consume
from wardwatch.settings import Settings

NOW = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _batch(seq: int) -> Batch:
    obs = (Observation(ts=1.0, sensor="s1", kind="dhcp.hostname", value=f"h{seq}", mac=f"02:00:00:00:00:{seq:02x}"),)
    return Batch(id=BatchId("s1", 1, seq), site="icu", created=100.0, observations=obs, counters={},
                 source="interface")


def _age(inventory: Inventory, seqs: range, applied_at: float) -> None:
    with inventory.engine.begin() as conn:
        conn.execute(sa.update(bus_batches).where(bus_batches.c.seq.in_(list(seqs))).values(applied_at=applied_at))


def _seqs(inventory: Inventory) -> list[int]:
    with inventory.engine.connect() as conn:
        return sorted(conn.execute(sa.select(bus_batches.c.seq)).scalars())


def test_old_ids_go_recent_stay_and_still_catch_redelivery(database_url: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    inventory = Inventory.open(database_url)
    applier = Applier(inventory)
    for seq in range(1, 8):
        assert applier.apply(_batch(seq))
    _age(inventory, range(1, 6), NOW - 15 * DAY)  # beyond the 14-day default retention
    _age(inventory, range(6, 7), NOW - 13 * DAY)  # within it
    _age(inventory, range(7, 8), NOW - 60)
    pruner = LedgerPruner.from_settings(inventory.engine, ServerSettings(ledger_prune_chunk=2), clock=Clock(NOW))
    caplog.set_level(logging.INFO, logger="wardwatch.pipeline.server")
    assert pruner.run() == 5  # in chunks of 2, 2, 1
    assert "forgot 5 applied batch ids older than 14.0 days" in caplog.text
    assert _seqs(inventory) == [6, 7]
    assert not applier.apply(_batch(6)) and not applier.apply(_batch(7))  # redelivered recent batches: duplicates
    assert pruner.run() == 0
    inventory.close()


def test_schedule_runs_at_most_once_per_interval(sqlite_url: str) -> None:
    inventory = Inventory.open(sqlite_url)
    applier = Applier(inventory)
    clock = Clock(NOW)
    pruner = LedgerPruner(inventory.engine, retention=14 * DAY, interval=3600, clock=clock)
    assert pruner.due() and pruner.maybe_run() == 0  # first check after start
    assert applier.apply(_batch(1))
    _age(inventory, range(1, 2), NOW - 20 * DAY)
    clock.now += 3599
    assert not pruner.due() and pruner.maybe_run() is None and _seqs(inventory) == [1]
    clock.now += 1
    assert pruner.due() and pruner.maybe_run() == 1 and _seqs(inventory) == []
    assert not pruner.due() and pruner.pruned == 1
    inventory.close()


def test_consume_prunes_between_fetches(sqlite_url: str) -> None:
    inventory = Inventory.open(sqlite_url)
    applier = Applier(inventory)
    assert applier.apply(_batch(1))
    _age(inventory, range(1, 2), NOW - 30 * DAY)
    bus = MemoryBus()
    bus.put("s1.1.2", encode(_batch(2)))
    bus.put("s1.1.2", encode(_batch(2)))  # redelivered
    clock = Clock(NOW)
    pruner = LedgerPruner(inventory.engine, interval=3600, clock=clock)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(consume(bus, applier, stop, pruner=pruner))
        await asyncio.to_thread(bus.wait_idle, 10)
        stop.set()
        stats = await task
        assert (stats.applied, stats.duplicates) == (1, 1)

    asyncio.run(run())
    assert pruner.pruned == 1 and pruner.next_run == NOW + 3600  # ran once: the clock did not move
    assert _seqs(inventory) == [2]
    inventory.close()


def test_prune_failure_is_logged_and_retried_next_interval(caplog: pytest.LogCaptureFixture) -> None:
    engine = sa.create_engine("sqlite://")  # no ledger table: the delete fails
    clock = Clock(NOW)
    pruner = LedgerPruner(engine, interval=60, clock=clock)
    assert pruner.maybe_run() is None and "ledger prune failed" in caplog.text
    assert not pruner.due()
    clock.now += 60
    assert pruner.due()
    engine.dispose()


def test_server_section(tmp_path: Path) -> None:
    assert ServerSettings.of(Settings.load(environ={}, config_file=None)).ledger_retention_days == 14.0
    settings = Settings.load(environ={"WARDWATCH_SERVER__LEDGER_RETENTION_DAYS": "30"}, config_file=None)
    assert ServerSettings.of(settings).ledger_retention_days == 30.0
    path = tmp_path / "wardwatch.toml"
    path.write_text("[server]\nledger_retention_days = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ServerSettings.of(Settings.load(environ={}, config_file=path))
    assert str(caught.value) == "invalid setting server.ledger_retention_days: Input should be greater than 0"

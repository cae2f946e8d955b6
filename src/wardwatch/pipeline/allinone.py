"""The all-in-one mode: sensor and server in one process, joined by the in-process bus.

The same batches, ids and idempotent apply as the distributed mode (``pipeline.server``), without NATS:
the sensor loop runs in the calling thread, one server worker consumes the :class:`MemoryBus` in a
thread of its own, and at the end every published batch is applied before this returns.
"""

from __future__ import annotations

import asyncio
import threading

from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.sensor import MemoryOutlet, Sensor, SensorReport
from wardwatch.pipeline.server import Applier, LedgerPruner, ServerSettings, WorkerStats, consume

#: Longest wait at the end for the server side to apply what the sensor sent.
DRAIN_TIMEOUT = 300.0


def run_all_in_one(database_url: str, sensor: Sensor, stop: threading.Event, *,
                   local_networks: tuple[str, ...] = (), server: ServerSettings | None = None) -> SensorReport:
    """Run ``sensor`` (whose outlet must be a :class:`MemoryOutlet`) into the inventory at ``database_url``;
    the server side prunes the batch ledger per ``server`` (the ``[server]`` section; default: its defaults)."""
    outlet = sensor.outlet
    if not isinstance(outlet, MemoryOutlet):
        raise TypeError("the all-in-one mode needs a MemoryOutlet")
    bus = outlet.bus
    inventory = Inventory.open(database_url, local_networks=local_networks)
    stats = WorkerStats()
    done = threading.Event()
    holder: dict[str, asyncio.AbstractEventLoop | asyncio.Event] = {}

    async def serve() -> None:
        halt = asyncio.Event()
        holder["loop"], holder["halt"] = asyncio.get_running_loop(), halt
        pruner = LedgerPruner.from_settings(inventory.engine, server or ServerSettings())
        await consume(bus, Applier(inventory), halt, stats=stats, pruner=pruner)

    def server_main() -> None:
        try:
            asyncio.run(serve())
        finally:
            done.set()

    thread = threading.Thread(target=server_main, name="wardwatch-allinone-server", daemon=True)
    thread.start()
    try:
        report = sensor.run(stop)
    finally:
        bus.wait_idle(DRAIN_TIMEOUT)
        loop, halt = holder.get("loop"), holder.get("halt")
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(halt, asyncio.Event):
            loop.call_soon_threadsafe(halt.set)
        thread.join(30)
        inventory.close()
    return report

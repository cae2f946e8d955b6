"""A sensor subprocess with a counted synthetic source: the real sensor loop, spool, sender and JetStream.

``python -m tests.realtime.emitter NATS_URL DEPLOYMENT SITE SENSOR SPOOL COUNT PER_TICK`` emits COUNT
Observations of kind ``test.seq`` (values ``<sensor>-<i>``, one device per sensor), PER_TICK every
20 ms, then drains its spool and exits 0 (1 when something stayed unsent).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from wardwatch.domain.observation import Observation
from wardwatch.pipeline.bus.jetstream import Connection, JetStreamPublisher, NatsOptions
from wardwatch.pipeline.bus.sender import SpoolSender
from wardwatch.pipeline.sensor import Sensor, SensorSettings, SpoolOutlet
from wardwatch.pipeline.sources import Emit
from wardwatch.pipeline.spool import IdSource, Spool


class CountedSource:
    """COUNT distinct observations, PER_TICK at a time."""

    kind = "test"

    def __init__(self, sensor: str, count: int, per_tick: int, mac: str) -> None:
        self.sensor, self.count, self.per_tick, self.mac = sensor, count, per_tick, mac
        self.emitted = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        while self.emitted < self.count and not stop.is_set():
            n = min(self.per_tick, self.count - self.emitted)
            emit([Observation(ts=1.0e9 + self.emitted + i, sensor=self.sensor, kind="test.seq",
                              value=f"{self.sensor}-{self.emitted + i}", mac=self.mac, source="test")
                  for i in range(n)], [])
            self.emitted += n
            stop.wait(0.02)

    def counters(self) -> dict[str, int]:
        return {"emitted": self.emitted}


def main(argv: list[str]) -> int:
    url, deployment, site, name, spool_dir, count, per_tick, mac = argv
    folder = Path(spool_dir)
    spool = Spool(folder)

    async def connect() -> Any:
        conn = await Connection(NatsOptions(servers=(url,), name=name)).open()
        return JetStreamPublisher(conn, deployment, site, timeout=2.0)

    sender = SpoolSender(spool, connect).start()
    source = CountedSource(name, int(count), int(per_tick), mac)
    Sensor(SensorSettings(name=name, site=site, interval=0.1), source, SpoolOutlet(spool, sender),
           IdSource(name, folder)).run(threading.Event())
    ok = sender.stop(120)
    print(f"sent {sender.sent}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

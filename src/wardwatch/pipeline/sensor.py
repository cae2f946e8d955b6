"""The sensor loop: a source's Observations cut into batches, each with a stable id, handed to an outlet.

The source runs in its own thread and emits as it reads; the loop cuts a batch every ``interval`` seconds
(sooner when ``max_observations`` are waiting), and sends a heartbeat batch (no Observations, fresh
counters: packets, kernel drops ...) at least every ``heartbeat`` seconds so the server knows the sensor
is alive and what it is missing. When the source ends or ``stop`` is set (SIGINT/SIGTERM), the source
flushes what it has seen and the last batch goes out.

Outlets: :class:`SpoolOutlet` (distributed mode: the fsync'd spool, drained by
``bus.sender.SpoolSender``) and :class:`MemoryOutlet` (all-in-one mode: the in-process bus).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.pipeline.batch import Batch, BatchId, encode
from wardwatch.pipeline.bus.memory import MemoryBus
from wardwatch.pipeline.bus.sender import SpoolSender, frame
from wardwatch.pipeline.sources import Source
from wardwatch.pipeline.spool import IdSource, Spool

log = logging.getLogger(__name__)


class Outlet(Protocol):
    """Where finished batches go."""

    @property
    def refused(self) -> int:
        """Batches that could not be kept."""
        ...

    def put(self, batch_id: BatchId, data: bytes) -> bool:
        """Take an encoded batch; False when it could not be kept (counted in ``refused``)."""
        ...


class SpoolOutlet:
    """Append to the spool and wake the sender."""

    def __init__(self, spool: Spool, sender: SpoolSender | None) -> None:
        self.spool = spool
        self.sender = sender

    @property
    def refused(self) -> int:
        """Batches the full spool refused."""
        return self.spool.refused

    def put(self, batch_id: BatchId, data: bytes) -> bool:
        """Durably spool one batch."""
        ok = self.spool.append(frame(str(batch_id), data))
        if self.sender is not None:
            self.sender.wake()
        return ok


@dataclass
class MemoryOutlet:
    """Publish on the in-process bus."""

    bus: MemoryBus
    refused: int = 0

    def put(self, batch_id: BatchId, data: bytes) -> bool:
        """Enqueue one batch."""
        self.bus.put(str(batch_id), data)
        return True


@dataclass(frozen=True)
class SensorSettings:
    """Name, site and batching of a sensor."""

    name: str
    site: str
    interval: float = 1.0
    max_observations: int = 20_000
    heartbeat: float = 10.0


@dataclass
class SensorReport:
    """What a sensor run sent."""

    batches: int = 0
    observations: int = 0
    flows: int = 0
    refused: int = 0
    counters: dict[str, int] = field(default_factory=dict)


class Sensor:
    """Runs one source and batches its output."""

    def __init__(self, settings: SensorSettings, source: Source, outlet: Outlet, ids: IdSource) -> None:
        self.settings = settings
        self.source = source
        self.outlet = outlet
        self.ids = ids
        self.report = SensorReport()
        self._obs: list[Observation] = []
        self._flows: list[FlowRecord] = []
        self._lock = threading.Lock()
        self._last_cut = 0.0
        self._error: BaseException | None = None

    def _emit(self, observations: list[Observation], flows: list[FlowRecord]) -> None:
        with self._lock:
            self._obs.extend(observations)
            self._flows.extend(flows)
            full = len(self._obs) >= self.settings.max_observations
        if full:
            self.cut(force=False)

    def cut(self, *, force: bool) -> Batch | None:
        """Send what is pending (or a heartbeat when ``force`` or ``heartbeat`` elapsed); the batch sent."""
        with self._lock:
            now = time.time()
            if not self._obs and not self._flows and not force and now - self._last_cut < self.settings.heartbeat:
                return None
            limit = self.settings.max_observations
            obs, self._obs = self._obs[:limit], self._obs[limit:]
            flows, self._flows = self._flows, []
            counters = dict(self.source.counters())
            counters["spool_refused"] = self.outlet.refused
            batch = Batch(id=self.ids.next(), site=self.settings.site, created=now, observations=tuple(obs),
                          flows=tuple(flows), counters=counters, source=self.source.kind)
            if not self.outlet.put(batch.id, encode(batch)):
                log.error("batch %s (%d observations) refused: the spool is full", batch.id, len(obs))
                self.report.refused += 1
            self.report.batches += 1
            self.report.observations += len(obs)
            self.report.flows += len(flows)
            self.report.counters = counters
            self._last_cut = now
            more = len(self._obs) >= limit
        if more:
            self.cut(force=False)
        return batch

    def _source_main(self, stop: threading.Event) -> None:
        try:
            self.source.run(self._emit, stop)
        except BaseException as exc:  # re-raised in run() after the final batch
            self._error = exc

    def run(self, stop: threading.Event) -> SensorReport:
        """Run until the source ends or ``stop`` is set; re-raises the source's error after the last batch."""
        thread = threading.Thread(target=self._source_main, args=(stop,), name="wardwatch-source", daemon=True)
        thread.start()
        self._last_cut = time.time()
        while thread.is_alive():
            thread.join(self.settings.interval)
            if thread.is_alive():
                self.cut(force=False)
        self.cut(force=True)
        if self._error is not None:
            raise self._error
        return self.report

"""The live-interface source of the sensor, on one core or sharded over several worker processes.

With ``workers == 1`` the capture runs in the sensor's own thread. With ``workers > 1`` each worker
process opens the interface and joins one Linux ``PACKET_FANOUT`` group in hash mode: the kernel
spreads packets by a symmetric flow hash, so each worker owns whole flows (both directions) and runs
its own flow table and dissectors; workers send their Observations, flows and counters to the sensor
through a queue. A stop request (SIGINT/SIGTERM in the sensor) reaches the workers through an event;
each flushes its flow table before it exits, so what was seen is sent.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from wardwatch.capture.config import CaptureConfig
from wardwatch.capture.live import LiveCapture, LiveCounters, LiveEngine, LiveOptions
from wardwatch.dissect.registry import Registry
from wardwatch.errors import CaptureError
from wardwatch.pipeline.sources import Emit, PacketHarvester


def live_config() -> CaptureConfig:
    """Flow timeouts suited to a continuous capture (the file defaults keep TCP flows an hour)."""
    return CaptureConfig(tcp_timeout=600.0, udp_timeout=60.0, other_timeout=60.0, closed_timeout=5.0,
                         max_flows=500_000)

#: Seconds between two emits of a worker while traffic keeps coming.
EMIT_INTERVAL = 0.5


@dataclass(frozen=True)
class LiveSettings:
    """Options of the live source."""

    options: LiveOptions
    sensor: str
    workers: int = 1
    config: CaptureConfig = field(default_factory=live_config)
    local_networks: tuple[str, ...] = ()


def _loop(settings: LiveSettings, options: LiveOptions, emit: Emit, stop: Any,
          report: Any = None) -> LiveCounters:
    """Capture until ``stop``; emit every EMIT_INTERVAL; flush at the end. Returns the final counters."""
    harvester = PacketHarvester(Registry.from_entry_points(), settings.sensor, settings.local_networks)
    capture = LiveCapture(options).open()
    try:
        engine = LiveEngine(capture, harvester.sink, sensor=settings.sensor, config=settings.config)
        ended: list[Any] = []
        last = time.monotonic()
        while not stop.is_set():
            ended += engine.step()
            now = time.monotonic()
            if now - last >= EMIT_INTERVAL:
                emit(*harvester.harvest(ended))
                ended, last = [], now
                if report is not None:
                    report(capture.counters())
        ended += engine.finish()
        emit(*harvester.harvest(ended))
        return capture.counters()
    finally:
        capture.close()


def _worker(settings: LiveSettings, index: int, out: Any, stop: Any) -> None:
    """A fanout worker process: capture its share and send (kind, index, payload) tuples to ``out``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the sensor decides when to stop
    options = replace(settings.options, fanout_group=settings.options.fanout_group or (os.getppid() & 0xFFFF))
    try:
        counters = _loop(settings, options, lambda o, f: out.put(("data", index, (o, f))), stop,
                         lambda c: out.put(("counters", index, asdict(c))))
        out.put(("counters", index, asdict(counters)))
        out.put(("done", index, None))
    except CaptureError as exc:
        out.put(("error", index, str(exc)))


class LiveSource:
    """Live capture as a sensor source; ``counters()`` sums the workers' pcap statistics."""

    kind = "interface"

    def __init__(self, settings: LiveSettings) -> None:
        self.settings = settings
        self._counters: dict[int, LiveCounters] = {}
        self._lock = threading.Lock()
        self.ready = threading.Event()

    def _report(self, index: int, counters: LiveCounters) -> None:
        with self._lock:
            self._counters[index] = counters

    def counters(self) -> dict[str, int]:
        """Packets processed, kernel-received, dropped and interface-dropped, over all workers."""
        total = LiveCounters()
        with self._lock:
            for c in self._counters.values():
                total.processed += c.processed
                total.received += c.received
                total.dropped += c.dropped
                total.if_dropped += c.if_dropped
        return total.as_dict()

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Capture until ``stop`` is set; :class:`CaptureError` when the interface cannot be opened."""
        if self.settings.workers <= 1:
            self.ready.set()
            final = _loop(self.settings, self.settings.options, emit, stop, lambda c: self._report(0, c))
            self._report(0, final)
            return
        self._run_sharded(emit, stop)

    def _run_sharded(self, emit: Emit, stop: threading.Event) -> None:
        ctx = mp.get_context("spawn")
        out: Any = ctx.Queue()
        halt = ctx.Event()
        procs = [ctx.Process(target=_worker, args=(self.settings, i, out, halt), daemon=True)
                 for i in range(self.settings.workers)]
        for proc in procs:
            proc.start()
        self.ready.set()
        running = set(range(len(procs)))
        error: str | None = None
        try:
            while running:
                if stop.is_set():
                    halt.set()
                try:
                    kind, index, payload = out.get(timeout=0.2)
                except queue.Empty:
                    running = {i for i in running if procs[i].is_alive()}
                    continue
                if kind == "data":
                    emit(*payload)
                elif kind == "counters":
                    self._report(index, LiveCounters(**payload))
                elif kind == "error":
                    error = payload
                    running.discard(index)
                    halt.set()
                else:
                    running.discard(index)
        finally:
            halt.set()
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
            with contextlib.suppress(Exception):
                out.close()
        if error is not None:
            raise CaptureError(error)

"""Drain a sensor's spool onto the bus, in order, resuming wherever the bus went away.

The sender runs in its own thread with its own asyncio loop, so a blocking capture loop and a slow or
absent NATS never wait on each other. It (re)connects with a capped exponential back-off, publishes the
oldest unacknowledged records, and moves the spool's cursor only past records the bus acknowledged.
A record the bus refuses for good (permissions) is counted in :attr:`SpoolSender.refused`, logged as an
error and stepped over, so one misconfigured batch cannot block the site forever.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from wardwatch.pipeline.bus.interface import Publisher, PublishRefused
from wardwatch.pipeline.spool import Spool

log = logging.getLogger(__name__)

MAX_BACKOFF = 5.0


def frame(msg_id: str, data: bytes) -> bytes:
    """A spool record: the message id, a newline, the encoded batch."""
    return msg_id.encode("ascii") + b"\n" + data


def unframe(record: bytes) -> tuple[str, bytes]:
    """Split a spool record."""
    head, _, data = record.partition(b"\n")
    return head.decode("ascii", "replace"), data


class SpoolSender:
    """Publishes spooled records; ``wake()`` after each append, ``stop()`` to drain and end."""

    def __init__(self, spool: Spool, connect: Callable[[], Awaitable[Publisher]], *, per_round: int = 32) -> None:
        self.spool = spool
        self.connect = connect
        self.per_round = per_round
        self.sent = 0
        self.refused = 0
        self.failures = 0
        self.connected = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._main, name="wardwatch-sender", daemon=True)

    def start(self) -> SpoolSender:
        """Start the sender thread."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something was appended."""
        self._wake.set()

    def stop(self, drain_timeout: float) -> bool:
        """Send what is spooled (up to ``drain_timeout`` seconds), then end; True when nothing is left."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(drain_timeout)
        if self._thread.is_alive():
            self._abort.set()
            self._wake.set()
            self._thread.join(10)
        return not self.spool.peek(1)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        publisher: Publisher | None = None
        backoff = 0.1
        try:
            while not self._abort.is_set():
                if publisher is None:
                    try:
                        publisher = await self.connect()
                        self.connected, backoff = True, 0.1
                    except Exception as exc:  # BusUnavailable, or any client error: retry later
                        if self._stopping.is_set() and not self.spool.peek(1):
                            break
                        log.info("bus unavailable, spooling: %s", exc)
                        await self._pause(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF)
                        continue
                records = self.spool.peek(self.per_round)
                if not records:
                    if self._stopping.is_set():
                        break
                    await self._pause(0.5)
                    continue
                done = None
                for position, record in records:
                    msg_id, data = unframe(record)
                    try:
                        await publisher.publish(msg_id, data)
                        self.sent += 1
                    except PublishRefused as exc:
                        self.refused += 1
                        log.error("batch %s refused by the bus, skipped: %s", msg_id, exc)
                    except Exception as exc:  # BusUnavailable or any client error: resend later
                        self.failures += 1
                        self.connected = False
                        log.info("publish failed, will resend from the spool: %s", exc)
                        break
                    done = position
                    backoff = 0.1
                if done is not None:
                    self.spool.commit(done)
                if not self.connected:
                    await self._pause(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    self.connected = True  # the client reconnects by itself; try again
        finally:
            if publisher is not None:
                await publisher.close()

    async def _pause(self, seconds: float) -> None:
        await asyncio.to_thread(self._wake.wait, seconds)
        self._wake.clear()

"""The in-process bus of the all-in-one mode: a thread-safe queue with the same ack/nak semantics."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass, field

from wardwatch.pipeline.bus.interface import Delivery


@dataclass
class _Message:
    msg_id: str
    data: bytes
    attempt: int = 1


@dataclass
class MemoryDelivery:
    """A delivery from :class:`MemoryBus`; nak puts it back at the end of the queue."""

    bus: MemoryBus
    message: _Message
    data: bytes = b""
    attempt: int = 1

    async def ack(self) -> None:
        """Applied."""
        self.bus.settled(self.message)

    async def nak(self, delay: float = 1.0) -> None:
        """Deliver again (after ``delay``; the all-in-one mode has no one else to give it to)."""
        await asyncio.sleep(min(delay, 1.0))
        self.message.attempt += 1
        self.bus.queue.put(self.message)

    async def term(self) -> None:
        """Drop it."""
        self.bus.settled(self.message)


@dataclass
class MemoryBus:
    """Publisher and subscriber in one object; ``pending`` counts messages not yet acked."""

    queue: queue.Queue[_Message] = field(default_factory=queue.Queue)
    pending: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._idle = threading.Condition(self._lock)

    async def publish(self, msg_id: str, data: bytes) -> None:
        """Enqueue."""
        self.put(msg_id, data)

    def put(self, msg_id: str, data: bytes) -> None:
        """Enqueue from a plain thread."""
        with self._lock:
            self.pending += 1
        self.queue.put(_Message(msg_id, data))

    def settled(self, message: _Message) -> None:
        """A delivery was acked or terminated."""
        with self._lock:
            self.pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every published message is settled (or ``timeout``)."""
        with self._lock:
            return self._idle.wait_for(lambda: self.pending == 0, timeout)

    async def fetch(self, limit: int, timeout: float) -> list[Delivery]:
        """Up to ``limit`` messages, waiting at most ``timeout`` for the first."""
        try:
            first = await asyncio.to_thread(self.queue.get, True, timeout)
        except queue.Empty:
            return []
        out: list[Delivery] = [MemoryDelivery(self, first, first.data, first.attempt)]
        while len(out) < limit:
            try:
                msg = self.queue.get_nowait()
            except queue.Empty:
                break
            out.append(MemoryDelivery(self, msg, msg.data, msg.attempt))
        return out

    async def close(self) -> None:
        """Nothing to release."""

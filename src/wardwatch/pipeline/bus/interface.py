"""What the sensor and the server need from a bus, its errors and value types."""

from __future__ import annotations

from typing import Protocol

from wardwatch.errors import WardwatchError

#: Seconds a batch stays in the bus (the JetStream stream's ``max_age``): it can be redelivered only that
#: long, which bounds how long the server must remember applied batch ids.
STREAM_MAX_AGE = 7 * 86400.0


class BusError(WardwatchError):
    """The bus refused or failed an operation."""


class BusUnavailable(BusError):
    """The bus cannot be reached now (retry later; the sensor keeps its spool)."""


class PublishRefused(BusError):
    """The bus will never take this message (permissions: a sensor publishing for another site)."""


class Delivery(Protocol):
    """One message handed to a server worker; settle it with exactly one of ack, nak, term."""

    data: bytes
    #: How many times the bus has delivered this message (1 the first time).
    attempt: int

    async def ack(self) -> None:
        """Applied: never deliver again."""
        ...

    async def nak(self, delay: float = 1.0) -> None:
        """Not applied: deliver again after ``delay`` seconds."""
        ...

    async def term(self) -> None:
        """Never applicable (malformed): do not deliver again."""
        ...


class Publisher(Protocol):
    """Sends encoded batches for one site."""

    async def publish(self, msg_id: str, data: bytes) -> None:
        """Send and wait for the bus's acknowledgement; :class:`BusUnavailable` or :class:`PublishRefused`."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class Subscriber(Protocol):
    """Fetches deliveries for a server worker (workers share one consumer group)."""

    async def fetch(self, limit: int, timeout: float) -> list[Delivery]:
        """Up to ``limit`` deliveries, waiting at most ``timeout`` seconds; [] when none."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...

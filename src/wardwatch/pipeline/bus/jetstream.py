"""NATS JetStream as the bus of the distributed mode (nats-py).

Layout (one deployment = one hospital group):

* stream ``WARDWATCH_<DEPLOYMENT>`` holding subjects ``wardwatch.<deployment>.obs.*``, file storage,
  kept ``max_age`` seconds, with a duplicate window: a batch published twice under the same
  ``Nats-Msg-Id`` header (its batch id) is stored once (JetStream "message deduplication");
* subject ``wardwatch.<deployment>.obs.<site>`` per site: a sensor's NATS user may publish only there
  (server-side permissions, see ``deploy`` notes in the README), so a sensor cannot speak for another site;
* one durable pull consumer (``servers`` by default) shared by every server worker: JetStream hands each
  message to one worker, and redelivers it after ``ack_wait`` unless that worker acks it (explicit acks,
  sent only after the inventory transaction committed).

Connections authenticate with user/password, a credentials file (JWT + nkey), an nkey seed, or TLS
client certificates, as the NATS server is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from wardwatch.pipeline.bus.interface import STREAM_MAX_AGE, BusUnavailable, Delivery, PublishRefused

log = logging.getLogger(__name__)


def stream_name(deployment: str) -> str:
    """``WARDWATCH_<DEPLOYMENT>`` (stream names may not contain dots or wildcards)."""
    return f"WARDWATCH_{deployment.upper().replace('-', '_')}"


def site_subject(deployment: str, site: str) -> str:
    """The subject a site's sensors publish on."""
    return f"wardwatch.{deployment}.obs.{site}"


@dataclass(frozen=True)
class NatsOptions:
    """How to reach and authenticate to NATS."""

    servers: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    user: str | None = None
    password: str | None = None
    creds: str | None = None
    nkey_seed: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    name: str = "wardwatch"
    connect_timeout: float = 2.0


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    import nats.errors as ne
    import nats.js.errors as jse

    # Every client-side NATS error (nats.errors.Error; JetStream's errors derive from it, "no response
    # from stream" included: the stream is not created yet) means "not now": keep the batch, retry.
    return (ne.Error, jse.Error, asyncio.TimeoutError, OSError)


@dataclass
class Connection:
    """A NATS connection with JetStream context; remembers permission errors the server reported."""

    options: NatsOptions
    nc: Any = None
    js: Any = None
    denied: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    async def open(self) -> Connection:
        """Connect (reconnecting forever afterwards); :class:`BusUnavailable` when NATS cannot be reached."""
        import nats

        o = self.options
        kwargs: dict[str, Any] = {
            "servers": list(o.servers), "name": o.name, "connect_timeout": o.connect_timeout,
            "max_reconnect_attempts": -1, "reconnect_time_wait": 0.5, "allow_reconnect": True,
            "error_cb": self._error, "disconnected_cb": self._quiet, "reconnected_cb": self._quiet,
        }
        if o.user is not None:
            kwargs.update(user=o.user, password=o.password or "")
        if o.creds:
            kwargs["user_credentials"] = o.creds
        if o.nkey_seed:
            kwargs["nkeys_seed"] = o.nkey_seed
        if o.tls_ca or o.tls_cert:
            context = ssl.create_default_context(cafile=o.tls_ca)
            if o.tls_cert:
                context.load_cert_chain(o.tls_cert, o.tls_key)
            kwargs["tls"] = context
        try:
            # nats-py may retry a refused first connection (bad credentials) for ever: bound it.
            self.nc = await asyncio.wait_for(nats.connect(**kwargs), o.connect_timeout * 2 + 1)
        except _unavailable_errors() as exc:
            why = "; ".join(self.refusals[-1:]) or f"{exc.__class__.__name__}: {exc}"
            raise BusUnavailable(f"NATS unreachable or refused: {why}") from None
        self.js = self.nc.jetstream(timeout=5.0)
        return self

    async def _error(self, exc: Exception) -> None:
        text = str(exc)
        if "permissions violation" in text.lower():
            self.denied.append(text)
            log.warning("NATS refused: %s", text)
        elif "authorization" in text.lower() or "authentication" in text.lower():
            self.refusals.append(text)
            log.warning("NATS refused the credentials: %s", text)
        else:
            log.debug("NATS error: %s", text)

    async def _quiet(self) -> None:
        log.info("NATS connection state changed (connected=%s)", self.nc.is_connected if self.nc else False)

    async def close(self) -> None:
        """Drain and close."""
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.close(), 5)
            except _unavailable_errors():
                pass


async def ensure_stream(conn: Connection, deployment: str, *, max_age: float = STREAM_MAX_AGE,
                        duplicate_window: float = 600.0) -> str:
    """Create the deployment's stream when missing; returns its name."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    name = stream_name(deployment)
    try:
        await conn.js.stream_info(name)
    except NotFoundError:
        config = StreamConfig(name=name, subjects=[f"wardwatch.{deployment}.obs.*"], storage=StorageType.FILE,
                              max_age=max_age, duplicate_window=duplicate_window)
        await conn.js.add_stream(config)
    return name


class JetStreamPublisher:
    """Publishes one site's batches, waiting for JetStream's PubAck."""

    def __init__(self, conn: Connection, deployment: str, site: str, timeout: float = 5.0) -> None:
        self.conn = conn
        self.subject = site_subject(deployment, site)
        self.timeout = timeout

    async def publish(self, msg_id: str, data: bytes) -> None:
        """Send one batch; duplicates (same ``msg_id``) are dropped by JetStream's window."""
        before = len(self.conn.denied)
        try:
            await self.conn.js.publish(self.subject, data, timeout=self.timeout, headers={"Nats-Msg-Id": msg_id})
        except _unavailable_errors() as exc:
            if any(self.subject in text for text in self.conn.denied[before:]):
                raise PublishRefused(f"NATS refused publishing on {self.subject}") from None
            raise BusUnavailable(f"publish failed: {exc.__class__.__name__}") from None

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()


@dataclass
class JetStreamDelivery:
    """A JetStream message to a server worker."""

    msg: Any
    data: bytes = b""
    attempt: int = 1

    async def ack(self) -> None:
        """Acknowledge and wait for the server to confirm (a lost ack means a redelivery, which is skipped)."""
        try:
            await self.msg.ack_sync(timeout=5.0)
        except _unavailable_errors() as exc:
            log.info("ack not confirmed (%s); the batch will be redelivered and skipped", exc.__class__.__name__)

    async def nak(self, delay: float = 1.0) -> None:
        """Ask for redelivery after ``delay`` seconds."""
        try:
            await self.msg.nak(delay=delay)
        except _unavailable_errors():
            pass  # ack_wait expires and JetStream redelivers anyway

    async def term(self) -> None:
        """Never redeliver."""
        try:
            await self.msg.term()
        except _unavailable_errors():
            pass


class JetStreamSubscriber:
    """A server worker's handle on the shared durable pull consumer."""

    def __init__(self, conn: Connection, deployment: str, *, durable: str = "servers", ack_wait: float = 30.0,
                 max_ack_pending: int = 256) -> None:
        self.conn = conn
        self.deployment = deployment
        self.durable = durable
        self.ack_wait = ack_wait
        self.max_ack_pending = max_ack_pending
        self._sub: Any = None

    async def start(self) -> JetStreamSubscriber:
        """Make sure stream and consumer exist, and bind to the consumer."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        stream = await ensure_stream(self.conn, self.deployment)
        config = ConsumerConfig(durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait,
                                max_deliver=-1, max_ack_pending=self.max_ack_pending,
                                deliver_policy=DeliverPolicy.ALL)
        self._sub = await self.conn.js.pull_subscribe(f"wardwatch.{self.deployment}.obs.*", durable=self.durable,
                                                      stream=stream, config=config)
        return self

    async def fetch(self, limit: int, timeout: float) -> list[Delivery]:
        """Up to ``limit`` messages; [] on timeout; :class:`BusUnavailable` while disconnected."""
        import nats.errors as ne

        try:
            msgs = await self._sub.fetch(limit, timeout=timeout)
        except (TimeoutError, ne.TimeoutError):
            return []
        except _unavailable_errors() as exc:
            raise BusUnavailable(f"fetch failed: {exc.__class__.__name__}") from None
        out: list[Delivery] = []
        for msg in msgs:
            attempt = 1
            with contextlib.suppress(AttributeError, ValueError, TypeError):
                attempt = int(msg.metadata.num_delivered)
            out.append(JetStreamDelivery(msg, bytes(msg.data), attempt))
        return out

    async def close(self) -> None:
        """Close the connection (the durable consumer stays for the other workers)."""
        await self.conn.close()

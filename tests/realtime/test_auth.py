"""Sensors authenticate, and a sensor can publish only for its own site (issue 8, Sensor and server).

A nats-server started by the test on a free port with users and permissions: the server user may do
everything; the ``icu`` sensor may publish only on ``wardwatch.*.obs.icu`` (and receive its replies).
The sensor's own-site batch is stored; a batch for another site is refused, and never reaches the stream.
A wrong password does not connect at all.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.procs import wait_for
from wardwatch.pipeline.batch import Batch, BatchId, encode
from wardwatch.pipeline.bus.interface import BusUnavailable, PublishRefused
from wardwatch.pipeline.bus.jetstream import (
    Connection,
    JetStreamPublisher,
    JetStreamSubscriber,
    NatsOptions,
    ensure_stream,
    stream_name,
)

NATS_SERVER = "/usr/sbin/nats-server"
CONFIG = """
listen: 127.0.0.1:{port}
jetstream {{ store_dir: "{store}" }}
authorization {{
  users = [
    {{ user: "server", password: "server-secret" }}
    {{ user: "sensor-icu", password: "icu-secret",
       permissions: {{ publish: {{ allow: ["wardwatch.*.obs.icu"] }}, subscribe: {{ allow: ["_INBOX.>"] }} }} }}
  ]
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[str]:
    """A nats-server with users and per-site publish permissions; yields its URL."""
    binary = shutil.which("nats-server") or (NATS_SERVER if Path(NATS_SERVER).exists() else None)
    if binary is None:
        pytest.skip("nats-server is not installed (Debian: nats-server)")
    port = _free_port()
    conf = tmp_path / "nats.conf"
    conf.write_text(CONFIG.format(port=port, store=tmp_path / "js"), encoding="utf-8")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening(port) or proc.poll() is not None, 20, "nats-server to listen")
        assert proc.poll() is None, "nats-server did not start"
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


def _batch(site: str, seq: int) -> bytes:
    return encode(Batch(id=BatchId("s1", 1, seq), site=site, created=1.0))


async def _scenario(url: str) -> tuple[int, list[str]]:
    admin = await Connection(NatsOptions(servers=(url,), user="server", password="server-secret")).open()
    await ensure_stream(admin, "hosp")
    sensor = await Connection(NatsOptions(servers=(url,), user="sensor-icu", password="icu-secret")).open()
    own = JetStreamPublisher(sensor, "hosp", "icu", timeout=2.0)
    await own.publish("s1.1.0", _batch("icu", 0))
    other = JetStreamPublisher(sensor, "hosp", "ward", timeout=2.0)
    with pytest.raises(PublishRefused):
        await other.publish("s1.1.1", _batch("ward", 1))
    # the raw client cannot sneak past either: the server drops the message
    await sensor.nc.publish("wardwatch.hosp.obs.ward", _batch("ward", 2))
    await sensor.nc.flush()
    info = await admin.js.stream_info(stream_name("hosp"))
    subscriber = await JetStreamSubscriber(admin, "hosp", ack_wait=5).start()
    got = await subscriber.fetch(10, timeout=1.0)
    subjects = [d.msg.subject for d in got]  # type: ignore[attr-defined]
    for d in got:
        await d.ack()
    await sensor.close()
    await admin.close()
    return int(info.state.messages), subjects


def test_sensor_publishes_only_for_its_site(secured_nats: str) -> None:
    messages, subjects = asyncio.run(_scenario(secured_nats))
    assert messages == 1
    assert subjects == ["wardwatch.hosp.obs.icu"]


def test_wrong_password_is_refused(secured_nats: str) -> None:
    async def attempt() -> None:
        await Connection(NatsOptions(servers=(secured_nats,), user="sensor-icu", password="wrong")).open()

    with pytest.raises(BusUnavailable):
        asyncio.run(attempt())

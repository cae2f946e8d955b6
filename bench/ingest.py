"""Ingest through JetStream: Observations per second from sensor to PostgreSQL, and lag at a sustained rate.

    python bench/ingest.py [--nats nats://127.0.0.1:4222] [--pg postgresql://postgres@127.0.0.1:5432/test]
                           [--batches 60] [--per-batch 1000] [--rate-fraction 0.5] [--seconds 20]

1. Throughput: BATCHES batches of PER_BATCH Observations (5 000 devices, six kinds: DHCP host name and
   vendor class, addresses, services, DICOM AE titles; repeated facts as on a real network) are published
   into a fresh deployment stream exactly as a sensor does (JetStreamPublisher, Nats-Msg-Id), then
   ``wardwatch server --workers N`` drains them into a fresh PostgreSQL database; the rate is taken from
   the ``bus_batches.applied_at`` times (first to last applied), so process start-up is not counted.
2. Lag: a publisher sends at RATE_FRACTION of the 1-worker throughput for SECONDS; per batch, lag =
   applied_at - created (the sensor's batch time); reported as p50/p95/max.

Each run uses its own stream and database and deletes them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wardwatch.domain.observation import Observation  # noqa: E402
from wardwatch.pipeline.batch import Batch, BatchId, encode  # noqa: E402
from wardwatch.pipeline.bus.jetstream import (  # noqa: E402
    Connection,
    JetStreamPublisher,
    NatsOptions,
    ensure_stream,
    stream_name,
)

DEVICES = 5000
KINDS = ("dhcp.hostname", "dhcp.vendor_class", "net.ip", "net.service", "dicom.calling_ae", "http.user_agent")


def observations(start: int, n: int) -> tuple[Observation, ...]:
    """``n`` Observations continuing a deterministic round-robin over devices and kinds."""
    out = []
    for k in range(start, start + n):
        dev = k % DEVICES
        kind = KINDS[(k // DEVICES) % len(KINDS)]
        mac = f"02:00:00:{dev >> 16 & 255:02x}:{dev >> 8 & 255:02x}:{dev & 255:02x}"
        ip = f"10.{dev >> 8 & 255}.{dev & 255}.{10 + (dev % 200)}"
        value = {"net.ip": ip, "net.service": "tcp/104 dicom"}.get(kind, f"{kind}-{dev % 97}")
        out.append(Observation(ts=1.7e9 + k * 1e-3, sensor="bench", kind=kind, value=value, mac=mac,
                               ip=ip if kind == "net.ip" else None, source="bench"))
    return tuple(out)


def temp_db(base: str) -> tuple[str, sa.Engine, str]:
    """Create a throw-away database; returns (url, admin engine, name)."""
    url = sa.engine.make_url(base).set(drivername="postgresql+psycopg")
    name = f"ww_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin, name


def drop_db(admin: sa.Engine, name: str) -> None:
    """Drop the throw-away database."""
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


async def publish(nats: str, deployment: str, batches: int, per_batch: int, rate: float | None,
                  seq0: int = 0) -> None:
    """Publish ``batches`` batches, as fast as possible or at ``rate`` Observations per second."""
    conn = await Connection(NatsOptions(servers=(nats,), name="bench")).open()
    await ensure_stream(conn, deployment)
    pub = JetStreamPublisher(conn, deployment, "bench")
    started = time.monotonic()
    for i in range(batches):
        if rate:
            due = started + i * per_batch / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        batch = Batch(id=BatchId("bench", 1, seq0 + i), site="bench", created=time.time(),
                      observations=observations((seq0 + i) * per_batch, per_batch), source="bench")
        await pub.publish(str(batch.id), encode(batch))
    await conn.close()


async def delete_stream(nats: str, deployment: str) -> None:
    """Remove the run's stream."""
    conn = await Connection(NatsOptions(servers=(nats,))).open()
    try:
        await conn.js.delete_stream(stream_name(deployment))
    finally:
        await conn.close()


def start_server(nats: str, deployment: str, url: str, workers: int) -> subprocess.Popen[bytes]:
    """``wardwatch server`` as a subprocess."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.Popen([sys.executable, "-m", "wardwatch.cli.realtime_cmd", "server", "--nats", nats,
                             "--deployment", deployment, "--db", url, "--workers", str(workers)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_applied(engine: sa.Engine, count: int, timeout: float) -> None:
    """Poll until ``count`` batches are applied."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT count(*) FROM bus_batches")).scalar() >= count:
                return
        time.sleep(0.2)
    raise SystemExit(f"timed out: fewer than {count} batches applied")


def throughput(args: argparse.Namespace, workers: int) -> float:
    """Observations per second with ``workers`` server workers (first to last batch applied)."""
    from wardwatch.inventory.repository import Inventory

    deployment = f"bench{uuid.uuid4().hex[:8]}"
    url, admin, name = temp_db(args.pg)
    try:
        Inventory.open(url).close()
        asyncio.run(publish(args.nats, deployment, args.batches, args.per_batch, None))
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        server = start_server(args.nats, deployment, url, workers)
        try:
            wait_applied(engine, args.batches, 900)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        with engine.connect() as conn:
            times = sorted(r[0] for r in conn.execute(sa.text("SELECT applied_at FROM bus_batches")))
        engine.dispose()
        return (len(times) - 1) * args.per_batch / (times[-1] - times[0])
    finally:
        asyncio.run(delete_stream(args.nats, deployment))
        drop_db(admin, name)


def lag(args: argparse.Namespace, rate: float) -> tuple[float, float, float]:
    """p50, p95, max lag (s) at ``rate`` Observations per second, one server worker."""
    from wardwatch.inventory.repository import Inventory

    deployment = f"bench{uuid.uuid4().hex[:8]}"
    url, admin, name = temp_db(args.pg)
    batches = max(2, int(rate * args.seconds / args.per_batch))
    try:
        Inventory.open(url).close()
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        server = start_server(args.nats, deployment, url, 1)
        try:
            asyncio.run(publish(args.nats, deployment, 1, args.per_batch, None, seq0=10**6))  # warm-up
            wait_applied(engine, 1, 120)
            asyncio.run(publish(args.nats, deployment, batches, args.per_batch, rate))
            wait_applied(engine, batches + 1, 600)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        with engine.connect() as conn:
            lags = sorted(r[0] - r[1] for r in conn.execute(sa.text(
                "SELECT applied_at, created FROM bus_batches WHERE seq < 1000000")))
        engine.dispose()
        return statistics.median(lags), lags[int(0.95 * (len(lags) - 1))], lags[-1]
    finally:
        asyncio.run(delete_stream(args.nats, deployment))
        drop_db(admin, name)


def main() -> None:
    """Run both measurements and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nats", default=os.environ.get("WARDWATCH_TEST_NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--pg", default=os.environ.get("WARDWATCH_TEST_POSTGRES_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--per-batch", type=int, default=1000)
    parser.add_argument("--rate-fraction", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    one = throughput(args, 1)
    two = throughput(args, 2)
    rate = one * args.rate_fraction
    p50, p95, worst = lag(args, rate)
    total = args.batches * args.per_batch
    print(f"| measurement | value |\n|---|---|\n"
          f"| 1 server worker | {one:,.0f} Observations/s ({total:,} in {args.batches} batches) |\n"
          f"| 2 server workers | {two:,.0f} Observations/s |\n"
          f"| lag at {rate:,.0f} Observations/s for {args.seconds:.0f} s (1 worker) | p50 {p50:.2f} s, "
          f"p95 {p95:.2f} s, max {worst:.2f} s |")


if __name__ == "__main__":
    main()

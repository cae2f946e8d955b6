"""Fixtures of the real-time tests: the shared JetStream server, a throw-away deployment, PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from wardwatch.pipeline.bus.jetstream import Connection, NatsOptions, stream_name


@pytest.fixture
def nats_url() -> str:
    """WARDWATCH_TEST_NATS_URL (the test skips when it is unset)."""
    url = os.environ.get("WARDWATCH_TEST_NATS_URL")
    if not url:
        pytest.skip("WARDWATCH_TEST_NATS_URL is not set")
    return url


async def _delete_stream(url: str, deployment: str) -> None:
    conn = await Connection(NatsOptions(servers=(url,))).open()
    with contextlib.suppress(Exception):
        await conn.js.delete_stream(stream_name(deployment))
    await conn.close()


@pytest.fixture
def deployment(nats_url: str) -> Iterator[str]:
    """A unique deployment name; its stream is deleted afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    asyncio.run(_delete_stream(nats_url, name))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database (skips when WARDWATCH_TEST_POSTGRES_URL is unset)."""
    base = os.environ.get("WARDWATCH_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("WARDWATCH_TEST_POSTGRES_URL is not set")
    from tests.support.pg import temporary_database

    with temporary_database(base) as url:
        yield url

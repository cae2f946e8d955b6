"""Fixtures shared by the whole suite: the shared data folder, databases, tshark."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()
SHARED = SHARED_DATA.parent


def require_shared(*parts: str) -> Path:
    """The path ``../shared/data/<parts>``; skip the test when absent (fail when it must be there)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"shared test data not found: {path} (tests read ../shared/data beside the checkout)"
        if os.environ.get("WARDWATCH_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder (skips, or fails under WARDWATCH_REQUIRE_SHARED_DATA=1, if absent)."""
    return require_shared()


def require_tool(name: str) -> str:
    """The path of an external tool; skip when missing unless CI demands the full set."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true" or os.environ.get("WARDWATCH_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"{name} is not installed; .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def tshark() -> str:
    """Path of tshark, the differential oracle of the dissector tests."""
    return require_tool("tshark")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file URL."""
    return f"sqlite:///{tmp_path / 'wardwatch.db'}"


def _postgres_url() -> str | None:
    return os.environ.get("WARDWATCH_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs against SQLite and against PostgreSQL (own schema, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wardwatch.db'}"
        return
    base = _postgres_url()
    if not base:
        pytest.skip("WARDWATCH_TEST_POSTGRES_URL is not set")
    from tests.support.pg import temporary_database

    with temporary_database(base) as url:
        yield url

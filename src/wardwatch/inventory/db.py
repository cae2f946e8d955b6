"""Engines and migrations: SQLite (WAL, foreign keys on) by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from wardwatch.errors import ConfigError, WardwatchError

log = logging.getLogger(__name__)

#: Host parameters per statement, well under SQLite's 32 766 and PostgreSQL's 65 535.
IN_CHUNK = 2000


class InventoryError(WardwatchError):
    """The inventory database could not be opened, migrated or written."""


def normalize_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://``/``postgres://`` get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise ConfigError(f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers do not block the writer (https://sqlite.org/wal.html); FKs are off unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; the SQLite file's folder is created when missing."""
    parsed = normalize_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)


def migrations_dir() -> Path:
    """The Alembic script folder shipped inside the package."""
    return Path(str(resources.files("wardwatch.inventory").joinpath("migrations")))


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` on ``engine`` programmatically."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["configure_logger"] = False
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise InventoryError(f"cannot migrate the inventory database: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc

"""Alembic migrations shipped in the package: from empty to head, matching the table metadata."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from wardwatch.inventory import Inventory
from wardwatch.inventory.db import create_engine, migrations_dir
from wardwatch.inventory.tables import metadata

INVENTORY_TABLES = {"devices", "device_ips", "facts", "attributes", "history", "flows", "ingest_runs"}


def _table_of(diff: Any) -> str | None:
    first = diff[0] if isinstance(diff, list) else diff
    for item in first[1:]:
        name = getattr(item, "name", None)
        table = getattr(item, "table", None)
        if isinstance(item, sa.Table):
            return str(name)
        if table is not None:
            return str(table.name)
        if isinstance(item, str) and item in INVENTORY_TABLES:
            return item
    return None


def test_migrate_from_empty_to_head(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    Inventory.open(database_url).close()
    Inventory.open(database_url).close()  # opening again is a no-op upgrade
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_revision() == head
        tables = set(sa.inspect(conn).get_table_names())
        assert tables >= INVENTORY_TABLES
        # other capabilities add their own tables (and migrations) to the same schema: compare ours
        diffs = [d for d in compare_metadata(context, metadata) if _table_of(d) in INVENTORY_TABLES]
        assert diffs == []
    engine.dispose()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    inventory = Inventory.open(sqlite_url)
    with inventory.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    inventory.close()


def test_attribute_probe_index(database_url: str) -> None:
    """9c05 adds the covering ``attributes(device_id, name, value)`` index; its downgrade drops it."""
    from alembic import command

    Inventory.open(database_url).close()
    engine = create_engine(database_url)

    def indexes() -> set[str]:
        with engine.connect() as conn:
            return {str(i["name"]) for i in sa.inspect(conn).get_indexes("attributes")}

    assert "ix_attributes_device_name_value" in indexes()
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        config.attributes["connection"] = conn
        command.downgrade(config, "9c04")
    assert "ix_attributes_device_name_value" not in indexes()
    Inventory.open(database_url).close()
    assert "ix_attributes_device_name_value" in indexes()
    engine.dispose()

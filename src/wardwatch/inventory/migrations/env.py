"""Alembic environment: migrates the connection handed in by ``wardwatch.inventory.db.migrate``.

Run by hand with ``alembic -x url=sqlite:///path.db upgrade head`` from this folder's parent config, or
through ``Inventory.open`` (which migrates on every open).
"""

from __future__ import annotations

from alembic import context

from wardwatch.inventory.db import create_engine
from wardwatch.inventory.tables import metadata

config = context.config


def run_migrations_online() -> None:
    """Use the connection from ``config.attributes`` or open one from ``-x url=...``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=...")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()

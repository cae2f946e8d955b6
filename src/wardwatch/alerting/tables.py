"""The ``alerts`` table (on the inventory's metadata; created by migration ``7a01_prevent_detect``)."""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("devices", sa.JSON, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("dedup_key", sa.String(300), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("capture_ref", sa.String(500), nullable=True),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)

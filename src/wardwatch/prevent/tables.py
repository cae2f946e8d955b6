"""Tables of prevention: baselines and policy versions (issue 7).

They live on the inventory's :data:`~wardwatch.inventory.tables.metadata` (one schema, one Alembic
history); the migration ``7a01_prevent_detect`` creates exactly these. Importing this module registers
them on that metadata. The alerts table is in :mod:`wardwatch.alerting.tables`.
"""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

baselines = sa.Table(
    "baselines",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("window_end", sa.Float, nullable=False),
    sa.Column("window_days", sa.Float, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),  # frozen | rolling
)

baseline_entries = sa.Table(
    "baseline_entries",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("baseline_id", Id, sa.ForeignKey("baselines.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("scope", sa.String(16), nullable=False),  # device | class
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),  # out | in
    sa.Column("peer", sa.String(200), nullable=False),
    sa.Column("peer_kind", sa.String(16), nullable=False),  # device | external | subnet | class
    sa.Column("proto", sa.SmallInteger, nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("flows", sa.BigInteger, nullable=False),
    sa.Column("bytes_min", sa.BigInteger, nullable=False),
    sa.Column("bytes_max", sa.BigInteger, nullable=False),
    sa.Column("bytes_total", sa.BigInteger, nullable=False),
    sa.Column("hours", sa.Integer, nullable=False),  # bit h set: traffic seen in hour h (UTC)
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # learned | accepted | rejected
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", sa.Float, nullable=True),
    sa.UniqueConstraint("baseline_id", "scope", "subject", "direction", "peer", "proto", "port",
                        name="uq_baseline_entries_key"),
)

policy_versions = sa.Table(
    "policy_versions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("approved_by", sa.String(128), nullable=True),
    sa.Column("approved_at", sa.Float, nullable=True),
    sa.Column("note", sa.String(500), nullable=False),
    sa.UniqueConstraint("name", "number", name="uq_policy_versions_name_number"),
)

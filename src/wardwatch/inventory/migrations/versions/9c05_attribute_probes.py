"""attribute probes: a covering index on attributes(device_id, name, value)

The inventory list tests a device's attribute per row in three places: the sort key of a page sorted from
its matches (``LEFT JOIN attributes ON device_id = ? AND name = ?``), a filter checked while walking a sort
index (the few-valued part of a broad search: "is this device's department one of these?") and the
intersection of two attribute filters. ``uq_attributes_device_name`` finds the row but not the value, so
each test read the table row as well; with ``value`` in the index the probe is index-only (SQLite: a
covering index, https://sqlite.org/queryplanner.html §2.1; PostgreSQL: an index-only scan,
https://www.postgresql.org/docs/15/indexes-index-only-scans.html).

Revision ID: 9c05
Revises: 9c04
"""

from __future__ import annotations

from alembic import op

revision = "9c05"
down_revision = "9c04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index (plain index operation, no batch mode: a table rebuild would drop the search
    triggers of migrations 9c01-9c03)."""
    op.create_index("ix_attributes_device_name_value", "attributes", ["device_id", "name", "value"], unique=False)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_attributes_device_name_value", table_name="attributes")

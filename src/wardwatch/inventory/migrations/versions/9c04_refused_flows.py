"""Flows remember a refused TCP port (issue 2: a closed port answered with resets offers no service)

``flows.refused`` is true while every attempt the row stands for was answered only with RST (RFC 9293
§3.10.7.1); rows combine it with AND. Existing rows were recorded without the distinction: false.

Revision ID: 9c04
Revises: 9c03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9c04"
down_revision = "9c03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column."""
    with op.batch_alter_table("flows") as batch:
        batch.add_column(sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("flows") as batch:
        batch.drop_column("refused")

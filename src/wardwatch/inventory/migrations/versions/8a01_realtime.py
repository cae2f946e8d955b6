"""real time: applied batch ids and sensors (issue 8)

Revision ID: 8a01
Revises: 4b01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "8a01"
down_revision = "4b01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "bus_batches",
        sa.Column("sensor", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("applied_at", sa.Float(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("flows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sensor", "epoch", "seq", name=op.f("pk_bus_batches")),
    )
    with op.batch_alter_table("bus_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bus_batches_applied_at"), ["applied_at"], unique=False)
    op.create_table(
        "sensors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("last_batch", sa.Float(), nullable=False),
        sa.Column("last_contact", sa.Float(), nullable=False),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("observations", sa.BigInteger(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sensors")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("sensors")
    op.drop_table("bus_batches")

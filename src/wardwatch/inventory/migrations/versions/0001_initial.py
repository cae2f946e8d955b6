"""initial inventory schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 12:04:17.025205
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "devices",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("sensor", sa.String(length=128), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("key", name=op.f("uq_devices_key")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_mac"), ["mac"], unique=False)

    op.create_table(
        "flows",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sensor", sa.String(length=128), nullable=False),
        sa.Column("proto", sa.SmallInteger(), nullable=False),
        sa.Column("src_ip", sa.String(length=45), nullable=False),
        sa.Column("src_port", sa.Integer(), nullable=False),
        sa.Column("dst_ip", sa.String(length=45), nullable=False),
        sa.Column("dst_port", sa.Integer(), nullable=False),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("src_mac", sa.String(length=17), nullable=False),
        sa.Column("dst_mac", sa.String(length=17), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("packets_fwd", sa.BigInteger(), nullable=False),
        sa.Column("packets_rev", sa.BigInteger(), nullable=False),
        sa.Column("bytes_fwd", sa.BigInteger(), nullable=False),
        sa.Column("bytes_rev", sa.BigInteger(), nullable=False),
        sa.Column("app", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint(
            "sensor",
            "proto",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "vlan",
            "src_mac",
            "dst_mac",
            "bucket",
            name="uq_flows_tuple_bucket",
        ),
    )
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.create_index("ix_flows_dst_ip", ["dst_ip"], unique=False)
        batch_op.create_index("ix_flows_dst_mac", ["dst_mac"], unique=False)
        batch_op.create_index("ix_flows_src_ip", ["src_ip"], unique=False)
        batch_op.create_index("ix_flows_src_mac", ["src_mac"], unique=False)

    op.create_table(
        "ingest_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("observations", sa.BigInteger(), nullable=False),
        sa.Column("flows", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("devices_new", sa.BigInteger(), nullable=False),
        sa.Column("devices_updated", sa.BigInteger(), nullable=False),
        sa.Column("devices_merged", sa.BigInteger(), nullable=False),
        sa.Column("facts_added", sa.BigInteger(), nullable=False),
        sa.Column("history_events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
    )
    op.create_table(
        "attributes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_attributes_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributes")),
        sa.UniqueConstraint("device_id", "name", name="uq_attributes_device_name"),
    )
    with op.batch_alter_table("attributes", schema=None) as batch_op:
        batch_op.create_index("ix_attributes_name_value", ["name", "value"], unique=False)

    op.create_table(
        "device_ips",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sensor", sa.String(length=128), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("ip_hex", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_ips_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_ips")),
        sa.UniqueConstraint("device_id", "sensor", "ip", name="uq_device_ips_device_sensor_ip"),
    )
    with op.batch_alter_table("device_ips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_ips_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_ips_ip"), ["ip"], unique=False)
        batch_op.create_index("ix_device_ips_version_hex", ["version", "ip_hex"], unique=False)

    op.create_table(
        "facts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sensor", sa.String(length=128), nullable=False),
        sa.Column("excerpt", sa.String(length=200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_facts_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts")),
        sa.UniqueConstraint("device_id", "kind", "value", name="uq_facts_device_kind_value"),
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index("ix_facts_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=True),
        sa.Column("old", sa.String(length=600), nullable=True),
        sa.Column("new", sa.String(length=600), nullable=True),
        sa.Column("evidence", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_history_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_history_device_id"), ["device_id"], unique=False)


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_device_id"))

    op.drop_table("history")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index("ix_facts_kind_value")

    op.drop_table("facts")
    with op.batch_alter_table("device_ips", schema=None) as batch_op:
        batch_op.drop_index("ix_device_ips_version_hex")
        batch_op.drop_index(batch_op.f("ix_device_ips_ip"))
        batch_op.drop_index(batch_op.f("ix_device_ips_device_id"))

    op.drop_table("device_ips")
    with op.batch_alter_table("attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_attributes_name_value")

    op.drop_table("attributes")
    op.drop_table("ingest_runs")
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_index("ix_flows_src_mac")
        batch_op.drop_index("ix_flows_src_ip")
        batch_op.drop_index("ix_flows_dst_mac")
        batch_op.drop_index("ix_flows_dst_ip")

    op.drop_table("flows")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_mac"))

    op.drop_table("devices")

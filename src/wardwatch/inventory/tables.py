"""SQLAlchemy Core tables of the inventory, kept apart from the domain classes (ARCHITECTURE.md).

The Alembic migrations in ``inventory/migrations/versions`` create exactly these tables; a test compares
the migrated schema with this metadata. Times are float seconds since the epoch (as in the domain).
"""

from __future__ import annotations

import sqlalchemy as sa

#: Naming convention so that constraints have stable names on every backend (Alembic autogenerate).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

#: Integer primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("mac", sa.String(17), nullable=True, index=True),
    sa.Column("sensor", sa.String(128), nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Index("ix_devices_last_seen", "last_seen", "id"),  # list sorted by last seen (migration 9c01)
)

device_ips = sa.Table(
    "device_ips",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("sensor", sa.String(128), nullable=False),
    sa.Column("ip", sa.String(45), nullable=False, index=True),
    sa.Column("version", sa.SmallInteger, nullable=False),
    # fixed-width lower-case hex of the packed address: string order is numeric order (subnet ranges)
    sa.Column("ip_hex", sa.String(32), nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.UniqueConstraint("device_id", "sensor", "ip", name="uq_device_ips_device_sensor_ip"),
    sa.Index("ix_device_ips_version_hex", "version", "ip_hex"),
)

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(128), nullable=False),
    sa.Column("value", sa.String(600), nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("sensor", sa.String(128), nullable=False),
    sa.Column("excerpt", sa.String(200), nullable=False, default=""),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.UniqueConstraint("device_id", "kind", "value", name="uq_facts_device_kind_value"),
    sa.Index("ix_facts_kind_value", "kind", "value"),
)

attributes = sa.Table(
    "attributes",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("value", sa.String(600), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.UniqueConstraint("device_id", "name", name="uq_attributes_device_name"),
    # covering: filters and dashboard counts read the index alone (migration 9c01)
    sa.Index("ix_attributes_name_value_device", "name", "value", "device_id"),
    # covering: a device's value of an attribute without reading the row (sort keys, probes; migration 9c05)
    sa.Index("ix_attributes_device_name_value", "device_id", "name", "value"),
)

history = sa.Table(
    "history",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("attribute", sa.String(64), nullable=True),
    sa.Column("old", sa.String(600), nullable=True),
    sa.Column("new", sa.String(600), nullable=True),
    sa.Column("evidence", sa.String(300), nullable=False, default=""),
)

flows = sa.Table(
    "flows",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sensor", sa.String(128), nullable=False),
    sa.Column("proto", sa.SmallInteger, nullable=False),
    sa.Column("src_ip", sa.String(45), nullable=False),
    sa.Column("src_port", sa.Integer, nullable=False),
    sa.Column("dst_ip", sa.String(45), nullable=False),
    sa.Column("dst_port", sa.Integer, nullable=False),
    sa.Column("vlan", sa.Integer, nullable=False),  # 0: untagged
    sa.Column("src_mac", sa.String(17), nullable=False),  # "": unknown
    sa.Column("dst_mac", sa.String(17), nullable=False),
    sa.Column("bucket", sa.BigInteger, nullable=False),  # start of the time bucket, epoch seconds
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("packets_fwd", sa.BigInteger, nullable=False),
    sa.Column("packets_rev", sa.BigInteger, nullable=False),
    sa.Column("bytes_fwd", sa.BigInteger, nullable=False),
    sa.Column("bytes_rev", sa.BigInteger, nullable=False),
    sa.Column("app", sa.String(32), nullable=True),
    sa.Column("refused", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.UniqueConstraint("sensor", "proto", "src_ip", "src_port", "dst_ip", "dst_port", "vlan", "src_mac",
                        "dst_mac", "bucket", name="uq_flows_tuple_bucket"),
    sa.Index("ix_flows_src_ip", "src_ip"),
    sa.Index("ix_flows_dst_ip", "dst_ip"),
    sa.Index("ix_flows_src_mac", "src_mac"),
    sa.Index("ix_flows_dst_mac", "dst_mac"),
)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("observations", sa.BigInteger, nullable=False, default=0),
    sa.Column("flows", sa.BigInteger, nullable=False, default=0),
    sa.Column("skipped", sa.BigInteger, nullable=False, default=0),
    sa.Column("devices_new", sa.BigInteger, nullable=False, default=0),
    sa.Column("devices_updated", sa.BigInteger, nullable=False, default=0),
    sa.Column("devices_merged", sa.BigInteger, nullable=False, default=0),
    sa.Column("facts_added", sa.BigInteger, nullable=False, default=0),
    sa.Column("history_events", sa.BigInteger, nullable=False, default=0),
)

"""Threat-intelligence tables (on the inventory's metadata; created by migration ``9b01_stay_alert``).

An indicator row belongs to exactly one feed: the unique key is (feed, kind, value), so the same value
from two feeds is two rows and one feed's refresh never touches another feed's rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

ti_indicators = sa.Table(
    "ti_indicators",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("feed", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(600), nullable=False),
    sa.Column("tlp", sa.SmallInteger, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("ref", sa.String(200), nullable=False),
    sa.Column("description", sa.String(300), nullable=False),
    sa.Column("valid_from", sa.Float, nullable=True),
    sa.Column("expires", sa.Float, nullable=True),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.UniqueConstraint("feed", "kind", "value", name="uq_ti_indicators_feed_kind_value"),
    sa.Index("ix_ti_indicators_kind_value", "kind", "value"),
)

ti_vulnerabilities = sa.Table(
    "ti_vulnerabilities",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("feed", sa.String(64), nullable=False),
    sa.Column("cve", sa.String(32), nullable=False),
    sa.Column("tlp", sa.SmallInteger, nullable=False),
    sa.Column("ref", sa.String(200), nullable=False),
    sa.Column("description", sa.String(300), nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.UniqueConstraint("feed", "cve", name="uq_ti_vulnerabilities_feed_cve"),
)

ti_feeds = sa.Table(
    "ti_feeds",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("last_attempt", sa.Float, nullable=True),
    sa.Column("last_success", sa.Float, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("cursor", sa.String(200), nullable=True),
    sa.Column("items", sa.Integer, nullable=False),
)

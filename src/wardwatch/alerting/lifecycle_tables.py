"""Lifecycle tables beside the ``alerts`` table (migration ``9b01_stay_alert``), keyed by the alert id.

``alert_state`` holds what the alert row has no column for (team, assignee, acknowledgement, suppression,
escalation level, TLP); ``alert_events`` is the audit trail of who did what; ``alert_suppressions``
silences a dedup key until an expiry; ``watch_cursors`` remembers how far a monitor has read.
"""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("alert_id", Id, sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("teams", sa.JSON, nullable=False),
    sa.Column("assignee", sa.String(128), nullable=True),
    sa.Column("acknowledged_by", sa.String(128), nullable=True),
    sa.Column("acknowledged_at", sa.Float, nullable=True),
    sa.Column("resolved_by", sa.String(128), nullable=True),
    sa.Column("resolved_at", sa.Float, nullable=True),
    sa.Column("suppressed_until", sa.Float, nullable=True),
    sa.Column("suppress_reason", sa.String(300), nullable=True),
    sa.Column("escalation_level", sa.Integer, nullable=False),
    sa.Column("escalated_at", sa.Float, nullable=True),
    sa.Column("group_key", sa.String(200), nullable=False, index=True),
    sa.Column("tlp", sa.SmallInteger, nullable=False),
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("alert_id", Id, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("note", sa.String(500), nullable=False),
)

alert_suppressions = sa.Table(
    "alert_suppressions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(300), nullable=False, index=True),
    sa.Column("reason", sa.String(300), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

watch_cursors = sa.Table(
    "watch_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)

"""Security-culture register tables (on the inventory's metadata; migration ``9b01_stay_alert``)."""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

training_programmes = sa.Table(
    "training_programmes",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("validity_days", sa.Integer, nullable=True),
    sa.Column("grace_days", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

training_people = sa.Table(
    "training_people",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("email", sa.String(200), nullable=True),
    sa.Column("role", sa.String(64), nullable=False, index=True),
    sa.Column("department", sa.String(128), nullable=True),
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

training_sessions = sa.Table(
    "training_sessions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("programme_id", Id, sa.ForeignKey("training_programmes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("held_at", sa.Float, nullable=False),
    sa.Column("trainer", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
)

training_attendance = sa.Table(
    "training_attendance",
    metadata,
    sa.Column("session_id", Id, sa.ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("training_people.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("completed_at", sa.Float, nullable=False),
)

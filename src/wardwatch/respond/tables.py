"""Incident tables (on the inventory's metadata; created by migration ``9b01_stay_alert``)."""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("playbook", sa.String(64), nullable=False),
    sa.Column("lead", sa.String(128), nullable=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("opened_by", sa.String(128), nullable=False),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float, nullable=True),
)

incident_alerts = sa.Table(
    "incident_alerts",
    metadata,
    sa.Column("incident_id", Id, sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("alert_id", Id, sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
)

incident_devices = sa.Table(
    "incident_devices",
    metadata,
    sa.Column("incident_id", Id, sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("device_key", sa.String(200), primary_key=True),
    sa.Column("device_class", sa.String(64), nullable=True),
)

incident_tasks = sa.Table(
    "incident_tasks",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Id, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("template", sa.String(64), nullable=True),
    sa.Column("done_by", sa.String(128), nullable=True),
    sa.Column("done_at", sa.Float, nullable=True),
    sa.Column("note", sa.String(500), nullable=True),
    sa.UniqueConstraint("incident_id", "key", name="uq_incident_tasks_incident_key"),
)

incident_timeline = sa.Table(
    "incident_timeline",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Id, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
)

incident_evidence = sa.Table(
    "incident_evidence",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("incident_id", Id, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("ref", sa.String(500), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("content", sa.JSON, nullable=True),
    sa.Column("added_by", sa.String(128), nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
)

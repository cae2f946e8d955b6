"""Tables of the risk layer (issue 4): findings with their status history, risk assessments, plan runs.

They live on the inventory's :data:`~wardwatch.inventory.tables.metadata` (one schema, one Alembic
history); the migration ``4b01_intel_risk`` creates exactly these (and the knowledge-base tables of
:mod:`wardwatch.intel.tables`). Importing this module registers them on that metadata.

A finding row is keyed by ``(device_id, fingerprint)``: the fingerprint names *what* the finding is
(advisory + CVE + SBOM component, or the hygiene problem), so a re-evaluation updates the same row. Its
``state`` is the workflow state (open, mitigated, accepted, fixed, not_applicable) and each change of
state is a ``risk_finding_history`` row; ``status`` is what the match said (affected, possibly_affected,
not_affected, fixed).
"""

from __future__ import annotations

import sqlalchemy as sa

from wardwatch.inventory.tables import Id, metadata

findings = sa.Table(
    "risk_findings",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("cve", sa.String(32), nullable=True),
    sa.Column("advisory", sa.String(128), nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("cvss_score", sa.Float, nullable=True),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("ssvc", sa.String(8), nullable=True),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("digest", sa.String(40), nullable=False),  # of the content: unchanged rows are not rewritten
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("device_id", "fingerprint", name="uq_risk_findings_device_fingerprint"),
    sa.Index("ix_risk_findings_state_severity", "state", "severity"),
)

finding_history = sa.Table(
    "risk_finding_history",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("finding_id", Id, sa.ForeignKey("risk_findings.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("old_state", sa.String(16), nullable=True),
    sa.Column("new_state", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("note", sa.String(500), nullable=False),
)

assessments = sa.Table(
    "risk_assessments",
    metadata,
    sa.Column("device_id", Id, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("likelihood", sa.Float, nullable=False),
    sa.Column("impact", sa.Float, nullable=False),
    sa.Column("factors", sa.JSON, nullable=False),
    sa.Column("context", sa.JSON, nullable=False),  # what the score read: criticality, PHI, exposure, controls
    sa.Column("computed_at", sa.Float, nullable=False),
)

evaluations = sa.Table(
    "risk_evaluations",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=False),
    sa.Column("stamp", sa.String(200), nullable=False),  # what the evaluation saw (freshness check)
    sa.Column("devices", sa.Integer, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("opened", sa.Integer, nullable=False),
    sa.Column("fixed", sa.Integer, nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),  # candidate remediation actions (plan input)
)

plan_runs = sa.Table(
    "risk_plan_runs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("evaluation_id", Id, sa.ForeignKey("risk_evaluations.id", ondelete="SET NULL"), nullable=True),
    sa.Column("budget_hours", sa.Float, nullable=False),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("risk_before", sa.Float, nullable=False),
    sa.Column("risk_after", sa.Float, nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),
    sa.Column("marginal", sa.JSON, nullable=False),
)

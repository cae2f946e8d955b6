"""intel knowledge base and risk: findings with history, assessments, evaluations, plan runs (issue 4)

The twelve knowledge-base tables (intel/tables.py) were created by KnowledgeBase itself before
this revision; a database that already has them keeps them (each is created only when absent).

Revision ID: 4b01
Revises: 7a01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4b01"
down_revision = "7a01"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INTEL_TABLES = (
    "intel_imports",
    "intel_advisories",
    "intel_vulnerabilities",
    "intel_product_conditions",
    "intel_remediations",
    "intel_kev",
    "intel_epss",
    "intel_ssvc",
    "intel_sboms",
    "intel_sbom_components",
    "intel_mds2_profiles",
    "intel_mds2_answers",
)
RISK_TABLES = ("risk_plan_runs", "risk_evaluations", "risk_finding_history", "risk_assessments", "risk_findings")


def upgrade() -> None:
    """Apply."""
    inspector = sa.inspect(op.get_bind())
    absent = {name for name in INTEL_TABLES if not inspector.has_table(name)}
    if "intel_imports" in absent:
        op.create_table(
            "intel_imports",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("source", sa.String(length=32), nullable=False),
            sa.Column("file", sa.Text(), nullable=False),
            sa.Column("imported_at", sa.Float(), nullable=False),
            sa.Column("feed_timestamp", sa.String(length=64), nullable=True),
            sa.Column("records", sa.Integer(), nullable=False),
            sa.Column("problems", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    op.create_table(
        "risk_evaluations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=False),
        sa.Column("stamp", sa.String(length=200), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_evaluations")),
    )
    if "intel_advisories" in absent:
        op.create_table(
            "intel_advisories",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("advisory_id", sa.String(length=128), nullable=False),
            sa.Column("source", sa.String(length=32), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("published", sa.String(length=64), nullable=True),
            sa.Column("updated", sa.String(length=64), nullable=True),
            sa.Column("publisher", sa.Text(), nullable=False),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("notes", sa.JSON(), nullable=False),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("source", "advisory_id", name="uq_intel_advisories_source_id"),
        )
    if "intel_epss" in absent:
        op.create_table(
            "intel_epss",
            sa.Column("cve", sa.String(length=32), nullable=False),
            sa.Column("epss", sa.Float(), nullable=False),
            sa.Column("percentile", sa.Float(), nullable=False),
            sa.Column("date", sa.String(length=32), nullable=True),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("cve"),
        )
    if "intel_kev" in absent:
        op.create_table(
            "intel_kev",
            sa.Column("cve", sa.String(length=32), nullable=False),
            sa.Column("vendor", sa.Text(), nullable=False),
            sa.Column("product", sa.Text(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("date_added", sa.String(length=32), nullable=False),
            sa.Column("due_date", sa.String(length=32), nullable=True),
            sa.Column("ransomware", sa.String(length=32), nullable=False),
            sa.Column("required_action", sa.Text(), nullable=False),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("cve"),
        )
    if "intel_mds2_profiles" in absent:
        op.create_table(
            "intel_mds2_profiles",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("vendor", sa.Text(), nullable=False),
            sa.Column("model", sa.Text(), nullable=False),
            sa.Column("capabilities", sa.JSON(), nullable=False),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_sboms" in absent:
        op.create_table(
            "intel_sboms",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("vendor", sa.Text(), nullable=False),
            sa.Column("model", sa.Text(), nullable=False),
            sa.Column("format", sa.String(length=16), nullable=False),
            sa.Column("spec_version", sa.String(length=16), nullable=False),
            sa.Column("serial", sa.Text(), nullable=True),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_ssvc" in absent:
        op.create_table(
            "intel_ssvc",
            sa.Column("cve", sa.String(length=32), nullable=False),
            sa.Column("exploitation", sa.String(length=16), nullable=False),
            sa.Column("automatable", sa.String(length=16), nullable=False),
            sa.Column("technical_impact", sa.String(length=16), nullable=False),
            sa.Column("timestamp", sa.String(length=64), nullable=True),
            sa.Column("role", sa.String(length=64), nullable=False),
            sa.Column("import_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["import_id"],
                ["intel_imports.id"],
            ),
            sa.PrimaryKeyConstraint("cve"),
        )
    op.create_table(
        "risk_assessments",
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("likelihood", sa.Float(), nullable=False),
        sa.Column("impact", sa.Float(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_risk_assessments_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_risk_assessments")),
    )
    op.create_table(
        "risk_findings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("cve", sa.String(length=32), nullable=True),
        sa.Column("advisory", sa.String(length=128), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("ssvc", sa.String(length=8), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_risk_findings_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_findings")),
        sa.UniqueConstraint("device_id", "fingerprint", name="uq_risk_findings_device_fingerprint"),
    )
    op.create_index(op.f("ix_risk_findings_device_id"), "risk_findings", ["device_id"], unique=False)
    op.create_index("ix_risk_findings_state_severity", "risk_findings", ["state", "severity"], unique=False)
    op.create_table(
        "risk_plan_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("evaluation_id", _ID, nullable=True),
        sa.Column("budget_hours", sa.Float(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("risk_before", sa.Float(), nullable=False),
        sa.Column("risk_after", sa.Float(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("marginal", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["risk_evaluations.id"],
            name=op.f("fk_risk_plan_runs_evaluation_id_risk_evaluations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_plan_runs")),
    )
    if "intel_mds2_answers" in absent:
        op.create_table(
            "intel_mds2_answers",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("profile_pk", sa.Integer(), nullable=False),
            sa.Column("question_id", sa.String(length=32), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("answer", sa.Text(), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["profile_pk"], ["intel_mds2_profiles.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_mds2_answers" in absent:
        op.create_index("ix_intel_mds2_answers_profile", "intel_mds2_answers", ["profile_pk"], unique=False)
    if "intel_sbom_components" in absent:
        op.create_table(
            "intel_sbom_components",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("sbom_pk", sa.Integer(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("version", sa.Text(), nullable=True),
            sa.Column("purl", sa.Text(), nullable=True),
            sa.Column("cpe", sa.Text(), nullable=True),
            sa.Column("supplier", sa.Text(), nullable=False),
            sa.Column("ref", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["sbom_pk"], ["intel_sboms.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_sbom_components" in absent:
        op.create_index("ix_intel_sbom_components_sbom", "intel_sbom_components", ["sbom_pk"], unique=False)
    if "intel_vulnerabilities" in absent:
        op.create_table(
            "intel_vulnerabilities",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("advisory_pk", sa.Integer(), nullable=False),
            sa.Column("ordinal", sa.Integer(), nullable=False),
            sa.Column("cve", sa.String(length=32), nullable=True),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("cwe", sa.String(length=32), nullable=True),
            sa.Column("cvss", sa.JSON(), nullable=False),
            sa.Column("cvss_v3_score", sa.Float(), nullable=True),
            sa.Column("cvss_v4_score", sa.Float(), nullable=True),
            sa.Column("threats", sa.JSON(), nullable=False),
            sa.Column("notes", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(["advisory_pk"], ["intel_advisories.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_vulnerabilities" in absent:
        op.create_index("ix_intel_vulnerabilities_advisory", "intel_vulnerabilities", ["advisory_pk"], unique=False)
    if "intel_vulnerabilities" in absent:
        op.create_index("ix_intel_vulnerabilities_cve", "intel_vulnerabilities", ["cve"], unique=False)
    op.create_table(
        "risk_finding_history",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("finding_id", _ID, nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("old_state", sa.String(length=16), nullable=True),
        sa.Column("new_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["risk_findings.id"],
            name=op.f("fk_risk_finding_history_finding_id_risk_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_finding_history")),
    )
    op.create_index(op.f("ix_risk_finding_history_finding_id"), "risk_finding_history", ["finding_id"], unique=False)
    if "intel_product_conditions" in absent:
        op.create_table(
            "intel_product_conditions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("vulnerability_pk", sa.Integer(), nullable=False),
            sa.Column("product_id", sa.String(length=256), nullable=False),
            sa.Column("vendor", sa.Text(), nullable=False),
            sa.Column("product", sa.Text(), nullable=False),
            sa.Column("family", sa.Text(), nullable=False),
            sa.Column("version", sa.Text(), nullable=False),
            sa.Column("version_form", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("branch", sa.Text(), nullable=False),
            sa.Column("cpe", sa.Text(), nullable=True),
            sa.Column("purl", sa.Text(), nullable=True),
            sa.ForeignKeyConstraint(["vulnerability_pk"], ["intel_vulnerabilities.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_product_conditions" in absent:
        op.create_index(
            "ix_intel_product_conditions_vuln", "intel_product_conditions", ["vulnerability_pk"], unique=False
        )
    if "intel_remediations" in absent:
        op.create_table(
            "intel_remediations",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("vulnerability_pk", sa.Integer(), nullable=False),
            sa.Column("category", sa.String(length=32), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("url", sa.Text(), nullable=True),
            sa.Column("product_ids", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(["vulnerability_pk"], ["intel_vulnerabilities.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
    if "intel_remediations" in absent:
        op.create_index("ix_intel_remediations_vuln", "intel_remediations", ["vulnerability_pk"], unique=False)


def downgrade() -> None:
    """Revert (the knowledge base goes too)."""
    for name in (*RISK_TABLES, *reversed(INTEL_TABLES)):
        op.drop_table(name)

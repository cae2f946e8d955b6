"""Knowledge-base tables (SQLAlchemy Core), kept apart from the domain classes.

Every record points at the ``intel_imports`` row it came from (provenance: source, file, imported_at,
the feed's own timestamp). The tables live on their own :data:`intel_metadata` until the inventory's
Alembic migrations take them over; names are prefixed ``intel_`` so they sit beside the inventory's.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

intel_metadata = MetaData()

imports = Table(
    "intel_imports",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("file", Text, nullable=False),
    Column("imported_at", Float, nullable=False),
    Column("feed_timestamp", String(64)),
    Column("records", Integer, nullable=False, default=0),
    Column("problems", JSON, nullable=False, default=list),
)

advisories = Table(
    "intel_advisories",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("advisory_id", String(128), nullable=False),
    Column("source", String(32), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("published", String(64)),
    Column("updated", String(64)),
    Column("publisher", Text, nullable=False, default=""),
    Column("url", Text),
    Column("notes", JSON, nullable=False, default=list),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
    UniqueConstraint("source", "advisory_id", name="uq_intel_advisories_source_id"),
)

vulnerabilities = Table(
    "intel_vulnerabilities",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("advisory_pk", Integer, ForeignKey("intel_advisories.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False, default=0),
    Column("cve", String(32)),
    Column("title", Text, nullable=False, default=""),
    Column("cwe", String(32)),
    Column("cvss", JSON, nullable=False, default=list),  # [{version, vector, base_score, severity}]
    Column("cvss_v3_score", Float),
    Column("cvss_v4_score", Float),
    Column("threats", JSON, nullable=False, default=list),
    Column("notes", JSON, nullable=False, default=list),
    Index("ix_intel_vulnerabilities_cve", "cve"),
    Index("ix_intel_vulnerabilities_advisory", "advisory_pk"),
)

product_conditions = Table(
    "intel_product_conditions",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "vulnerability_pk",
        Integer,
        ForeignKey("intel_vulnerabilities.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("product_id", String(256), nullable=False),
    Column("vendor", Text, nullable=False, default=""),
    Column("product", Text, nullable=False, default=""),
    Column("family", Text, nullable=False, default=""),
    Column("version", Text, nullable=False, default=""),
    Column("version_form", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("branch", Text, nullable=False, default=""),
    Column("cpe", Text),
    Column("purl", Text),
    Index("ix_intel_product_conditions_vuln", "vulnerability_pk"),
)

remediations = Table(
    "intel_remediations",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "vulnerability_pk",
        Integer,
        ForeignKey("intel_vulnerabilities.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("category", String(32), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("url", Text),
    Column("product_ids", JSON, nullable=False, default=list),
    Index("ix_intel_remediations_vuln", "vulnerability_pk"),
)

kev = Table(
    "intel_kev",
    intel_metadata,
    Column("cve", String(32), primary_key=True),
    Column("vendor", Text, nullable=False, default=""),
    Column("product", Text, nullable=False, default=""),
    Column("name", Text, nullable=False, default=""),
    Column("date_added", String(32), nullable=False, default=""),
    Column("due_date", String(32)),
    Column("ransomware", String(32), nullable=False, default="Unknown"),
    Column("required_action", Text, nullable=False, default=""),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
)

epss = Table(
    "intel_epss",
    intel_metadata,
    Column("cve", String(32), primary_key=True),
    Column("epss", Float, nullable=False),
    Column("percentile", Float, nullable=False),
    Column("date", String(32)),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
)

ssvc = Table(
    "intel_ssvc",
    intel_metadata,
    Column("cve", String(32), primary_key=True),
    Column("exploitation", String(16), nullable=False),
    Column("automatable", String(16), nullable=False),
    Column("technical_impact", String(16), nullable=False),
    Column("timestamp", String(64)),
    Column("role", String(64), nullable=False, default=""),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
)

sboms = Table(
    "intel_sboms",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", Text, nullable=False, default=""),
    Column("model", Text, nullable=False, default=""),
    Column("format", String(16), nullable=False),
    Column("spec_version", String(16), nullable=False, default=""),
    Column("serial", Text),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
)

sbom_components = Table(
    "intel_sbom_components",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sbom_pk", Integer, ForeignKey("intel_sboms.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Text),
    Column("purl", Text),
    Column("cpe", Text),
    Column("supplier", Text, nullable=False, default=""),
    Column("ref", Text, nullable=False, default=""),
    Index("ix_intel_sbom_components_sbom", "sbom_pk"),
)

mds2_profiles = Table(
    "intel_mds2_profiles",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("vendor", Text, nullable=False, default=""),
    Column("model", Text, nullable=False, default=""),
    Column("capabilities", JSON, nullable=False, default=dict),
    Column("import_id", Integer, ForeignKey("intel_imports.id"), nullable=False),
)

mds2_answers = Table(
    "intel_mds2_answers",
    intel_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("profile_pk", Integer, ForeignKey("intel_mds2_profiles.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", String(32), nullable=False),
    Column("question", Text, nullable=False, default=""),
    Column("answer", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Index("ix_intel_mds2_answers_profile", "profile_pk"),
)

#: Tables whose row counts describe the knowledge base (tests compare them before/after a rejection).
CONTENT_TABLES = (
    imports,
    advisories,
    vulnerabilities,
    product_conditions,
    remediations,
    kev,
    epss,
    ssvc,
    sboms,
    sbom_components,
    mds2_profiles,
    mds2_answers,
)

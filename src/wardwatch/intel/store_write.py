"""Writing one :class:`ImportBatch` into the knowledge-base tables (inside the caller's transaction).

A batch replaces what the tables held under the same key: an advisory of the same source and id, the
KEV/EPSS/SSVC row of the same CVE, the SBOM or MDS2 form of the same vendor and model. The bulk feeds
are upserted with each dialect's ``ON CONFLICT`` (SQLite, PostgreSQL) and a delete-then-insert elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from wardwatch.domain.advisory import Advisory, KevEntry, Mds2Profile, Sbom, SsvcDecision, Vulnerability
from wardwatch.intel import tables as t
from wardwatch.intel.interface import ImportBatch

_CHUNK = 5000


def write_batch(conn: Connection, batch: ImportBatch) -> int:
    """Write ``batch`` on ``conn`` (the caller owns the transaction); return its ``intel_imports`` id."""
    import_id = _insert(
        conn,
        t.imports,
        source=batch.source,
        file=batch.file,
        imported_at=time.time(),
        feed_timestamp=batch.feed_timestamp,
        records=batch.size,
        problems=[p.path + ": " + p.message for p in batch.problems][:500],
    )
    for advisory in batch.advisories:
        _write_advisory(conn, advisory, import_id)
    upsert(conn, t.kev, "cve", [_kev_row(k, import_id) for k in batch.kev])
    upsert(
        conn,
        t.epss,
        "cve",
        [
            {"cve": e.cve, "epss": e.epss, "percentile": e.percentile, "date": e.date, "import_id": import_id}
            for e in batch.epss
        ],
    )
    upsert(conn, t.ssvc, "cve", [_ssvc_row(s, import_id) for s in batch.ssvc])
    for sbom in batch.sboms:
        _write_sbom(conn, sbom, import_id)
    for profile in batch.mds2:
        _write_mds2(conn, profile, import_id)
    return import_id


def upsert(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table``, replacing the rows with the same ``key`` (last one wins)."""
    if not rows:
        return
    rows = list({r[key]: r for r in rows}.values())  # one statement may not touch a row twice
    dialect = conn.dialect.name
    columns = [c.name for c in table.columns if c.name != key]
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        if dialect in ("sqlite", "postgresql"):
            ins = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
            stmt = ins.on_conflict_do_update(index_elements=[key], set_={c: getattr(ins.excluded, c) for c in columns})
            conn.execute(stmt, chunk)
        else:  # portable fallback
            conn.execute(delete(table).where(table.c[key].in_([r[key] for r in chunk])))
            conn.execute(table.insert(), chunk)


def _insert(conn: Connection, table: Table, **values: Any) -> int:
    """Insert one row and return its integer primary key."""
    return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]


def _replace_parent(
    conn: Connection,
    parent: Table,
    child: Table,
    child_fk: str,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any],
    children: list[dict[str, Any]],
) -> None:
    """Delete the ``parent`` rows matching ``where`` with their ``child`` rows; insert the new ones."""
    old = select(parent.c.id).where(*where)
    conn.execute(delete(child).where(child.c[child_fk].in_(old)))
    conn.execute(delete(parent).where(*where))
    pk = _insert(conn, parent, **values)
    if children:
        conn.execute(child.insert(), [{child_fk: pk, **row} for row in children])


def _write_advisory(conn: Connection, advisory: Advisory, import_id: int) -> None:
    old = conn.execute(
        select(t.advisories.c.id).where(
            t.advisories.c.source == advisory.source, t.advisories.c.advisory_id == advisory.id
        )
    ).scalar_one_or_none()
    if old is not None:
        vuln_ids = select(t.vulnerabilities.c.id).where(t.vulnerabilities.c.advisory_pk == old)
        conn.execute(delete(t.product_conditions).where(t.product_conditions.c.vulnerability_pk.in_(vuln_ids)))
        conn.execute(delete(t.remediations).where(t.remediations.c.vulnerability_pk.in_(vuln_ids)))
        conn.execute(delete(t.vulnerabilities).where(t.vulnerabilities.c.advisory_pk == old))
        conn.execute(delete(t.advisories).where(t.advisories.c.id == old))
    pk = _insert(
        conn,
        t.advisories,
        advisory_id=advisory.id,
        source=advisory.source,
        title=advisory.title,
        published=advisory.published,
        updated=advisory.updated,
        publisher=advisory.publisher,
        url=advisory.url,
        notes=list(advisory.notes),
        import_id=import_id,
    )
    conditions: list[dict[str, Any]] = []
    rems: list[dict[str, Any]] = []
    for vuln in advisory.vulnerabilities:
        vpk = _insert(conn, t.vulnerabilities, **_vulnerability_row(vuln, pk))
        conditions.extend(
            {
                "vulnerability_pk": vpk,
                "product_id": c.product_id,
                "vendor": c.vendor,
                "product": c.product,
                "family": c.family,
                "version": c.version,
                "version_form": c.version_form.value,
                "status": c.status.value,
                "branch": c.branch,
                "cpe": c.cpe,
                "purl": c.purl,
            }
            for c in vuln.conditions
        )
        rems.extend(
            {
                "vulnerability_pk": vpk,
                "category": r.category.value,
                "text": r.text,
                "url": r.url,
                "product_ids": list(r.product_ids),
            }
            for r in vuln.remediations
        )
    if conditions:
        conn.execute(t.product_conditions.insert(), conditions)
    if rems:
        conn.execute(t.remediations.insert(), rems)


def _vulnerability_row(vuln: Vulnerability, advisory_pk: int) -> dict[str, Any]:
    v3 = [s.base_score for s in vuln.cvss if s.version.startswith("3")]
    v4 = [s.base_score for s in vuln.cvss if s.version.startswith("4")]
    return {
        "advisory_pk": advisory_pk,
        "ordinal": vuln.ordinal,
        "cve": vuln.cve,
        "title": vuln.title,
        "cwe": vuln.cwe,
        "cvss": [
            {"version": s.version, "vector": s.vector, "base_score": s.base_score, "severity": s.severity}
            for s in vuln.cvss
        ],
        "cvss_v3_score": max(v3) if v3 else None,
        "cvss_v4_score": max(v4) if v4 else None,
        "threats": list(vuln.threats),
        "notes": list(vuln.notes),
    }


def _write_sbom(conn: Connection, sbom: Sbom, import_id: int) -> None:
    _replace_parent(
        conn,
        t.sboms,
        t.sbom_components,
        "sbom_pk",
        (t.sboms.c.vendor == sbom.vendor, t.sboms.c.model == sbom.model),
        {
            "vendor": sbom.vendor,
            "model": sbom.model,
            "format": sbom.format,
            "spec_version": sbom.spec_version,
            "serial": sbom.serial,
            "import_id": import_id,
        },
        [
            {"name": c.name, "version": c.version, "purl": c.purl, "cpe": c.cpe, "supplier": c.supplier, "ref": c.ref}
            for c in sbom.components
        ],
    )


def _write_mds2(conn: Connection, profile: Mds2Profile, import_id: int) -> None:
    _replace_parent(
        conn,
        t.mds2_profiles,
        t.mds2_answers,
        "profile_pk",
        (t.mds2_profiles.c.vendor == profile.vendor, t.mds2_profiles.c.model == profile.model),
        {
            "vendor": profile.vendor,
            "model": profile.model,
            "capabilities": dict(profile.capabilities),
            "import_id": import_id,
        },
        [
            {"question_id": a.question_id, "question": a.question, "answer": a.answer, "note": a.note}
            for a in profile.answers
        ],
    )


def _kev_row(k: KevEntry, import_id: int) -> dict[str, Any]:
    return {
        "cve": k.cve,
        "vendor": k.vendor,
        "product": k.product,
        "name": k.name,
        "date_added": k.date_added,
        "due_date": k.due_date,
        "ransomware": k.ransomware,
        "required_action": k.required_action,
        "import_id": import_id,
    }


def _ssvc_row(s: SsvcDecision, import_id: int) -> dict[str, Any]:
    return {
        "cve": s.cve,
        "exploitation": s.exploitation,
        "automatable": s.automatable,
        "technical_impact": s.technical_impact,
        "timestamp": s.timestamp,
        "role": s.role,
        "import_id": import_id,
    }

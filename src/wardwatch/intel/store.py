"""The knowledge base: write an :class:`ImportBatch` in one transaction, read domain records back.

A batch replaces what the knowledge base held under the same key (an advisory of the same source and
id, the KEV/EPSS/SSVC row of the same CVE, the SBOM or MDS2 form of the same vendor and model), so a
re-import of a newer feed updates in place. Writing is all-or-nothing: one ``engine.begin()`` block per
batch. Works on SQLite and PostgreSQL (the upsert of the bulk feeds uses each dialect's
``ON CONFLICT``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from wardwatch.domain.advisory import (
    Advisory,
    CvssScore,
    EpssScore,
    KevEntry,
    Mds2Answer,
    Mds2Profile,
    ProductCondition,
    ProductStatus,
    Remediation,
    RemediationCategory,
    Sbom,
    SbomComponent,
    SsvcDecision,
    VersionForm,
    Vulnerability,
)
from wardwatch.errors import ImportRejectedError
from wardwatch.intel import tables as t
from wardwatch.intel.interface import ImportBatch

_CHUNK = 5000


class KnowledgeBase:
    """The vulnerability knowledge base on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, url_or_engine: str | Engine, *, create: bool = True) -> None:
        if isinstance(url_or_engine, str):
            url = url_or_engine
            if url.startswith(("postgresql://", "postgres://")):  # psycopg 3 is the driver we ship
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            self.engine = create_engine(url)
        else:
            self.engine = url_or_engine
        if create:
            t.intel_metadata.create_all(self.engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    # -- writing --------------------------------------------------------------------------------
    def store(self, batch: ImportBatch) -> int:
        """Write one batch in one transaction; return the id of its ``intel_imports`` row.

        A database error rolls the whole batch back and is raised as ImportRejectedError.
        """
        try:
            return self._store(batch)
        except SQLAlchemyError as exc:
            raise ImportRejectedError(f"{batch.file}: database: {type(exc).__name__}: {str(exc)[:300]}") from exc

    def _store(self, batch: ImportBatch) -> int:
        with self.engine.begin() as conn:
            import_id = int(
                conn.execute(
                    t.imports.insert().values(
                        source=batch.source,
                        file=batch.file,
                        imported_at=time.time(),
                        feed_timestamp=batch.feed_timestamp,
                        records=batch.size,
                        problems=[p.path + ": " + p.message for p in batch.problems][:500],
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
            for advisory in batch.advisories:
                self._store_advisory(conn, advisory, import_id)
            self._upsert(conn, t.kev, "cve", [_kev_row(k, import_id) for k in batch.kev])
            self._upsert(
                conn,
                t.epss,
                "cve",
                [
                    {
                        "cve": e.cve,
                        "epss": e.epss,
                        "percentile": e.percentile,
                        "date": e.date,
                        "import_id": import_id,
                    }
                    for e in batch.epss
                ],
            )
            self._upsert(conn, t.ssvc, "cve", [_ssvc_row(s, import_id) for s in batch.ssvc])
            for sbom in batch.sboms:
                self._store_sbom(conn, sbom, import_id)
            for profile in batch.mds2:
                self._store_mds2(conn, profile, import_id)
        return import_id

    def _upsert(self, conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        rows = list({r[key]: r for r in rows}.values())  # last wins: one statement may not touch a row twice
        dialect = conn.dialect.name
        columns = [c.name for c in table.columns if c.name != key]
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            if dialect in ("sqlite", "postgresql"):
                ins = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
                stmt = ins.on_conflict_do_update(
                    index_elements=[key], set_={c: getattr(ins.excluded, c) for c in columns}
                )
                conn.execute(stmt, chunk)
            else:  # portable fallback
                conn.execute(delete(table).where(table.c[key].in_([r[key] for r in chunk])))
                conn.execute(table.insert(), chunk)

    def _store_advisory(self, conn: Connection, advisory: Advisory, import_id: int) -> None:
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
        pk = conn.execute(
            t.advisories.insert().values(
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
        ).inserted_primary_key[0]  # type: ignore[index]
        conditions: list[dict[str, Any]] = []
        rems: list[dict[str, Any]] = []
        for vuln in advisory.vulnerabilities:
            v3 = [s.base_score for s in vuln.cvss if s.version.startswith("3")]
            v4 = [s.base_score for s in vuln.cvss if s.version.startswith("4")]
            vpk = conn.execute(
                t.vulnerabilities.insert().values(
                    advisory_pk=pk,
                    ordinal=vuln.ordinal,
                    cve=vuln.cve,
                    title=vuln.title,
                    cwe=vuln.cwe,
                    cvss=[
                        {
                            "version": s.version,
                            "vector": s.vector,
                            "base_score": s.base_score,
                            "severity": s.severity,
                        }
                        for s in vuln.cvss
                    ],
                    cvss_v3_score=max(v3) if v3 else None,
                    cvss_v4_score=max(v4) if v4 else None,
                    threats=list(vuln.threats),
                    notes=list(vuln.notes),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
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

    def _store_sbom(self, conn: Connection, sbom: Sbom, import_id: int) -> None:
        old = select(t.sboms.c.id).where(t.sboms.c.vendor == sbom.vendor, t.sboms.c.model == sbom.model)
        conn.execute(delete(t.sbom_components).where(t.sbom_components.c.sbom_pk.in_(old)))
        conn.execute(delete(t.sboms).where(t.sboms.c.vendor == sbom.vendor, t.sboms.c.model == sbom.model))
        pk = conn.execute(
            t.sboms.insert().values(
                vendor=sbom.vendor,
                model=sbom.model,
                format=sbom.format,
                spec_version=sbom.spec_version,
                serial=sbom.serial,
                import_id=import_id,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        rows = [
            {
                "sbom_pk": pk,
                "name": c.name,
                "version": c.version,
                "purl": c.purl,
                "cpe": c.cpe,
                "supplier": c.supplier,
                "ref": c.ref,
            }
            for c in sbom.components
        ]
        if rows:
            conn.execute(t.sbom_components.insert(), rows)

    def _store_mds2(self, conn: Connection, profile: Mds2Profile, import_id: int) -> None:
        where = (t.mds2_profiles.c.vendor == profile.vendor, t.mds2_profiles.c.model == profile.model)
        old = select(t.mds2_profiles.c.id).where(*where)
        conn.execute(delete(t.mds2_answers).where(t.mds2_answers.c.profile_pk.in_(old)))
        conn.execute(delete(t.mds2_profiles).where(*where))
        pk = conn.execute(
            t.mds2_profiles.insert().values(
                vendor=profile.vendor,
                model=profile.model,
                capabilities=dict(profile.capabilities),
                import_id=import_id,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        rows = [
            {
                "profile_pk": pk,
                "question_id": a.question_id,
                "question": a.question,
                "answer": a.answer,
                "note": a.note,
            }
            for a in profile.answers
        ]
        if rows:
            conn.execute(t.mds2_answers.insert(), rows)

    # -- reading --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row count of every knowledge-base table."""
        with self.engine.connect() as conn:
            return {
                tab.name: int(conn.execute(select(func.count()).select_from(tab)).scalar_one())
                for tab in t.CONTENT_TABLES
            }

    def advisories(self, sources: Iterable[str] | None = None) -> list[Advisory]:
        """Every advisory (optionally of some sources) with its vulnerabilities and conditions."""
        with self.engine.connect() as conn:
            query = select(t.advisories)
            if sources is not None:
                query = query.where(t.advisories.c.source.in_(list(sources)))
            adv_rows = conn.execute(query).mappings().all()
            wanted = {r["id"] for r in adv_rows}
            vulns: dict[int, list[Any]] = defaultdict(list)
            for row in conn.execute(select(t.vulnerabilities).order_by(t.vulnerabilities.c.ordinal)).mappings():
                if row["advisory_pk"] in wanted:
                    vulns[row["advisory_pk"]].append(row)
            conds: dict[int, list[ProductCondition]] = defaultdict(list)
            for row in conn.execute(select(t.product_conditions).order_by(t.product_conditions.c.id)).mappings():
                conds[row["vulnerability_pk"]].append(_condition(row))
            rems: dict[int, list[Remediation]] = defaultdict(list)
            for row in conn.execute(select(t.remediations).order_by(t.remediations.c.id)).mappings():
                rems[row["vulnerability_pk"]].append(
                    Remediation(
                        RemediationCategory(row["category"]),
                        row["text"],
                        row["url"],
                        tuple(row["product_ids"]),
                    )
                )
        out = []
        for a in adv_rows:
            vs = tuple(
                Vulnerability(
                    cve=v["cve"],
                    title=v["title"],
                    cwe=v["cwe"],
                    cvss=tuple(CvssScore(s["version"], s["vector"], s["base_score"], s["severity"]) for s in v["cvss"]),
                    conditions=tuple(conds.get(v["id"], ())),
                    remediations=tuple(rems.get(v["id"], ())),
                    threats=tuple(v["threats"]),
                    notes=tuple(v["notes"]),
                    ordinal=v["ordinal"],
                )
                for v in vulns.get(a["id"], ())
            )
            out.append(
                Advisory(
                    a["advisory_id"],
                    a["source"],
                    a["title"],
                    vs,
                    a["published"],
                    a["updated"],
                    a["publisher"],
                    a["url"],
                    tuple(a["notes"]),
                )
            )
        return out

    def kev(self) -> dict[str, KevEntry]:
        """The KEV catalog by CVE."""
        with self.engine.connect() as conn:
            return {
                r["cve"]: KevEntry(
                    r["cve"],
                    r["vendor"],
                    r["product"],
                    r["name"],
                    r["date_added"],
                    r["due_date"],
                    r["ransomware"],
                    r["required_action"],
                )
                for r in conn.execute(select(t.kev)).mappings()
            }

    def epss(self, cves: Sequence[str] | None = None) -> dict[str, EpssScore]:
        """EPSS scores by CVE (all, or those of ``cves``)."""
        with self.engine.connect() as conn:
            out: dict[str, EpssScore] = {}
            chunks: list[Sequence[str] | None] = (
                [None] if cves is None else [cves[i : i + 500] for i in range(0, len(cves), 500)]
            )
            for chunk in chunks:
                query = select(t.epss) if chunk is None else select(t.epss).where(t.epss.c.cve.in_(list(chunk)))
                for r in conn.execute(query).mappings():
                    out[r["cve"]] = EpssScore(r["cve"], r["epss"], r["percentile"], r["date"])
            return out

    def ssvc(self) -> dict[str, SsvcDecision]:
        """CISA SSVC decision points by CVE."""
        with self.engine.connect() as conn:
            return {
                r["cve"]: SsvcDecision(
                    r["cve"],
                    r["exploitation"],
                    r["automatable"],
                    r["technical_impact"],
                    r["timestamp"],
                    r["role"],
                )
                for r in conn.execute(select(t.ssvc)).mappings()
            }

    def sboms(self) -> list[Sbom]:
        """Every SBOM with its components."""
        with self.engine.connect() as conn:
            comps: dict[int, list[SbomComponent]] = defaultdict(list)
            for r in conn.execute(select(t.sbom_components).order_by(t.sbom_components.c.id)).mappings():
                comps[r["sbom_pk"]].append(
                    SbomComponent(r["name"], r["version"], r["purl"], r["cpe"], r["supplier"], r["ref"])
                )
            return [
                Sbom(
                    r["vendor"],
                    r["model"],
                    r["format"],
                    r["spec_version"],
                    tuple(comps[r["id"]]),
                    r["serial"],
                )
                for r in conn.execute(select(t.sboms)).mappings()
            ]

    def mds2_profiles(self) -> list[Mds2Profile]:
        """Every MDS2 form with its answers and capability profile."""
        with self.engine.connect() as conn:
            answers: dict[int, list[Mds2Answer]] = defaultdict(list)
            for r in conn.execute(select(t.mds2_answers).order_by(t.mds2_answers.c.id)).mappings():
                answers[r["profile_pk"]].append(Mds2Answer(r["question_id"], r["question"], r["answer"], r["note"]))
            return [
                Mds2Profile(r["vendor"], r["model"], tuple(answers[r["id"]]), dict(r["capabilities"]))
                for r in conn.execute(select(t.mds2_profiles)).mappings()
            ]


def _condition(row: Any) -> ProductCondition:
    return ProductCondition(
        product_id=row["product_id"],
        vendor=row["vendor"],
        product=row["product"],
        version=row["version"],
        version_form=VersionForm(row["version_form"]),
        status=ProductStatus(row["status"]),
        branch=row["branch"],
        family=row["family"],
        cpe=row["cpe"],
        purl=row["purl"],
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

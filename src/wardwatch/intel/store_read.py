"""Reading the knowledge-base tables back as domain records (advisories, KEV, EPSS, SSVC, SBOMs, MDS2)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

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
from wardwatch.intel import tables as t

#: CVEs per ``IN (...)`` query (keeps statements well under every driver's parameter limit).
_IN_CHUNK = 500


def read_counts(conn: Connection) -> dict[str, int]:
    """Row count of every knowledge-base table."""
    return {
        tab.name: int(conn.execute(select(func.count()).select_from(tab)).scalar_one()) for tab in t.CONTENT_TABLES
    }


def read_advisory_versions(conn: Connection) -> dict[tuple[str, str], str]:
    """(source, advisory id) → the advisory's ``updated`` stamp: what changed between two imports."""
    rows = conn.execute(select(t.advisories.c.source, t.advisories.c.advisory_id, t.advisories.c.updated))
    return {(r.source, r.advisory_id): str(r.updated) for r in rows}


def read_advisories(conn: Connection, sources: Iterable[str] | None = None) -> list[Advisory]:
    """Every advisory (optionally of some sources) with its vulnerabilities and conditions."""
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
            Remediation(RemediationCategory(row["category"]), row["text"], row["url"], tuple(row["product_ids"]))
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


def read_kev(conn: Connection) -> dict[str, KevEntry]:
    """The KEV catalog by CVE."""
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


def read_epss(conn: Connection, cves: Sequence[str] | None = None) -> dict[str, EpssScore]:
    """EPSS scores by CVE (all, or those of ``cves``)."""
    out: dict[str, EpssScore] = {}
    chunks: list[Sequence[str] | None] = (
        [None] if cves is None else [cves[i : i + _IN_CHUNK] for i in range(0, len(cves), _IN_CHUNK)]
    )
    for chunk in chunks:
        query = select(t.epss) if chunk is None else select(t.epss).where(t.epss.c.cve.in_(list(chunk)))
        for r in conn.execute(query).mappings():
            out[r["cve"]] = EpssScore(r["cve"], r["epss"], r["percentile"], r["date"])
    return out


def read_ssvc(conn: Connection) -> dict[str, SsvcDecision]:
    """CISA SSVC decision points by CVE."""
    return {
        r["cve"]: SsvcDecision(
            r["cve"], r["exploitation"], r["automatable"], r["technical_impact"], r["timestamp"], r["role"]
        )
        for r in conn.execute(select(t.ssvc)).mappings()
    }


def read_sboms(conn: Connection) -> list[Sbom]:
    """Every SBOM with its components."""
    comps: dict[int, list[SbomComponent]] = defaultdict(list)
    for r in conn.execute(select(t.sbom_components).order_by(t.sbom_components.c.id)).mappings():
        comps[r["sbom_pk"]].append(SbomComponent(r["name"], r["version"], r["purl"], r["cpe"], r["supplier"], r["ref"]))
    return [
        Sbom(r["vendor"], r["model"], r["format"], r["spec_version"], tuple(comps[r["id"]]), r["serial"])
        for r in conn.execute(select(t.sboms)).mappings()
    ]


def read_mds2_profiles(conn: Connection) -> list[Mds2Profile]:
    """Every MDS2 form with its answers and capability profile."""
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

"""CVE JSON 5.x records (CVE Record Format 5.0/5.1) with CISA's ADP "vulnrichment" container.

From the CNA container: ``affected[]`` (vendor, product, ``versions[]`` with ``version``, ``lessThan``,
``lessThanOrEqual`` and ``status`` affected/unaffected/unknown) become product conditions of an
advisory ``source=cve5`` with the CVE as id; CVSS v3.x/v4.0 from ``metrics``; the CWE from
``problemTypes``. From the ADP container titled "CISA ADP Vulnrichment": the SSVC decision points
(``metrics[].other.type == "ssvc"``: Exploitation, Automatable, Technical Impact) and a KEV listing
(``metrics[].other.type == "kev"``: dateAdded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import (
    Advisory,
    CvssScore,
    KevEntry,
    ProductCondition,
    ProductStatus,
    SsvcDecision,
    VersionForm,
    Vulnerability,
)
from wardwatch.intel.cvss_util import score_from_vector
from wardwatch.intel.interface import ImportBatch, load_json, reject, require
from wardwatch.intel.normalize import fix_mojibake

_STATUS = {
    "affected": ProductStatus.KNOWN_AFFECTED,
    "unaffected": ProductStatus.KNOWN_NOT_AFFECTED,
    "unknown": ProductStatus.UNDER_INVESTIGATION,
}
_ANY = {"", "*", "0", "n/a", "unspecified", "all"}


def _version_expr(v: dict[str, Any]) -> tuple[str, VersionForm]:
    start = str(v.get("version", "")).strip()
    for key, op in (("lessThan", "<"), ("lessThanOrEqual", "<=")):
        end = v.get(key)
        if isinstance(end, str) and end.strip() and end.strip() != "*":
            lower = "" if start.casefold() in _ANY else f">={start}|"
            return f"vers:generic/{lower}{op}{end.strip()}", VersionForm.RANGE
    if start.casefold() in _ANY:
        return "vers:generic/*", VersionForm.RANGE
    return start, VersionForm.EXACT


def _conditions(cna: dict[str, Any], path: Path, batch: ImportBatch) -> list[ProductCondition]:
    out: list[ProductCondition] = []
    for i, aff in enumerate(cna.get("affected", []) or []):
        at = f"$.containers.cna.affected[{i}]"
        if not isinstance(aff, dict):
            raise reject(path, at, "expected an object")
        vendor = fix_mojibake(str(aff.get("vendor", "")))
        product = fix_mojibake(str(aff.get("product", "")))
        for j, v in enumerate(aff.get("versions", []) or []):
            status = _STATUS.get(str(v.get("status", "")))
            if status is None:
                batch.problem(f"{at}.versions[{j}].status", "unknown version status", v.get("status"))
                continue
            version, form = _version_expr(v)
            out.append(
                ProductCondition(
                    f"{i}.{j}", vendor, product, version, form, status, branch=f"{vendor}/{product}/{version}"
                )
            )
    return out


def _scores(containers: list[dict[str, Any]]) -> tuple[CvssScore, ...]:
    out: list[CvssScore] = []
    for container in containers:
        for metric in container.get("metrics", []) or []:
            for key, block in metric.items() if isinstance(metric, dict) else ():
                if key.startswith("cvssV") and isinstance(block, dict) and isinstance(block.get("vectorString"), str):
                    score = score_from_vector(block["vectorString"])
                    if score is not None:
                        out.append(score)
    return tuple(out)


def parse_record(doc: Any, path: Path, batch: ImportBatch, with_products: bool = True) -> None:
    """One CVE 5 record into the batch: an advisory, and SSVC/KEV records from the CISA ADP."""
    meta = require(doc, "cveMetadata", dict, path, "$")
    cve = require(meta, "cveId", str, path, "$.cveMetadata")
    containers = require(doc, "containers", dict, path, "$")
    cna = require(containers, "cna", dict, path, "$.containers")
    adps = containers.get("adp", []) or []
    if not isinstance(adps, list):
        raise reject(path, "$.containers.adp", "expected an array")
    for i, adp in enumerate(adps):
        for j, metric in enumerate(adp.get("metrics", []) or []):
            other = metric.get("other") if isinstance(metric, dict) else None
            if not isinstance(other, dict):
                continue
            content = other.get("content") or {}
            at = f"$.containers.adp[{i}].metrics[{j}].other.content"
            if other.get("type") == "ssvc":
                options: dict[str, str] = {}
                for opt in content.get("options", []) or []:
                    options.update({str(k): str(v) for k, v in opt.items()})
                try:
                    batch.ssvc.append(
                        SsvcDecision(
                            cve,
                            options["Exploitation"].lower(),
                            options["Automatable"].lower(),
                            options["Technical Impact"].lower(),
                            content.get("timestamp"),
                            str(content.get("role", "")),
                        )
                    )
                except KeyError as exc:
                    raise reject(path, f"{at}.options", f"SSVC decision point {exc} missing") from exc
            elif other.get("type") == "kev":
                batch.kev.append(KevEntry(cve, "", "", "", str(content.get("dateAdded", ""))))
    desc = next(
        (d.get("value", "") for d in cna.get("descriptions", []) or [] if d.get("lang", "").startswith("en")),
        "",
    )
    cwe = next(
        (
            d.get("cweId")
            for p in cna.get("problemTypes", []) or []
            for d in p.get("descriptions", []) or []
            if d.get("cweId")
        ),
        None,
    )
    if with_products:
        vuln = Vulnerability(
            cve=cve,
            title=str(cna.get("title", "")) or desc[:200],
            cwe=cwe,
            cvss=_scores([cna, *adps]),
            conditions=tuple(_conditions(cna, path, batch)),
            notes=(desc,) if desc else (),
        )
        batch.advisories.append(
            Advisory(
                cve,
                "cve5",
                vuln.title,
                (vuln,),
                meta.get("datePublished"),
                meta.get("dateUpdated"),
                str(meta.get("assignerShortName", "")),
                f"https://www.cve.org/CVERecord?id={cve}",
            )
        )
    batch.feed_timestamp = meta.get("dateUpdated")


class Cve5Importer:
    """Importer for CVE 5.x JSON records (cvelistV5, CISA vulnrichment)."""

    name = "cve5"

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """``{"dataType": "CVE_RECORD", ...}``."""
        return isinstance(document, dict) and document.get("dataType") == "CVE_RECORD"

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """The record's advisory, SSVC and KEV enrichment."""
        document = load_json(path, document)
        batch = ImportBatch(source=self.name, file=str(path))
        parse_record(document, path, batch)
        return batch


IMPORTER = Cve5Importer()

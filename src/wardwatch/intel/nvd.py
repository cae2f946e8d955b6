"""NVD CVE API 2.0 JSON (``format: NVD_CVE``, ``version: 2.0``): one advisory per CVE.

Each ``configurations[].nodes[].cpeMatch[]`` with ``vulnerable: true`` becomes a known_affected product
condition: vendor and product from the CPE 2.3 criteria, the version from the CPE (exact) or from
``versionStart/End(In|Ex)cluding`` written as a ``vers:generic`` range. Platform-only matches
(``vulnerable: false``, the "running on" half of an AND node) are not conditions. CVSS v3.x and v4.0
come from ``metrics.cvssMetricV3x`` / ``cvssMetricV40``, the CWE from ``weaknesses``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import (
    Advisory,
    CvssScore,
    ProductCondition,
    ProductStatus,
    VersionForm,
    Vulnerability,
)
from wardwatch.intel.cpe import parse_cpe
from wardwatch.intel.cvss_util import score_from_vector
from wardwatch.intel.interface import ImportBatch, load_json, reject, require

_BOUNDS = (
    ("versionStartIncluding", ">="),
    ("versionStartExcluding", ">"),
    ("versionEndIncluding", "<="),
    ("versionEndExcluding", "<"),
)


def _conditions(cve: dict[str, Any], path: Path, where: str, batch: ImportBatch) -> list[ProductCondition]:
    out: list[ProductCondition] = []
    for i, config in enumerate(cve.get("configurations", []) or []):
        for j, node in enumerate(config.get("nodes", []) or []):
            if node.get("negate"):
                continue
            for k, match in enumerate(node.get("cpeMatch", []) or []):
                at = f"{where}.configurations[{i}].nodes[{j}].cpeMatch[{k}]"
                if not match.get("vulnerable", False):
                    continue
                criteria = require(match, "criteria", str, path, at)
                cpe = parse_cpe(criteria)
                if cpe is None:
                    batch.problem(f"{at}.criteria", "not a CPE 2.3 name", criteria)
                    continue
                bounds = [f"{op}{match[key]}" for key, op in _BOUNDS if isinstance(match.get(key), str)]
                if bounds:
                    version, form = "vers:generic/" + "|".join(bounds), VersionForm.RANGE
                elif cpe.has_version:
                    version, form = cpe.version, VersionForm.EXACT
                else:
                    version, form = "vers:generic/*", VersionForm.RANGE
                out.append(
                    ProductCondition(
                        product_id=str(match.get("matchCriteriaId") or criteria),
                        vendor=cpe.vendor,
                        product=cpe.product,
                        version=version,
                        version_form=form,
                        status=ProductStatus.KNOWN_AFFECTED,
                        branch=criteria,
                        cpe=criteria,
                    )
                )
    return out


def _cvss(metrics: dict[str, Any]) -> tuple[CvssScore, ...]:
    out: list[CvssScore] = []
    for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30"):
        for metric in metrics.get(key, []) or []:
            data = metric.get("cvssData", {}) if isinstance(metric, dict) else {}
            vector = data.get("vectorString")
            score = score_from_vector(vector) if isinstance(vector, str) else None
            if score is not None:
                out.append(score)
    return tuple(out)


def parse_cve(item: dict[str, Any], path: Path, where: str, batch: ImportBatch) -> Advisory:
    """One ``vulnerabilities[]`` item into an advisory holding one vulnerability."""
    cve = require(item, "cve", dict, path, where)
    cve_id = require(cve, "id", str, path, f"{where}.cve")
    at = f"{where}.cve"
    desc = next((d.get("value", "") for d in cve.get("descriptions", []) or [] if d.get("lang") == "en"), "")
    cwe = next(
        (
            d.get("value")
            for w in cve.get("weaknesses", []) or []
            for d in w.get("description", []) or []
            if str(d.get("value", "")).startswith("CWE-")
        ),
        None,
    )
    metrics = cve.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise reject(path, f"{at}.metrics", "expected an object")
    vuln = Vulnerability(
        cve=cve_id,
        title=desc[:300],
        cwe=cwe,
        cvss=_cvss(metrics),
        conditions=tuple(_conditions(cve, path, at, batch)),
        notes=(desc,) if desc else (),
    )
    return Advisory(
        id=cve_id,
        source="nvd",
        title=desc[:200],
        vulnerabilities=(vuln,),
        published=cve.get("published"),
        updated=cve.get("lastModified"),
        publisher="NVD",
        url=f"https://nvd.nist.gov/vuln/detail/{cve_id}",
    )


class NvdImporter:
    """Importer for NVD CVE API 2.0 responses (one page or a saved feed)."""

    name = "nvd"

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """``{"format": "NVD_CVE", "vulnerabilities": [...]}``."""
        return isinstance(document, dict) and document.get("format") == "NVD_CVE"

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Every CVE of the page; a CVE item of the wrong shape rejects the file."""
        document = load_json(path, document)
        batch = ImportBatch(source=self.name, file=str(path))
        items = require(document, "vulnerabilities", list, path, "$")
        batch.feed_timestamp = document.get("timestamp") if isinstance(document.get("timestamp"), str) else None
        for i, item in enumerate(items):
            batch.advisories.append(parse_cve(item, path, f"$.vulnerabilities[{i}]", batch))
        return batch


IMPORTER = NvdImporter()

"""CSAF 2.0 advisories (OASIS csaf-v2.0-os) into domain :class:`Advisory` records.

The whole ``product_tree`` is walked (§3.1.5): ``branches`` (§3.1.5.1: vendor, product_family,
product_name, product_version, product_version_range, ...), ``full_product_names`` (§3.1.5.2) and
``relationships`` (§3.1.5.4: default_component_of, installed_on, installed_with, ...). Each product id
becomes a :class:`ProductCondition` per vulnerability with the status the vulnerability gives it
(§3.2.3.9 product_status, incl. the VEX statuses known_not_affected, fixed, under_investigation).
Remediations (§3.2.3.12) keep their category; threats (§3.2.3.13), notes and CVSS v3/v4 scores
(§3.2.3.11) are kept. Fields that cannot be interpreted (a version range such as ``< august 28``, a
CVSS vector that does not parse, a product id no branch defines) are reported as problems; a document
that is not CSAF of the expected shape is rejected as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import (
    CSAF_STATUS_MAP,
    Advisory,
    CvssScore,
    ProductCondition,
    Remediation,
    RemediationCategory,
    VersionForm,
    Vulnerability,
)
from wardwatch.intel.csaf_schema import load_validator
from wardwatch.intel.cvss_util import score_from_vector
from wardwatch.intel.interface import ImportBatch, load_json, reject
from wardwatch.intel.normalize import fix_mojibake
from wardwatch.intel.versions import VersionSpecError, looks_like_version, parse_spec


@dataclass(frozen=True, slots=True)
class _Product:
    product_id: str
    vendor: str
    family: str
    product: str
    version: str
    form: VersionForm
    branch: str
    json_path: str
    cpe: str | None = None
    purl: str | None = None


def _helper(product: dict[str, Any]) -> tuple[str | None, str | None]:
    helper = product.get("product_identification_helper") or {}
    if not isinstance(helper, dict):
        return None, None
    cpe, purl = helper.get("cpe"), helper.get("purl")
    return (cpe if isinstance(cpe, str) else None), (purl if isinstance(purl, str) else None)


class _TreeWalker:
    """Collects every product id of a product tree with its vendor/family/product/version path."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.products: dict[str, _Product] = {}

    def walk(self, branches: list[Any], where: str, ctx: dict[str, str], path: tuple[str, ...]) -> None:
        for i, branch in enumerate(branches):
            at = f"{where}[{i}]"
            category, name = branch["category"], fix_mojibake(branch["name"]).strip()
            here = dict(ctx)
            if category == "vendor":
                here["vendor"] = name
            elif category == "product_family":
                here["family"] = name
            elif category == "product_name":
                here["product"] = name
            elif category in ("service_pack", "specification"):
                here["product"] = f"{here.get('product', '')} {name}".strip()
            elif category in ("product_version", "product_version_range", "patch_level"):
                here["version"] = name
                here["form"] = "range" if category == "product_version_range" else "exact"
                here["version_path"] = f"{at}.name"
            elif category in ("architecture", "language", "host_name", "legacy"):
                pass
            else:
                self.batch.problem(f"{at}.category", "unknown branch category", category)
            new_path = (*path, name)
            product = branch.get("product")
            if isinstance(product, dict):
                self._add(product, f"{at}.product", here, new_path)
            if isinstance(branch.get("branches"), list):
                self.walk(branch["branches"], f"{at}.branches", here, new_path)

    def _add(self, product: dict[str, Any], where: str, ctx: dict[str, str], path: tuple[str, ...]) -> None:
        cpe, purl = _helper(product)
        version = ctx.get("version", "")
        form = VersionForm(ctx["form"]) if version else VersionForm.NONE
        prod = _Product(
            product_id=product["product_id"],
            vendor=ctx.get("vendor", ""),
            family=ctx.get("family", ""),
            product=ctx.get("product") or ctx.get("family") or fix_mojibake(product["name"]),
            version=version,
            form=form,
            branch="/".join(path),
            json_path=ctx.get("version_path", f"{where}.name"),
            cpe=cpe,
            purl=purl,
        )
        self.products[prod.product_id] = prod
        if version:
            self._check_version(prod)

    def _check_version(self, prod: _Product) -> None:
        try:
            spec = parse_spec(prod.version)
        except VersionSpecError as exc:
            kind = "version range" if prod.form is VersionForm.RANGE else "product version"
            self.batch.problem(prod.json_path, f"{kind} not interpretable ({exc}); compared as text", prod.version)
            return
        if spec.note and prod.form is VersionForm.RANGE:
            self.batch.problem(prod.json_path, f"version range words ignored: {spec.note}", prod.version)
        elif prod.form is VersionForm.EXACT and not looks_like_version(prod.version) and not spec.is_all:
            self.batch.problem(
                prod.json_path, "product version is not a version number; compared as text", prod.version
            )

    def full_product_names(self, items: list[Any], where: str) -> None:
        for i, product in enumerate(items):
            cpe, purl = _helper(product)
            name = fix_mojibake(product["name"])
            self.products[product["product_id"]] = _Product(
                product["product_id"], "", "", name, "", VersionForm.NONE, name, f"{where}[{i}]", cpe, purl
            )

    def relationships(self, items: list[Any], where: str) -> None:
        # §3.1.5.4: the component (product_reference) <category> the platform (relates_to_...).
        for i, rel in enumerate(items):
            at = f"{where}[{i}]"
            comp = self.products.get(rel["product_reference"])
            platform = self.products.get(rel["relates_to_product_reference"])
            fpn = rel["full_product_name"]
            if comp is None or platform is None:
                self.batch.problem(at, "relationship names an unknown product id", rel["product_reference"])
                continue
            cpe, purl = _helper(fpn)
            self.products[fpn["product_id"]] = _Product(
                product_id=fpn["product_id"],
                vendor=comp.vendor or platform.vendor,
                family=platform.product,
                product=comp.product,
                version=comp.version,
                form=comp.form,
                branch=f"{comp.branch} {rel['category']} {platform.branch}",
                json_path=at,
                cpe=cpe or comp.cpe,
                purl=purl or comp.purl,
            )


def _scores(vuln: dict[str, Any], where: str, batch: ImportBatch) -> tuple[CvssScore, ...]:
    out: list[CvssScore] = []
    for j, score in enumerate(vuln.get("scores", []) or []):
        if not isinstance(score, dict):
            continue
        for key in ("cvss_v3", "cvss_v4"):
            block = score.get(key)
            if not isinstance(block, dict):
                continue
            vector = block.get("vectorString")
            parsed = score_from_vector(vector) if isinstance(vector, str) else None
            if parsed is None:
                batch.problem(f"{where}.scores[{j}].{key}.vectorString", "CVSS vector not interpretable", vector)
                continue
            out.append(parsed)
    return tuple(out)


def _remediations(vuln: dict[str, Any], where: str, batch: ImportBatch) -> tuple[Remediation, ...]:
    out: list[Remediation] = []
    for j, rem in enumerate(vuln.get("remediations", []) or []):
        try:
            category = RemediationCategory(rem["category"])
        except ValueError:
            batch.problem(f"{where}.remediations[{j}].category", "unknown remediation category", rem["category"])
            continue
        url = rem.get("url") if isinstance(rem.get("url"), str) else None
        ids = tuple(x for x in rem.get("product_ids", []) or [] if isinstance(x, str))
        out.append(Remediation(category, rem["details"], url, ids))
    return tuple(out)


def _vulnerability(
    vuln: dict[str, Any], where: str, ordinal: int, products: dict[str, _Product], batch: ImportBatch
) -> Vulnerability:
    conditions: list[ProductCondition] = []
    for key, ids in (vuln.get("product_status") or {}).items():
        status = CSAF_STATUS_MAP.get(key)
        if status is None:  # "recommended" says nothing about being affected
            continue
        for k, pid in enumerate(ids):
            prod = products.get(pid) if isinstance(pid, str) else None
            if prod is None:
                batch.problem(f"{where}.product_status.{key}[{k}]", "product id not in the product tree", pid)
                continue
            conditions.append(
                ProductCondition(
                    product_id=prod.product_id,
                    vendor=prod.vendor,
                    product=prod.product,
                    version=prod.version,
                    version_form=prod.form,
                    status=status,
                    branch=prod.branch,
                    family=prod.family,
                    cpe=prod.cpe,
                    purl=prod.purl,
                )
            )
    raw_cwe = vuln.get("cwe")
    cwe: dict[str, Any] = raw_cwe if isinstance(raw_cwe, dict) else {}
    threats = tuple(
        f"{t.get('category', '')}: {t.get('details', '')}" for t in vuln.get("threats", []) or [] if isinstance(t, dict)
    )
    notes = tuple(str(n.get("text", ""))[:2000] for n in vuln.get("notes", []) or [] if isinstance(n, dict))
    return Vulnerability(
        cve=vuln.get("cve") if isinstance(vuln.get("cve"), str) else None,
        title=str(vuln.get("title", "")),
        cwe=cwe.get("id") if isinstance(cwe.get("id"), str) else None,
        cvss=_scores(vuln, where, batch),
        conditions=tuple(conditions),
        remediations=_remediations(vuln, where, batch),
        threats=threats,
        notes=notes,
        ordinal=ordinal,
    )


def parse_document(document: Any, path: Path | str, batch: ImportBatch, schema_dir: Path | None = None) -> Advisory:
    """Validate and convert one decoded CSAF document; raise ImportRejectedError when malformed."""
    mode, validate = load_validator(schema_dir)
    error = validate(document)
    if error is not None:
        raise reject(
            path,
            error.split(":", 1)[0],
            f"not a valid CSAF 2.0 document ({mode} check): " + error.split(":", 1)[-1].strip(),
        )
    doc = document["document"]
    tree = document.get("product_tree", {})
    walker = _TreeWalker(batch)
    walker.walk(tree.get("branches", []), "$.product_tree.branches", {}, ())
    walker.full_product_names(tree.get("full_product_names", []), "$.product_tree.full_product_names")
    walker.relationships(tree.get("relationships", []), "$.product_tree.relationships")
    vulns = tuple(
        _vulnerability(v, f"$.vulnerabilities[{i}]", i, walker.products, batch)
        for i, v in enumerate(document.get("vulnerabilities", []))
    )
    tracking = doc["tracking"]
    refs = [r for r in doc.get("references", []) or [] if isinstance(r, dict)]
    self_url = next((r.get("url") for r in refs if r.get("category") == "self"), None)
    batch.feed_timestamp = tracking.get("current_release_date")
    return Advisory(
        id=tracking["id"],
        source="csaf",
        title=fix_mojibake(doc["title"]),
        vulnerabilities=vulns,
        published=tracking.get("initial_release_date"),
        updated=tracking.get("current_release_date"),
        publisher=str((doc.get("publisher") or {}).get("name", "")),
        url=self_url if isinstance(self_url, str) else None,
        notes=tuple(str(n.get("title", "")) for n in doc.get("notes", []) or [] if isinstance(n, dict)),
    )


class CsafImporter:
    """Importer for CSAF 2.0 JSON documents (``document.csaf_version`` = "2.0")."""

    name = "csaf"

    def __init__(self, schema_dir: Path | None = None) -> None:
        self.schema_dir = schema_dir

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """A JSON object whose ``document`` member holds ``csaf_version``."""
        return (
            isinstance(document, dict)
            and isinstance(document.get("document"), dict)
            and ("csaf_version" in document["document"])
        )

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Parse one CSAF file into a batch holding one advisory."""
        document = load_json(path, document)
        batch = ImportBatch(source=self.name, file=str(path))
        batch.advisories.append(parse_document(document, path, batch, self.schema_dir))
        return batch


IMPORTER = CsafImporter()

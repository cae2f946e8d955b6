"""Validation of CSAF 2.0 documents: the OASIS JSON schema when configured, else a structural check.

The schema is not shipped inside wardwatch (its licence and size are OASIS's). :func:`load_validator`
reads ``csaf_json_schema.json`` and the FIRST CVSS schemas it references from a folder given by the
caller or by ``WARDWATCH_CSAF_SCHEMA_DIR`` (for the tests: ``../shared/data/schemas/csaf-2.0``). Without
one, :func:`structural_check` checks the fields wardwatch reads (CSAF 2.0 §3.2.1 document, §3.1.5
product tree, §3.2.3 vulnerabilities) and their types, so a document of the wrong shape is still
rejected with the path of the first bad field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from wardwatch.errors import ConfigError

#: Environment variable naming the folder that holds csaf_json_schema.json and cvss-v*.json.
SCHEMA_DIR_ENV = "WARDWATCH_CSAF_SCHEMA_DIR"

Validator = Callable[[Any], str | None]  # returns "path: message" of the first error, or None


@lru_cache(maxsize=4)
def _schema_validator(folder: str) -> Validator:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4, DRAFT7

    base = Path(folder)
    try:
        schema = json.loads((base / "csaf_json_schema.json").read_text(encoding="utf-8"))
        resources = []
        for name, spec in (
            ("cvss-v2.0.json", DRAFT4),
            ("cvss-v3.0.json", DRAFT4),
            ("cvss-v3.1.json", DRAFT7),
        ):
            contents = json.loads((base / name).read_text(encoding="utf-8"))
            resource = Resource.from_contents(contents, default_specification=spec)
            resources.append((f"https://www.first.org/cvss/{name}", resource))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"CSAF schema folder {folder} is unusable: {exc}") from exc
    validator = Draft202012Validator(schema, registry=Registry().with_resources(resources))

    def validate(document: Any) -> str | None:
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: list(e.path))), None)
        if error is None:
            return None
        return f"{error.json_path}: {error.message[:300]}"

    return validate


def load_validator(folder: Path | str | None = None) -> tuple[str, Validator]:
    """``("schema", validate)`` when a schema folder is configured, else ``("structural", check)``."""
    chosen = folder if folder is not None else os.environ.get(SCHEMA_DIR_ENV)
    if chosen and (Path(chosen) / "csaf_json_schema.json").is_file():
        return "schema", _schema_validator(str(Path(chosen).resolve()))
    return "structural", structural_check


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> str | None:
    if not isinstance(value, kind):
        return f"{where}: expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}"
    return None


def _check_branches(branches: Any, where: str, depth: int = 0) -> str | None:
    if depth > 30:
        return f"{where}: branches nested too deeply"
    if (err := _expect(branches, list, where)) is not None:
        return err
    for i, branch in enumerate(branches):
        at = f"{where}[{i}]"
        if (err := _expect(branch, dict, at)) is not None:
            return err
        for key in ("category", "name"):
            if (err := _expect(branch.get(key), str, f"{at}.{key}")) is not None:
                return err
        product = branch.get("product")
        if product is not None and (err := _check_product(product, f"{at}.product")) is not None:
            return err
        if "branches" in branch and (err := _check_branches(branch["branches"], f"{at}.branches", depth + 1)):
            return err
    return None


def _check_product(product: Any, where: str) -> str | None:
    if (err := _expect(product, dict, where)) is not None:
        return err
    for key in ("name", "product_id"):
        if (err := _expect(product.get(key), str, f"{where}.{key}")) is not None:
            return err
    return None


def structural_check(document: Any) -> str | None:
    """The path and message of the first field (of those wardwatch reads) of the wrong shape."""
    if (err := _expect(document, dict, "$")) is not None:
        return err
    doc = document.get("document")
    if (err := _expect(doc, dict, "$.document")) is not None:
        return err
    for key in ("category", "csaf_version", "title"):
        if (err := _expect(doc.get(key), str, f"$.document.{key}")) is not None:
            return err
    if doc["csaf_version"] != "2.0":
        return "$.document.csaf_version: must be '2.0'"
    tracking = doc.get("tracking")
    if (err := _expect(tracking, dict, "$.document.tracking")) is not None:
        return err
    if (err := _expect(tracking.get("id"), str, "$.document.tracking.id")) is not None:
        return err
    tree = document.get("product_tree", {})
    if (err := _expect(tree, dict, "$.product_tree")) is not None:
        return err
    if "branches" in tree and (err := _check_branches(tree["branches"], "$.product_tree.branches")):
        return err
    for i, fpn in enumerate(tree.get("full_product_names", [])):
        if (err := _check_product(fpn, f"$.product_tree.full_product_names[{i}]")) is not None:
            return err
    for i, rel in enumerate(tree.get("relationships", [])):
        at = f"$.product_tree.relationships[{i}]"
        if (err := _expect(rel, dict, at)) is not None:
            return err
        for key in ("category", "product_reference", "relates_to_product_reference"):
            if (err := _expect(rel.get(key), str, f"{at}.{key}")) is not None:
                return err
        if (err := _check_product(rel.get("full_product_name"), f"{at}.full_product_name")) is not None:
            return err
    vulns = document.get("vulnerabilities", [])
    if (err := _expect(vulns, list, "$.vulnerabilities")) is not None:
        return err
    for i, vuln in enumerate(vulns):
        at = f"$.vulnerabilities[{i}]"
        if (err := _expect(vuln, dict, at)) is not None:
            return err
        status = vuln.get("product_status", {})
        if (err := _expect(status, dict, f"{at}.product_status")) is not None:
            return err
        for key, ids in status.items():
            if (err := _expect(ids, list, f"{at}.product_status.{key}")) is not None:
                return err
        for j, rem in enumerate(vuln.get("remediations", [])):
            if (err := _expect(rem, dict, f"{at}.remediations[{j}]")) is not None:
                return err
            for key in ("category", "details"):
                if (err := _expect(rem.get(key), str, f"{at}.remediations[{j}].{key}")) is not None:
                    return err
    return None

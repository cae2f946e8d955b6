"""SBOMs attached to a device model: CycloneDX JSON (1.4+) and SPDX JSON (2.2/2.3).

CycloneDX (ECMA-424): ``bomFormat: CycloneDX``; ``metadata.component`` names the device (its
``manufacturer``/``supplier``/``author`` and ``name``); ``components[]`` (nested ``components`` too) give
name, version, ``purl`` and ``cpe``. SPDX 2.3 (ISO/IEC 5962): ``spdxVersion``; ``packages[]`` give name,
``versionInfo``, ``supplier`` and ``externalRefs`` of type ``purl`` / ``cpe23Type``; the described
package (``documentDescribes``) names the device. Plain ``json`` is used rather than
cyclonedx-python-lib's deserializer: it rejects real-world SBOMs over fields we do not use, and we need
our own error paths. Callers can attach an SBOM to an inventory model by passing ``vendor``/``model``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import Sbom, SbomComponent
from wardwatch.intel.interface import ImportBatch, load_json, reject, require

MAX_COMPONENTS = 200_000


def _org(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value or "")


def _cdx_components(items: Any, path: Path, where: str, out: list[SbomComponent], depth: int = 0) -> None:
    if not isinstance(items, list):
        raise reject(path, where, "expected an array of components")
    if depth > 20 or len(out) > MAX_COMPONENTS:
        raise reject(path, where, "components nested too deeply or too many")
    for i, comp in enumerate(items):
        at = f"{where}[{i}]"
        name = require(comp, "name", str, path, at)
        for key in ("version", "purl", "cpe"):
            if comp.get(key) is not None and not isinstance(comp[key], str):
                raise reject(path, f"{at}.{key}", f"expected string, got {type(comp[key]).__name__}")
        out.append(
            SbomComponent(
                name,
                comp.get("version") or None,
                comp.get("purl") or None,
                comp.get("cpe") or None,
                _org(comp.get("supplier") or comp.get("publisher")),
                str(comp.get("bom-ref", "")),
            )
        )
        if "components" in comp:
            _cdx_components(comp["components"], path, f"{at}.components", out, depth + 1)


def parse_cyclonedx(doc: dict[str, Any], path: Path, vendor: str | None, model: str | None) -> Sbom:
    """A CycloneDX JSON document into an :class:`Sbom`."""
    spec = require(doc, "specVersion", str, path, "$")
    components: list[SbomComponent] = []
    _cdx_components(doc.get("components", []), path, "$.components", components)
    meta = doc.get("metadata") or {}
    device = meta.get("component") or {} if isinstance(meta, dict) else {}
    maker = _org(device.get("manufacturer") or device.get("supplier")) or str(device.get("author") or "")
    return Sbom(
        vendor or maker or _org(meta.get("manufacture")),
        model or str(device.get("name", "")),
        "cyclonedx",
        spec,
        tuple(components),
        doc.get("serialNumber"),
    )


def parse_spdx(doc: dict[str, Any], path: Path, vendor: str | None, model: str | None) -> Sbom:
    """An SPDX JSON document into an :class:`Sbom` (the described package names the device)."""
    spec = require(doc, "spdxVersion", str, path, "$")
    packages = require(doc, "packages", list, path, "$")
    described = set(doc.get("documentDescribes", []) or [])
    components: list[SbomComponent] = []
    device_name, device_vendor = "", ""
    for i, pkg in enumerate(packages):
        at = f"$.packages[{i}]"
        name = require(pkg, "name", str, path, at)
        purl = cpe = None
        for j, ref in enumerate(pkg.get("externalRefs", []) or []):
            kind = require(ref, "referenceType", str, path, f"{at}.externalRefs[{j}]")
            locator = require(ref, "referenceLocator", str, path, f"{at}.externalRefs[{j}]")
            if kind == "purl":
                purl = locator
            elif kind in ("cpe23Type", "cpe22Type"):
                cpe = locator
        supplier = str(pkg.get("supplier") or "").split(":", 1)[-1].strip()
        if pkg.get("SPDXID") in described and not device_name:
            device_name, device_vendor = name, supplier
            continue
        components.append(
            SbomComponent(name, pkg.get("versionInfo") or None, purl, cpe, supplier, str(pkg.get("SPDXID", "")))
        )
    return Sbom(
        vendor or device_vendor,
        model or device_name or str(doc.get("name", "")),
        "spdx",
        spec.removeprefix("SPDX-"),
        tuple(components),
        doc.get("documentNamespace"),
    )


class SbomImporter:
    """Importer for CycloneDX and SPDX JSON SBOMs."""

    name = "sbom"

    def __init__(self, vendor: str | None = None, model: str | None = None) -> None:
        self.vendor, self.model = vendor, model

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """``bomFormat: CycloneDX`` or an ``spdxVersion`` member."""
        return isinstance(document, dict) and (document.get("bomFormat") == "CycloneDX" or "spdxVersion" in document)

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """The SBOM with its components, attached to (vendor, model)."""
        document = load_json(path, document)
        if not isinstance(document, dict):
            raise reject(path, "$", "expected a JSON object")
        batch = ImportBatch(source=self.name, file=str(path))
        if document.get("bomFormat") == "CycloneDX":
            sbom = parse_cyclonedx(document, path, self.vendor, self.model)
            meta = document.get("metadata")
            batch.feed_timestamp = meta.get("timestamp") if isinstance(meta, dict) else None
        elif "spdxVersion" in document:
            sbom = parse_spdx(document, path, self.vendor, self.model)
            info = document.get("creationInfo")
            batch.feed_timestamp = info.get("created") if isinstance(info, dict) else None
        else:
            raise reject(path, "$.bomFormat", "neither CycloneDX (bomFormat) nor SPDX (spdxVersion)")
        for i, comp in enumerate(sbom.components):
            if not (comp.purl or comp.cpe):
                batch.problem(f"component {i} ({comp.name})", "no purl or CPE: cannot be matched to CVEs")
        batch.sboms.append(sbom)
        return batch


IMPORTER = SbomImporter()

"""SBOM components (CPE / purl) against CVEs from NVD CPE configurations.

A component's CPE vendor:product (or, without a CPE, its purl name, then its own name, folded) is
looked up among the NVD conditions' CPE vendor:product pairs; the component's version (its ``version``,
else the CPE version) is evaluated against the condition's range. A component without a version gives
possibly_affected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from packageurl import PackageURL

from wardwatch.domain.advisory import Advisory, Sbom, SbomComponent
from wardwatch.domain.finding import Finding
from wardwatch.intel.cpe import parse_cpe
from wardwatch.intel.match import Matcher, Triple
from wardwatch.intel.normalize import fold


def _names(component: SbomComponent) -> list[tuple[str, str]]:
    """Candidate (vendor, product) keys of a component, most specific first."""
    out: list[tuple[str, str]] = []
    cpe = parse_cpe(component.cpe) if component.cpe else None
    if cpe is not None:
        out.append((cpe.vendor, cpe.product))
    if component.purl:
        try:
            purl = PackageURL.from_string(component.purl)
            out.append(((purl.namespace or purl.name).casefold(), purl.name.casefold()))
            out.append(("*", purl.name.casefold()))
        except ValueError:
            pass
    out.append(("*", fold(component.name).replace(" ", "_")))
    return out


class ComponentMatcher:
    """Matches SBOM components against CPE-bearing advisories (NVD)."""

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        cpe_advisories = [a for a in advisories if any(c.cpe for v in a.vulnerabilities for c in v.conditions)]
        self.matcher = Matcher(cpe_advisories)
        self.by_product: dict[tuple[str, str], str] = {}
        self.products: dict[str, set[str]] = defaultdict(set)
        for a in cpe_advisories:
            for v in a.vulnerabilities:
                for c in v.conditions:
                    cpe = parse_cpe(c.cpe) if c.cpe else None
                    if cpe is not None:
                        self.by_product[(cpe.vendor, cpe.product)] = c.vendor
                        self.by_product[("*", cpe.product)] = c.vendor
                        self.products[cpe.product].add(c.product)

    def match_component(self, component: SbomComponent) -> list[Finding]:
        """Findings (device id unset) of one component."""
        for key in _names(component):
            vendor = self.by_product.get(key)
            if vendor is None:
                continue
            cpe = parse_cpe(component.cpe) if component.cpe else None
            version = component.version or (cpe.version if cpe is not None and cpe.has_version else None)
            findings = self.matcher.match_triple(Triple(vendor, key[1], version))
            label = f"{component.name} {version or '(version unknown)'}"
            return [
                replace(f, component=label, explanation=f"SBOM component {label}: {f.explanation}") for f in findings
            ]
        return []

    def match_sbom(self, sbom: Sbom, device_id: int | str | None = None) -> list[Finding]:
        """Findings of every component of an SBOM, for one device."""
        return [replace(f, device_id=device_id) for c in sbom.components for f in self.match_component(c)]

"""Devices (vendor, model, version) against advisory product conditions, with the reason of each match.

Indexing: every product condition is filed under the canonical key of its vendor
(:func:`~wardwatch.intel.normalize.vendor_keys`). Devices are grouped by their (vendor, model, version)
triple and each distinct triple is matched once, so 100 000 devices of a few thousand models cost a few
thousand matches. For one triple, the conditions of the vendor whose product name equals the model or is
of its family (token subset, :func:`~wardwatch.intel.normalize.family_match`) are evaluated against the
version (:mod:`wardwatch.intel.versions`). Per vulnerability the most specific condition wins (best
product match, then exact version over range over "all versions"), and gives the status:

=====================  ==========================  ============================
condition status        version in / all versions   device version unknown
=====================  ==========================  ============================
known_affected          affected                    possibly_affected
fixed                   fixed                       (nothing said)
known_not_affected      not_affected                (nothing said)
under_investigation     possibly_affected           possibly_affected
=====================  ==========================  ============================

A range that could not be interpreted gives possibly_affected at low confidence; a version outside every
range gives no finding for that condition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from wardwatch.domain.advisory import Advisory, ProductCondition, ProductStatus, VersionForm, Vulnerability
from wardwatch.domain.device import Device
from wardwatch.domain.finding import Finding, FindingKind, FindingStatus, MatchReason
from wardwatch.intel.normalize import closest_vendor, family_match, product_tokens, vendor_key, vendor_keys
from wardwatch.intel.versions import VersionSpec, VersionSpecError, parse_spec, parse_version

_SPECIFICITY = {VersionForm.EXACT: 2, VersionForm.RANGE: 1, VersionForm.NONE: 0}
_PRIORITY = {
    FindingStatus.AFFECTED: 3,
    FindingStatus.FIXED: 2,
    FindingStatus.NOT_AFFECTED: 1,
    FindingStatus.POSSIBLY_AFFECTED: 0,
}


@dataclass(frozen=True, slots=True)
class _Entry:
    advisory: Advisory
    vuln: Vulnerability
    cond: ProductCondition
    names: tuple[frozenset[str], ...]
    spec: VersionSpec | None
    alternatives: tuple[tuple[object, ...], ...]  # whole-text keys of the version and its "|" parts


@dataclass(frozen=True, slots=True)
class Triple:
    """What the matcher knows of a device: vendor, model and (maybe) version, as written."""

    vendor: str
    model: str
    version: str | None


def device_triple(device: Device) -> Triple | None:
    """The (vendor, model, firmware-or-software) of a device, or ``None`` without vendor and model."""
    vendor, model = device.value("vendor"), device.value("model")
    if not vendor or not model:
        return None
    version = device.value("firmware") or device.value("software")
    return Triple(vendor, model, version or None)


def _entry(advisory: Advisory, vuln: Vulnerability, cond: ProductCondition) -> _Entry:
    names = {product_tokens(cond.product, cond.vendor)}
    if cond.family:
        names.add(product_tokens(f"{cond.family} {cond.product}", cond.vendor))
        names.add(product_tokens(cond.family, cond.vendor))
    spec: VersionSpec | None
    try:
        spec = parse_spec(cond.version) if cond.version else None
    except VersionSpecError:
        spec = None
    alternatives: tuple[tuple[object, ...], ...] = ()
    if cond.version_form is VersionForm.EXACT:  # "7100 | 7900 MRI", "MMT-508 MiniMed pump": as written
        parts = [cond.version, *cond.version.split("|")]
        alternatives = tuple(parse_version(p).key for p in parts if p.strip())
    return _Entry(advisory, vuln, cond, tuple(n for n in names if n), spec, alternatives)


class Matcher:
    """Matches devices against a set of advisories (build once, match many)."""

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        self.by_vendor: dict[str, list[_Entry]] = defaultdict(list)
        # per vendor: product-name token set → entries, and token → name sets holding it (pruning)
        self._names: dict[str, dict[frozenset[str], list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        self._tokens: dict[str, dict[str, set[frozenset[str]]]] = defaultdict(lambda: defaultdict(set))
        for advisory in advisories:
            for vuln in advisory.vulnerabilities:
                for cond in vuln.conditions:
                    entry = _entry(advisory, vuln, cond)
                    for key in vendor_keys(cond.vendor) if cond.vendor else ("",):
                        self.by_vendor[key].append(entry)
                        for names in entry.names:
                            self._names[key][names].append(entry)
                            for token in names:
                                self._tokens[key][token].add(names)
        self._cache: dict[Triple, list[Finding]] = {}
        self._vendor_cache: dict[str, tuple[str | None, str]] = {}
        self._product_cache: dict[tuple[str, str, str], list[tuple[_Entry, float]]] = {}

    def _vendor(self, name: str) -> tuple[str | None, str]:
        if name not in self._vendor_cache:
            key = vendor_key(name)
            if key in self.by_vendor:
                self._vendor_cache[name] = (key, "exact" if key == name.casefold() else "alias")
            else:
                close = closest_vendor(key, [k for k in self.by_vendor if k])
                self._vendor_cache[name] = (close, "fuzzy")
        return self._vendor_cache[name]

    def _products(self, key: str, vendor: str, model: str) -> list[tuple[_Entry, float]]:
        """Entries of the vendor whose product equals the model or is of its family (cached)."""
        cache_key = (key, vendor, model)
        cached = self._product_cache.get(cache_key)
        if cached is not None:
            return cached
        model_tokens = product_tokens(model, vendor)
        tokens = self._tokens.get(key, {})
        candidates: set[frozenset[str]] = set()
        for token in model_tokens:
            candidates |= tokens.get(token, set())
        best: dict[int, tuple[_Entry, float]] = {}
        for names in candidates:
            score = family_match(names, model_tokens)
            if score <= 0.0:
                continue
            for entry in self._names[key][names]:
                if id(entry) not in best or score > best[id(entry)][1]:
                    best[id(entry)] = (entry, score)
        result = list(best.values())
        self._product_cache[cache_key] = result
        return result

    def match_triple(self, triple: Triple) -> list[Finding]:
        """Findings (without device id) for one vendor/model/version; cached per triple."""
        cached = self._cache.get(triple)
        if cached is not None:
            return cached
        key, how = self._vendor(triple.vendor)
        best: dict[tuple[str, str], tuple[tuple[float, int, int], Finding]] = {}
        if key is not None:
            vendor_factor = 0.85 if how == "fuzzy" else 1.0
            for entry, score in self._products(key, triple.vendor, triple.model):
                found = self._evaluate(entry, triple, score * vendor_factor, how)
                if found is None:
                    continue
                vkey = (entry.advisory.id, entry.vuln.cve or f"#{entry.vuln.ordinal}")
                rank = (score, _SPECIFICITY[entry.cond.version_form], _PRIORITY[found.status])
                if vkey not in best or rank > best[vkey][0]:
                    best[vkey] = (rank, found)
        result = [f for _, f in best.values()]
        self._cache[triple] = result
        return result

    def _evaluate(self, entry: _Entry, triple: Triple, score: float, how: str) -> Finding | None:
        cond, observed = entry.cond, triple.version
        text_equal = observed is not None and parse_version(observed).key in entry.alternatives
        if not cond.version:
            result, factor = "all_versions", 0.9
        elif text_equal:
            result, factor = "in_range", 1.0
        elif entry.spec is None:
            result, factor = ("unknown_version" if observed is None else "unparsed_range"), 0.3
        else:
            result = entry.spec.evaluate(observed).value
            factor = {"in_range": 0.95, "all_versions": 0.9, "unknown_version": 0.5}.get(result, 0.0)
            if entry.spec.note:
                factor *= 0.9
        status = _status(cond.status, result)
        if status is None:
            return None
        reason = MatchReason(
            product_id=cond.product_id,
            branch=cond.branch,
            vendor_match=how,
            product_match="exact" if score >= 0.99 else "family",
            version_expression=cond.version,
            observed_version=observed,
            version_result=result,
        )
        return _finding(entry, triple, status, round(min(1.0, score * factor), 3), reason)

    def match_devices(self, devices: Iterable[Device]) -> list[Finding]:
        """Findings for every device with a vendor and a model (each distinct triple matched once)."""
        groups: dict[Triple, list[Device]] = defaultdict(list)
        for device in devices:
            triple = device_triple(device)
            if triple is not None:
                groups[triple].append(device)
        out: list[Finding] = []
        for triple, members in groups.items():
            findings = self.match_triple(triple)
            for device in members:
                ident = device.id if device.id is not None else device.key
                out.extend(_with_device(f, ident) for f in findings)
        return out


def _status(cond_status: ProductStatus, result: str) -> FindingStatus | None:
    inside = result in ("in_range", "all_versions")
    unknown = result in ("unknown_version", "unparsed_range")
    if cond_status is ProductStatus.KNOWN_AFFECTED:
        return FindingStatus.AFFECTED if inside else FindingStatus.POSSIBLY_AFFECTED if unknown else None
    if cond_status is ProductStatus.FIXED:
        return FindingStatus.FIXED if inside else None
    if cond_status is ProductStatus.KNOWN_NOT_AFFECTED:
        return FindingStatus.NOT_AFFECTED if inside else None
    return FindingStatus.POSSIBLY_AFFECTED if inside or unknown else None


_WORDS = {
    "in_range": "is within",
    "all_versions": "is covered by (all versions)",
    "unknown_version": "is unknown, so it may fall within",
    "unparsed_range": "cannot be compared with the uninterpretable expression",
    "out_of_range": "is outside",
}


def _finding(entry: _Entry, triple: Triple, status: FindingStatus, confidence: float, reason: MatchReason) -> Finding:
    vuln, cond = entry.vuln, entry.cond
    cvss = vuln.best_cvss
    observed = triple.version or "version unknown"
    explanation = (
        f"{triple.vendor} {triple.model} ({observed}) matches {entry.advisory.id} product "
        f"'{cond.vendor} {cond.product}'".replace("  ", " ")
        + f" [{reason.product_match} match, branch {cond.branch or cond.product_id}, id {cond.product_id}]; "
        + f"observed version {observed} {_WORDS[reason.version_result]} '{cond.version or 'any'}'; "
        + f"the advisory says {cond.status.value} → {status.value}"
    )
    remediations = tuple(
        f"{r.category.value}: {r.text[:240]}" + (f" ({r.url})" if r.url else "")
        for r in vuln.remediations
        if not r.product_ids or cond.product_id in r.product_ids
    )
    return Finding(
        device_id=None,
        kind=FindingKind.VULNERABILITY,
        status=status,
        severity=cvss.severity if cvss else "UNKNOWN",
        explanation=explanation,
        confidence=confidence,
        cve=vuln.cve,
        advisory=entry.advisory.id,
        cvss_score=cvss.base_score if cvss else None,
        cvss_vector=cvss.vector if cvss else None,
        matched_product=f"{cond.vendor} {cond.product} {cond.version}".strip(),
        remediations=remediations,
        reason=reason,
        title=vuln.title,
    )


def _with_device(finding: Finding, device_id: int | str) -> Finding:
    from dataclasses import replace

    return replace(finding, device_id=device_id)

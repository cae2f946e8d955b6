"""Each device's findings, built once per group of devices for which the result is the same (issue 4).

The advisory match of a device depends only on its (vendor, model, version) triple, the SBOM match only on
its model, the enrichment of a finding (KEV, EPSS, SSVC words, priority, SSVC decision, SLA) only on the
finding and four facts of the device's context (criticality, PHI, internet exposure, controls). So the
assembler matches each distinct triple once (:meth:`Matcher.match_triple`), each model's SBOMs once,
enriches each (finding, context facts) pair once, and hands every device of a group the *same* list of
shared :class:`~wardwatch.risk.findings.Scored` objects. Only hygiene findings are computed per device,
and only for devices with facts, flows or an operating system to judge; identical hygiene findings
(same title, severity, explanation) are shared too. The findings of a device are what the per-device
evaluation gave: advisory matches, then SBOM matches, then hygiene, first of each fingerprint kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from wardwatch.domain.advisory import Advisory, Mds2Profile, Sbom
from wardwatch.domain.finding import Finding
from wardwatch.intel.component_match import ComponentMatcher
from wardwatch.intel.match import Matcher, device_triple
from wardwatch.intel.normalize import vendor_key
from wardwatch.risk.context import DeviceView
from wardwatch.risk.findings import IntelFacts, Scored, enrich
from wardwatch.risk.hygiene import hygiene_findings
from wardwatch.risk.score import DeviceContext, Enrichment, RiskWeights

#: The facts of a device's context the enrichment reads (see :func:`wardwatch.risk.findings.enrich`).
EnrichKey = tuple[str, bool, bool, tuple[str, ...]]
Raw = tuple[list[Finding], list[Finding], tuple[Finding, ...]]
_NONE: list[Finding] = []  # one shared empty list: devices without matches share their finding lists


def model_key(vendor: str, model: str) -> tuple[str, str]:
    """Vendor and model normalized for looking up a model's SBOM or MDS2 form."""
    return vendor_key(vendor), " ".join(model.casefold().split())


def enrich_key(ctx: DeviceContext) -> EnrichKey:
    """The context facts a finding's enrichment depends on."""
    return ctx.criticality, ctx.handles_phi, ctx.internet_exposed, ctx.controls


class Assembler:
    """Builds the shared finding lists of an evaluation (one per group of devices)."""

    def __init__(self, advisories: Sequence[Advisory], sboms: Sequence[Sbom], profiles: Sequence[Mds2Profile]
                 ) -> None:
        self.matcher = Matcher(advisories)
        self._components = ComponentMatcher(advisories) if sboms else None
        self._sboms: dict[tuple[str, str], list[Sbom]] = {}
        for sbom in sboms:
            self._sboms.setdefault(model_key(sbom.vendor, sbom.model), []).append(sbom)
        self._mds2 = {model_key(p.vendor, p.model): p.capabilities for p in profiles}
        self._sbom_findings: dict[tuple[str, str], list[Finding]] = {}
        self._hygiene: dict[tuple[object, ...], Finding] = {}
        self._plain: dict[tuple[str | None, ...], Raw] = {}  # devices without hygiene input, by what is matched

    def raw(self, view: DeviceView) -> Raw:
        """The device's advisory matches, SBOM matches and hygiene findings (shared, without device id)."""
        device = view.device
        judged = bool(view.facts or view.flows or device.value("os"))
        plain = None if judged else (device.value("vendor"), device.value("model"), device.value("firmware"),
                                     device.value("software"))
        if plain is not None and plain in self._plain:
            return self._plain[plain]
        triple = device_triple(device)
        matched = self.matcher.match_triple(triple) if triple is not None else _NONE
        vendor, model = device.value("vendor"), device.value("model")
        key = model_key(vendor, model) if vendor and model else None
        components = _NONE
        if key is not None and key in self._sboms and self._components is not None:
            if key not in self._sbom_findings:
                self._sbom_findings[key] = [f for s in self._sboms[key] for f in self._components.match_sbom(s)]
            components = self._sbom_findings[key]
        hygiene: tuple[Finding, ...] = ()
        if judged:
            found = hygiene_findings(view.hygiene_context(), self._mds2.get(key) if key is not None else None)
            hygiene = tuple(self._shared(f) for f in found)
        raw = (matched, components, hygiene)
        if plain is not None:
            self._plain[plain] = raw
        return raw

    def _shared(self, f: Finding) -> Finding:
        key = (f.kind, f.status, f.severity, f.title, f.explanation, f.confidence)
        found = self._hygiene.get(key)
        if found is None:
            found = self._hygiene[key] = replace(f, device_id=None)
        return found


class Enricher:
    """Shared :class:`Scored` lists: one per (advisory matches, SBOM matches, hygiene, context facts)."""

    def __init__(self, intel: IntelFacts, enrichment: Enrichment, weights: RiskWeights) -> None:
        self.intel, self.enrichment, self.weights = intel, enrichment, weights
        self._scored: dict[tuple[int, EnrichKey], Scored] = {}
        self._lists: dict[tuple[object, ...], list[Scored]] = {}
        self._keep: list[object] = []  # the finding lists whose ids key the caches stay alive
        self._uses: Counter[tuple[object, ...]] = Counter()

    def scored(self, raw: Raw, ctx: DeviceContext
               ) -> list[Scored]:
        """The device's enriched findings, first of each fingerprint (do not change the list: it is shared)."""
        matched, components, hygiene = raw
        ekey = enrich_key(ctx)
        key = (id(matched), id(components), tuple(id(f) for f in hygiene), ekey)
        found = self._lists.get(key)
        if found is None:
            self._keep.append(raw)
            out: list[Scored] = []
            seen: set[str] = set()
            for f in (*matched, *components, *hygiene):
                s = self._one(f, ctx, ekey)
                if s.fingerprint not in seen:
                    seen.add(s.fingerprint)
                    out.append(s)
            found = self._lists[key] = out
        self._uses[key] += 1
        return found

    @property
    def statuses(self) -> Counter[str]:
        """How many findings of each match status the devices got."""
        out: Counter[str] = Counter()
        for key, uses in self._uses.items():
            for s in self._lists[key]:
                out[s.finding.status.value] += uses
        return out

    def _one(self, f: Finding, ctx: DeviceContext, ekey: EnrichKey) -> Scored:
        key = (id(f), ekey)
        found = self._scored.get(key)
        if found is None:
            found = self._scored[key] = enrich(f, ctx, self.intel, self.enrichment, self.weights)
        return found


def cves_of(raws: Mapping[int, Raw]) -> list[str]:
    """Every CVE the devices' findings name (distinct lists only)."""
    out: set[str] = set()
    seen: set[int] = set()
    for matched, components, _hygiene in raws.values():
        for findings in (matched, components):
            if id(findings) not in seen:
                seen.add(id(findings))
                out.update(f.cve for f in findings if f.cve)
    return sorted(out)

"""Advisories, vulnerabilities and the product conditions they state (ARCHITECTURE.md, data model).

The vocabulary follows CSAF 2.0 (OASIS csaf-v2.0-os): a document (``Advisory``) names products in its
``product_tree`` (§3.1.5) and, per vulnerability (§3.2.3), gives each product a status (§3.2.3.9
``product_status``: known_affected, fixed, known_not_affected, under_investigation) and remediations
(§3.2.3.12, categories vendor_fix, mitigation, workaround, no_fix_planned, none_available). NVD CPE
configurations and CVE 5.x ``affected`` lists are expressed in the same shape, so that one matcher serves
all sources. Enrichment that belongs to a CVE and not to a document (CISA KEV, FIRST EPSS, CISA SSVC) has
its own small records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ProductStatus(StrEnum):
    """What a source states about one product for one vulnerability (CSAF §3.2.3.9, VEX)."""

    KNOWN_AFFECTED = "known_affected"
    FIXED = "fixed"
    KNOWN_NOT_AFFECTED = "known_not_affected"
    UNDER_INVESTIGATION = "under_investigation"


#: CSAF §3.2.3.9 status lists folded onto the four statuses the matcher distinguishes.
CSAF_STATUS_MAP: dict[str, ProductStatus] = {
    "known_affected": ProductStatus.KNOWN_AFFECTED,
    "first_affected": ProductStatus.KNOWN_AFFECTED,
    "last_affected": ProductStatus.KNOWN_AFFECTED,
    "fixed": ProductStatus.FIXED,
    "first_fixed": ProductStatus.FIXED,
    "known_not_affected": ProductStatus.KNOWN_NOT_AFFECTED,
    "under_investigation": ProductStatus.UNDER_INVESTIGATION,
}


class RemediationCategory(StrEnum):
    """CSAF §3.2.3.12.1 remediation categories."""

    VENDOR_FIX = "vendor_fix"
    MITIGATION = "mitigation"
    WORKAROUND = "workaround"
    NO_FIX_PLANNED = "no_fix_planned"
    NONE_AVAILABLE = "none_available"


class VersionForm(StrEnum):
    """How a product condition gives its versions."""

    EXACT = "exact"  # CSAF product_version, a CPE with a version, CVE 5 ``version``
    RANGE = "range"  # CSAF product_version_range (vers or free text), CPE range, CVE 5 lessThan
    NONE = "none"  # no version at all: the product as a whole


@dataclass(frozen=True, slots=True)
class Remediation:
    """One remediation of a vulnerability (CSAF §3.2.3.12)."""

    category: RemediationCategory
    text: str
    url: str | None = None
    product_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductCondition:
    """One product (with its version expression) and the status a vulnerability gives it.

    ``branch`` is the path through the CSAF product tree (``Philips/IntelliVue/MX40/<= B.06.18``) or the
    CPE criteria; ``version`` is the expression as written (``< 3.2``, ``vers:generic/>=1.0|<2.0``,
    ``All versions``); ``product_id`` is the CSAF product id (or a synthetic id for other sources).
    """

    product_id: str
    vendor: str
    product: str
    version: str
    version_form: VersionForm
    status: ProductStatus
    branch: str = ""
    family: str = ""
    cpe: str | None = None
    purl: str | None = None


@dataclass(frozen=True, slots=True)
class CvssScore:
    """A CVSS score with its vector (FIRST CVSS v3.x / v4.0)."""

    version: str  # "3.0", "3.1", "4.0"
    vector: str
    base_score: float
    severity: str  # NONE, LOW, MEDIUM, HIGH, CRITICAL


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One vulnerability of an advisory: CVE, weakness, scores, product conditions, remediations."""

    cve: str | None
    title: str = ""
    cwe: str | None = None
    cvss: tuple[CvssScore, ...] = ()
    conditions: tuple[ProductCondition, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    threats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    ordinal: int = 0

    @property
    def best_cvss(self) -> CvssScore | None:
        """The score to rank by: the newest CVSS version given, then the highest base score."""
        if not self.cvss:
            return None
        return max(self.cvss, key=lambda s: (s.version, s.base_score))


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from: the source, the file, when it was imported and the feed's own time."""

    source: str
    file: str
    imported_at: float
    feed_timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Advisory:
    """A security advisory (CSAF document, NVD CVE record, CVE 5 record) as the matcher sees it."""

    id: str
    source: str  # csaf, nvd, cve5
    title: str
    vulnerabilities: tuple[Vulnerability, ...]
    published: str | None = None
    updated: str | None = None
    publisher: str = ""
    url: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KevEntry:
    """A CVE in CISA's Known Exploited Vulnerabilities catalog."""

    cve: str
    vendor: str
    product: str
    name: str
    date_added: str
    due_date: str | None = None
    ransomware: str = "Unknown"
    required_action: str = ""


@dataclass(frozen=True, slots=True)
class EpssScore:
    """A FIRST EPSS probability of exploitation in the next 30 days and its percentile."""

    cve: str
    epss: float
    percentile: float
    date: str | None = None


@dataclass(frozen=True, slots=True)
class SsvcDecision:
    """CISA's SSVC decision points for a CVE (vulnrichment ADP, SSVC v2.0.3 "CISA Coordinator")."""

    cve: str
    exploitation: str  # none, poc, active
    automatable: str  # yes, no
    technical_impact: str  # partial, total
    timestamp: str | None = None
    role: str = ""


@dataclass(frozen=True, slots=True)
class SbomComponent:
    """One component of an SBOM (CycloneDX component, SPDX package)."""

    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None
    supplier: str = ""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Sbom:
    """An SBOM attached to a device model (vendor + model)."""

    vendor: str
    model: str
    format: str  # cyclonedx, spdx
    spec_version: str
    components: tuple[SbomComponent, ...]
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class Mds2Answer:
    """One answer of an MDS2 form (ANSI/NEMA HN 1-2019), e.g. ``RMOT-1`` = ``Yes``."""

    question_id: str
    question: str
    answer: str  # yes, no, n/a, see note, or the free text given
    note: str = ""


@dataclass(frozen=True, slots=True)
class Mds2Profile:
    """An MDS2 form attached to a device model, with the capability profile read from its answers."""

    vendor: str
    model: str
    answers: tuple[Mds2Answer, ...]
    capabilities: dict[str, bool | None] = field(default_factory=dict)

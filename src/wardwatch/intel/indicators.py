"""Threat indicators as matchable items: kind, value, source, confidence, TLP and expiry.

Every threat-intelligence feed (STIX 2.1 bundles, TAXII 2.1 collections, MISP feeds and the MISP REST API)
parses into an :class:`IndicatorBatch` of :class:`ThreatIndicator` and CVE references; the store
(:mod:`wardwatch.intel.ti_store`) keeps them per feed. TLP follows FIRST TLP 2.0 (TLP:CLEAR, GREEN, AMBER,
AMBER+STRICT, RED); TLP 1.0's WHITE reads as CLEAR. :func:`may_share` is the one rule every exporter and
notifier applies before anything leaves wardwatch.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from wardwatch.errors import WardwatchError

#: Kinds of indicators wardwatch can match on the network or in device facts.
KINDS = ("ip", "domain", "url", "ja3", "ja4", "cert_sha256", "cert_sha1", "md5", "sha1", "sha256")
#: The kinds the detection engine (``detect.indicators``) matches in traffic.
NETWORK_KINDS = ("ip", "domain", "ja3", "ja4", "cert_sha256")
MAX_VALUE = 600
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$", re.IGNORECASE)
_HEX = {"md5": 32, "sha1": 40, "sha256": 64, "cert_sha256": 64, "cert_sha1": 40, "ja3": 32}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class TlpError(WardwatchError):
    """Sharing refused by the Traffic Light Protocol."""


class Tlp(IntEnum):
    """FIRST Traffic Light Protocol 2.0 levels, ordered from least to most restricted."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """``TLP:AMBER+STRICT`` as written in TLP 2.0."""
        return "TLP:" + self.name.replace("_STRICT", "+STRICT")

    @classmethod
    def parse(cls, text: str | None) -> Tlp | None:
        """``tlp:amber``, ``TLP:AMBER+STRICT``, ``white`` ... → the level; ``None`` when not TLP."""
        if not text:
            return None
        word = text.strip().lower().removeprefix("tlp:").removeprefix("tlp_").strip().strip('"')
        word = {"white": "clear", "amber+strict": "amber_strict", "amber-strict": "amber_strict"}.get(word, word)
        try:
            return cls[word.upper()]
        except KeyError:
            return None


#: STIX 2.1 §7.2.1.4 predefined TLP 1.0 markings and the TLP 2.0 extension's markings
#: (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d).
STIX_TLP_MARKINGS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE (1.0)
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}


def strictest(levels: Iterable[Tlp | None], default: Tlp) -> Tlp:
    """The most restrictive of ``levels`` (``default`` when none is given)."""
    found = [level for level in levels if level is not None]
    return max(found) if found else default


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """Who may receive what: recipients allowed per TLP level above GREEN.

    TLP 2.0: CLEAR and GREEN may go to any configured recipient (GREEN: within the community); AMBER
    only to recipients inside the organisation (and its clients) on a need-to-know basis; AMBER+STRICT
    only inside the organisation; RED only to named individuals. ``amber`` lists the recipients cleared
    for AMBER, ``amber_strict`` for AMBER+STRICT, ``red`` for RED; a recipient cleared for a stricter level
    is cleared for the looser ones.
    """

    amber: frozenset[str] = frozenset()
    amber_strict: frozenset[str] = frozenset()
    red: frozenset[str] = frozenset()

    def cleared(self, recipient: str, level: Tlp) -> bool:
        """True when ``recipient`` may receive information marked ``level``."""
        if level <= Tlp.GREEN:
            return True
        allowed = set(self.red)
        if level <= Tlp.AMBER_STRICT:
            allowed |= self.amber_strict
        if level <= Tlp.AMBER:
            allowed |= self.amber
        return recipient.strip().lower() in {a.strip().lower() for a in allowed}


def may_share(level: Tlp, recipient: str, policy: SharingPolicy) -> None:
    """Raise :class:`TlpError` unless ``recipient`` may receive ``level``."""
    if not policy.cleared(recipient, level):
        raise TlpError(f"{level.label}: {recipient!r} is not a cleared recipient; not sent")


@dataclass(frozen=True, slots=True)
class ThreatIndicator:
    """One matchable indicator with its provenance."""

    kind: str
    value: str
    feed: str
    tlp: Tlp = Tlp.GREEN
    confidence: float = 0.5
    source: str = ""  # producer: identity name, MISP Orgc, ...
    ref: str = ""  # STIX id / MISP attribute uuid
    description: str = ""
    valid_from: float | None = None
    expires: float | None = None

    def live(self, now: float) -> bool:
        """True when not expired and already valid at ``now``."""
        return (self.expires is None or self.expires > now) and (self.valid_from is None or self.valid_from <= now)


@dataclass(frozen=True, slots=True)
class VulnerabilityRef:
    """A CVE a feed names (STIX ``vulnerability``, MISP ``vulnerability`` attribute)."""

    cve: str
    feed: str
    tlp: Tlp = Tlp.GREEN
    ref: str = ""
    description: str = ""


@dataclass(slots=True)
class IndicatorBatch:
    """What one fetch of one feed yielded (written as one unit)."""

    feed: str
    indicators: list[ThreatIndicator] = field(default_factory=list)
    vulnerabilities: list[VulnerabilityRef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cursor: str | None = None  # e.g. the TAXII ``X-TAXII-Date-Added-Last`` of the last page
    complete: bool = True  # a full snapshot of the feed (vs. an incremental page)

    def add(self, kind: str, value: str, **kw: object) -> None:
        """Normalise and add one indicator; an unusable value becomes a problem, not an error."""
        normal = normalize(kind, value)
        if normal is None:
            self.problems.append(f"{kind}: unusable value {value[:80]!r}")
            return
        self.indicators.append(ThreatIndicator(kind=kind, value=normal, feed=self.feed, **kw))  # type: ignore[arg-type]

    def add_cve(self, cve: str, **kw: object) -> None:
        """Add a CVE reference (ignored unless it looks like ``CVE-YYYY-NNNN``)."""
        if _CVE.match(cve.strip()):
            self.vulnerabilities.append(VulnerabilityRef(cve=cve.strip().upper(), feed=self.feed, **kw))  # type: ignore[arg-type]


def normalize(kind: str, value: str) -> str | None:
    """The canonical text of an indicator value, or ``None`` when it is not one of ``kind``."""
    text = value.strip()
    if not text or len(text) > MAX_VALUE or kind not in KINDS:
        return None
    if kind == "ip":
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
        return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    if kind == "domain":
        name = text.lower().rstrip(".")
        return name if _DOMAIN.match(name) else None
    if kind == "url":
        return text if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE) else None
    if kind == "ja4":
        return text.lower() if re.match(r"^[a-z0-9_]{10,80}$", text, re.IGNORECASE) else None
    hexed = text.lower().replace(":", "")
    if re.fullmatch(r"[0-9a-f]+", hexed) and len(hexed) == _HEX[kind]:
        return hexed
    return None


def url_host(url: str) -> str | None:
    """The host of a URL indicator (it is matched as a domain or an IP too)."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)", url, re.IGNORECASE)
    return match.group(1).strip("[]").lower() if match else None

"""Vendor and product names as the matcher compares them.

Advisories, NVD, SBOMs and the inventory spell the same company many ways ("Philips", "Phillips",
"Philips Healthcare"; "GE Healthcare", "General Electric (GE)", "GE"; "B. Braun Medical", "BBraun").
:func:`vendor_key` folds a vendor name to one canonical key: mojibake repair, case and accent folding,
corporate suffixes dropped, then an alias table (brand families and acquisitions, each with a comment),
then, for what is left, a close spelling match against the known canonical keys (misspellings).
:func:`product_tokens` turns a product or model name into the set of distinctive words the family match
uses ("Alaris PC Unit" ⊆ "Alaris 8015 PC Unit").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Words that say nothing about a company's identity.
_CORPORATE = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "ltd", "limited", "gmbh", "ag",
        "sa", "se", "nv", "bv", "plc", "oy", "ab", "as", "kg", "spa", "srl", "the", "and", "group",
        "international", "holdings", "medical", "healthcare", "health", "systems", "technologies",
        "technology", "solutions", "diagnostics", "laboratories", "labs", "americas", "usa", "us",
        "developments", "healthineers", "yhtyma", "melsungen", "electronics",
    }
)  # fmt: skip

#: Canonical key of known vendors, from folded names (after corporate words are dropped).
VENDOR_ALIASES: dict[str, str] = {
    "phillips": "philips",  # frequent misspelling, also in CISA ICSMA-18-* advisories
    "koninklijke philips": "philips",
    "ge": "ge",
    "general electric": "ge",
    "general electric ge": "ge",
    "gehc": "ge",
    "ge medical": "ge",
    "b braun": "bbraun",
    "bbraun": "bbraun",
    "braun": "bbraun",
    "becton dickinson": "bd",
    "becton dickinson bd": "bd",
    "becton dickinson & co": "bd",
    "bd": "bd",
    "carefusion": "bd",  # CareFusion (Alaris, Pyxis) is part of BD since 2015
    "baxter": "baxter",
    "hill rom": "hillrom",
    "hillrom": "hillrom",
    "welch allyn": "hillrom",  # Welch Allyn is a Hillrom brand since 2015
    "st jude": "abbott",  # St. Jude Medical is part of Abbott since 2017
    "abbott": "abbott",
    "drager": "draeger",
    "draeger": "draeger",
    "dragerwerk": "draeger",
    "siemens": "siemens",
    "roche": "roche",
    "smiths": "smiths",
    "medtronic": "medtronic",
    "boston scientific": "bostonscientific",
    "natus natus": "natus",
    "innokas": "innokas",
    "fresenius kabi": "fresenius",
    "fresenius": "fresenius",
}


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 read as Latin-1/CP1252 ("YhtymÃ¤" → "Yhtymä"); other text is returned as is."""
    if not any(ch in text for ch in "ÃÂâ"):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def fold(text: str) -> str:
    """Lower case, accents removed ("Dräger" → "drager"), punctuation to spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", fix_mojibake(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " & ").replace("™", " ").replace("®", " ")
    text = re.sub(r"[^\w&]+", " ", text)
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def vendor_key(name: str) -> str:
    """The canonical key of a vendor name (``"Phillips Healthcare"`` → ``"philips"``)."""
    folded = fold(name)
    folded = re.sub(r"\b([a-z]) (?=[a-z]\b)", r"\1", folded)  # "b braun" stays, "g e" → "ge"
    if folded in VENDOR_ALIASES:
        return VENDOR_ALIASES[folded]
    words = [w for w in folded.split() if w not in _CORPORATE and w != "&"]
    core = " ".join(words)
    if core in VENDOR_ALIASES:
        return VENDOR_ALIASES[core]
    if words and words[0] in VENDOR_ALIASES and len(words) <= 3:
        return VENDOR_ALIASES[words[0]]
    joined = "".join(words)
    if joined in VENDOR_ALIASES:
        return VENDOR_ALIASES[joined]
    return joined or folded.replace(" ", "")


def vendor_keys(name: str) -> tuple[str, ...]:
    """Every vendor an advisory vendor string names ("Hillrom and ELI, Baxter International Inc.")."""
    parts = [p for p in re.split(r",|\band\b|/|;", fix_mojibake(name)) if p.strip()]
    keys = {vendor_key(name)}
    if len(parts) > 1:
        keys.update(vendor_key(p) for p in parts if set(fold(p).split()) - _CORPORATE)
    return tuple(sorted(k for k in keys if k))


def closest_vendor(key: str, known: Iterable[str], cutoff: float = 0.85) -> str | None:
    """The known vendor key spelled most like ``key`` (misspellings: "phlips" → "philips"), if close."""
    if len(key) < 4:
        return None
    matches = difflib.get_close_matches(key, list(known), n=1, cutoff=cutoff)
    return matches[0] if matches else None


#: Words that name a kind of device, not a product: they never make a family match on their own.
GENERIC_WORDS = frozenset(
    {
        "pump", "pumps", "system", "systems", "monitor", "monitors", "unit", "units", "device", "devices",
        "software", "firmware", "series", "model", "models", "version", "versions", "all", "and", "the",
        "with", "for", "of", "module", "modules", "station", "server", "workstation", "infusion",
        "patient", "medical", "product", "products", "application", "suite", "platform", "solution",
        "hardware", "option", "base", "central", "network", "wireless", "portable", "management",
    }
)  # fmt: skip


@lru_cache(maxsize=65536)
def product_tokens(name: str, vendor: str = "") -> frozenset[str]:
    """Distinctive-or-not words of a product name, with the vendor's own words removed."""
    vendor_words = set(fold(vendor).split()) | {vendor_key(vendor)} if vendor else set()
    words = [w for w in fold(name).split() if w != "&"]
    kept = frozenset(w for w in words if w not in vendor_words)
    return kept or frozenset(words)  # "wolfssl" by "wolfssl": the product is the vendor's name


def product_key(name: str, vendor: str = "") -> str:
    """A comparable string for exact product equality (folded, vendor words removed, order kept)."""
    vendor_words = set(fold(vendor).split()) | {vendor_key(vendor)} if vendor else set()
    return " ".join(w for w in fold(name).split() if w not in vendor_words)


def family_match(advisory_tokens: frozenset[str], device_tokens: frozenset[str]) -> float:
    """How well a device model matches an advisory product: 1.0 equal, <1 family (subset), 0 none.

    One token set must contain the other and the smaller one must hold a distinctive word (not only
    "pump", "monitor" ...). The score falls with the number of extra words on the larger side.
    """
    if not advisory_tokens or not device_tokens:
        return 0.0
    if advisory_tokens == device_tokens:
        return 1.0
    small, large = sorted((advisory_tokens, device_tokens), key=len)
    if not small <= large or not (small - GENERIC_WORDS):
        return 0.0
    extra = len(large - small)
    return max(0.5, 0.85 - 0.05 * (extra - 1))

"""STIX 2.1 bundles (and TAXII 2.1 envelopes) into matchable indicators and CVE references.

Each object is checked with the ``stix2`` library (``stix2.parse``, custom properties allowed); an object
that fails is a reported problem and skipped. A document that is not a STIX bundle or TAXII envelope
at all raises :class:`~wardwatch.errors.ParseError` so the caller keeps what it had.

Indicator patterns are read with the STIX patterning grammar (``stix2patterns``, STIX 2.1 §9): every
``=``/``IN``/``ISSUBSET`` comparison of a known object path becomes one indicator; a pattern whose
observations are joined by ``AND``/``FOLLOWEDBY`` contributes its parts at half confidence (a part alone
is weaker evidence than the whole). TLP comes from ``object_marking_refs`` (STIX 2.1 §7.2.1.4 TLP 1.0
markings, the TLP 2.0 extension markings, or TLP marking-definition objects in the same bundle);
expiry from ``valid_until`` (§4.7).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from wardwatch.errors import ParseError
from wardwatch.intel.indicators import STIX_TLP_MARKINGS, IndicatorBatch, Tlp, strictest

MAX_BYTES = 64 * 1024 * 1024
MAX_OBJECTS = 200_000

#: (object type, property path) → indicator kind.
_PATHS: dict[tuple[str, str], str] = {
    ("ipv4-addr", "value"): "ip",
    ("ipv6-addr", "value"): "ip",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("file", "hashes.md5"): "md5",
    ("file", "hashes.sha-1"): "sha1",
    ("file", "hashes.sha1"): "sha1",
    ("file", "hashes.sha-256"): "sha256",
    ("file", "hashes.sha256"): "sha256",
    ("x509-certificate", "hashes.sha-256"): "cert_sha256",
    ("x509-certificate", "hashes.sha256"): "cert_sha256",
    ("x509-certificate", "hashes.sha-1"): "cert_sha1",
    ("x509-certificate", "hashes.sha1"): "cert_sha1",
    ("network-traffic", "dst_ref.value"): "ip",
    ("network-traffic", "src_ref.value"): "ip",
}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def to_epoch(text: object) -> float | None:
    """An RFC 3339 timestamp (STIX 2.1 §3.2) as epoch seconds, or ``None``."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _kind_of(obj_type: str, path: list[Any]) -> str | None:
    joined = ".".join(str(p) for p in path).lower()
    if "ja3" in obj_type.lower() or "ja3" in joined:
        return "ja3"
    if "ja4" in obj_type.lower() or "ja4" in joined:
        return "ja4"
    return _PATHS.get((obj_type.lower(), joined))


def pattern_values(pattern: str) -> tuple[list[tuple[str, str]], bool]:
    """``[(kind, value), ...]`` named by a STIX pattern, and whether the pattern is compound (AND)."""
    from stix2patterns.v21.pattern import Pattern

    try:
        data = Pattern(pattern).inspect()
    except Exception as exc:  # the pattern grammar raises its own exception types
        raise ParseError(f"pattern: {str(exc)[:200]}") from None
    compound = bool(data.observation_ops & {"AND", "FOLLOWEDBY"})
    out: list[tuple[str, str]] = []
    for obj_type, comparisons in data.comparisons.items():
        for path, op, raw in comparisons:
            kind = _kind_of(obj_type, path)
            if kind is None or op.strip() not in ("=", "IN", "ISSUBSET"):  # "NOT =" etc. name no indicator
                continue
            values = _QUOTED.findall(raw) if isinstance(raw, str) else []
            out.extend((kind, v.replace("\\'", "'").replace("\\\\", "\\")) for v in values)
    return out, compound


def _tlp_markings(objects: Iterable[Mapping[str, Any]]) -> dict[str, Tlp]:
    """Marking ids → TLP: the predefined ones plus TLP marking-definitions in this bundle."""
    found = dict(STIX_TLP_MARKINGS)
    for obj in objects:
        if obj.get("type") != "marking-definition" or not isinstance(obj.get("id"), str):
            continue
        level: Tlp | None = None
        definition = obj.get("definition")
        if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
            level = Tlp.parse(str(definition.get("tlp", "")))
        for ext in (obj.get("extensions") or {}).values():
            if isinstance(ext, dict) and "tlp_2_0" in ext:
                level = Tlp.parse(str(ext["tlp_2_0"]))
        if level is None and isinstance(obj.get("name"), str):
            level = Tlp.parse(obj["name"])
        if level is not None:
            found[obj["id"]] = level
    return found


def _tlp_of(obj: Mapping[str, Any], markings: Mapping[str, Tlp], default: Tlp) -> Tlp:
    refs = list(obj.get("object_marking_refs") or [])
    for granular in obj.get("granular_markings") or []:  # conservative: any TLP on any part marks it all
        if isinstance(granular, dict) and isinstance(granular.get("marking_ref"), str):
            refs.append(granular["marking_ref"])
    return strictest((markings.get(r) for r in refs if isinstance(r, str)), default)


def objects_of(document: Any, name: str, *, envelope: bool = False) -> list[dict[str, Any]]:
    """The objects of a STIX bundle, TAXII envelope or lone object; ParseError when it is none of them."""
    if not isinstance(document, dict):
        raise ParseError(f"{name}: not a STIX bundle (expected a JSON object)")
    if envelope and not document:
        return []  # TAXII 2.1 §3.7: an envelope with nothing to return is an empty object
    if document.get("type") == "bundle" or "objects" in document or "more" in document:
        objects = document.get("objects", [])
        if not isinstance(objects, list):
            raise ParseError(f"{name}: $.objects: expected a list")
        if len(objects) > MAX_OBJECTS:
            raise ParseError(f"{name}: more than {MAX_OBJECTS} objects")
        return [o for o in objects if isinstance(o, dict)]
    if isinstance(document.get("type"), str) and "--" in str(document.get("id", "")):
        return [document]  # a lone STIX object (STIX 2.1 §2.8: a bundle is optional)
    raise ParseError(f"{name}: not a STIX 2.1 bundle or TAXII envelope (no 'objects')")


def parse_objects(objects: list[dict[str, Any]], feed: str, *, default_tlp: Tlp = Tlp.GREEN,
                  batch: IndicatorBatch | None = None) -> IndicatorBatch:
    """Indicators and vulnerabilities of STIX 2.1 objects into ``batch`` (a new one when not given)."""
    import stix2
    from stix2.exceptions import STIXError

    out = batch if batch is not None else IndicatorBatch(feed=feed)
    markings = _tlp_markings(objects)
    names = {o["id"]: str(o.get("name", "")) for o in objects if o.get("type") == "identity" and "id" in o}
    for index, obj in enumerate(objects):
        kind = obj.get("type")
        if kind not in ("indicator", "vulnerability") or obj.get("revoked") is True:
            continue
        if not isinstance(obj.get("id"), str):  # STIX 2.1 §3.2: id is required (stix2 would invent one)
            out.problems.append(f"$.objects[{index}]: {kind} without an id")
            continue
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError) as exc:
            out.problems.append(f"$.objects[{index}] ({obj.get('id', '?')}): {str(exc)[:200]}")
            continue
        tlp = _tlp_of(obj, markings, default_tlp)
        if kind == "vulnerability":
            refs = [r for r in obj.get("external_references") or [] if isinstance(r, dict)]
            cves = [str(r.get("external_id", "")) for r in refs if str(r.get("source_name", "")).lower() == "cve"]
            for cve in cves or [str(obj.get("name", ""))]:
                out.add_cve(cve, tlp=tlp, ref=str(obj.get("id", "")), description=str(obj.get("name", ""))[:300])
            continue
        try:
            values, compound = pattern_values(str(obj.get("pattern", "")))
        except ParseError as exc:
            out.problems.append(f"$.objects[{index}] ({obj.get('id', '?')}): {exc}")
            continue
        confidence = obj.get("confidence")
        score = (float(confidence) / 100.0) if isinstance(confidence, int | float) else 0.5
        if compound:
            score /= 2
        description = str(obj.get("name") or obj.get("description") or "")[:300]
        for ind_kind, value in values:
            out.add(ind_kind, value, tlp=tlp, confidence=round(min(max(score, 0.0), 1.0), 3),
                    source=names.get(str(obj.get("created_by_ref", "")), "")[:200], ref=str(obj["id"]),
                    description=description, valid_from=to_epoch(obj.get("valid_from")),
                    expires=to_epoch(obj.get("valid_until")))
    return out


def parse_bundle(document: Any, feed: str, *, default_tlp: Tlp = Tlp.GREEN, name: str = "bundle"
                 ) -> IndicatorBatch:
    """One STIX 2.1 bundle (already decoded) into a snapshot batch."""
    return parse_objects(objects_of(document, name), feed, default_tlp=default_tlp)


def read_bundle(path: Path, feed: str | None = None, *, default_tlp: Tlp = Tlp.GREEN) -> IndicatorBatch:
    """A STIX 2.1 bundle file; ParseError when unreadable, too large or not a bundle."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ParseError(f"{path}: larger than {MAX_BYTES} bytes")
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ParseError(f"{path}: {str(exc)[:200]}") from None
    return parse_bundle(document, feed or f"stix:{path.stem}", default_tlp=default_tlp, name=str(path))

"""MISP feeds (``manifest.json`` plus one ``<uuid>.json`` per event) and the MISP REST API.

The feed format is the one MISP writes for "feed export" (MISP core-format, draft-dulaunoy-misp-core-format
§2: an ``Event`` with ``Attribute`` and ``Object`` lists, ``Tag`` lists at event and attribute level);
the manifest maps event UUIDs to their summary. A feed is read from a folder or over HTTP(S); the REST
client posts ``/events/restSearch`` with the API key in ``Authorization`` (MISP automation API).

TLP comes from ``tlp:*`` tags (the strictest of the event's and the attribute's); attributes marked
``deleted`` are skipped; ``to_ids`` attributes get higher confidence. Any fetch has a bounded timeout and
a size limit; a malformed manifest or event raises :class:`~wardwatch.errors.ParseError` so that the
caller keeps the previous knowledge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wardwatch.errors import ParseError
from wardwatch.intel.indicators import IndicatorBatch, Tlp, strictest

MAX_BYTES = 64 * 1024 * 1024
MAX_EVENTS = 5000

#: MISP attribute type → indicator kind (split ``a|b`` composite types first).
_TYPES: dict[str, str] = {
    "ip-src": "ip", "ip-dst": "ip", "domain": "domain", "hostname": "domain", "url": "url", "link": "url",
    "md5": "md5", "sha1": "sha1", "sha256": "sha256",
    "x509-fingerprint-sha256": "cert_sha256", "x509-fingerprint-sha1": "cert_sha1",
    "ja3-fingerprint-md5": "ja3", "ja4-fingerprint": "ja4", "jarm-fingerprint": "",
}


class FeedFetchError(ParseError):
    """A feed could not be fetched (unreachable, timed out, too large, HTTP error)."""


def fetch_bytes(client: httpx.Client, method: str, url: str, *, max_bytes: int = MAX_BYTES, **kw: Any) -> bytes:
    """The body of one request, bounded in size; FeedFetchError on any transport or HTTP failure."""
    try:
        with client.stream(method, url, **kw) as response:
            if response.status_code >= 400:
                raise FeedFetchError(f"{url}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedFetchError(f"{url}: response larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise FeedFetchError(f"{url}: timed out") from None
    except httpx.HTTPError as exc:
        raise FeedFetchError(f"{url}: {type(exc).__name__}: {str(exc)[:200]}") from None


def _json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ParseError(f"{where}: not valid JSON: {str(exc)[:120]}") from None


def _tags(obj: Mapping[str, Any]) -> list[str]:
    return [str(t.get("name", "")) for t in obj.get("Tag") or [] if isinstance(t, dict)]


def tlp_of_tags(tags: Iterable[str]) -> Tlp | None:
    """The strictest ``tlp:*`` tag (MISP taxonomy ``tlp``), or ``None``."""
    levels = [Tlp.parse(t) for t in tags if t.lower().startswith("tlp:")]
    found = [x for x in levels if x is not None]
    return max(found) if found else None


def _epoch(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def parse_event(document: Any, batch: IndicatorBatch, *, default_tlp: Tlp = Tlp.GREEN,
                ttl_days: float | None = None, where: str = "event") -> None:
    """Add the indicators of one MISP event (``{"Event": {...}}`` or the bare event) to ``batch``."""
    event = document.get("Event", document) if isinstance(document, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("Attribute", []), list):
        raise ParseError(f"{where}: not a MISP event (expected {{'Event': {{..., 'Attribute': [...]}}}})")
    event_tlp = tlp_of_tags(_tags(event))
    org = event["Orgc"] if isinstance(event.get("Orgc"), dict) else {}
    source = str(org.get("name", ""))[:200]
    info = str(event.get("info", ""))[:200]
    attributes: list[dict[str, Any]] = [a for a in event.get("Attribute") or [] if isinstance(a, dict)]
    for obj in event.get("Object") or []:
        if isinstance(obj, dict) and isinstance(obj.get("Attribute"), list):
            attributes.extend(a for a in obj["Attribute"] if isinstance(a, dict))
    for attr in attributes:
        if attr.get("deleted") in (True, "1", 1):
            continue
        atype, value = str(attr.get("type", "")), str(attr.get("value", ""))
        tlp = strictest([event_tlp, tlp_of_tags(_tags(attr))], default_tlp)
        if atype == "vulnerability":
            batch.add_cve(value, tlp=tlp, ref=str(attr.get("uuid", "")), description=info)
            continue
        parts = list(zip(atype.split("|"), value.split("|"), strict=False)) if "|" in atype else [(atype, value)]
        to_ids = attr.get("to_ids") in (True, "1", 1)
        stamp = _epoch(attr.get("timestamp"))
        expires = stamp + ttl_days * 86400 if ttl_days is not None and stamp is not None else None
        for part_type, part_value in parts:
            kind = _TYPES.get(part_type) or ("ja4" if "ja4" in part_type else "")
            if not kind:
                continue
            comment = str(attr.get("comment", ""))
            batch.add(kind, part_value, tlp=tlp, confidence=0.8 if to_ids else 0.4, source=source,
                      ref=str(attr.get("uuid", ""))[:200], description=f"{info} {comment}".strip()[:300],
                      expires=expires)


@dataclass(frozen=True, slots=True)
class MispFeed:
    """A MISP feed at a folder or URL (the folder holding ``manifest.json``)."""

    name: str
    location: str
    default_tlp: Tlp = Tlp.GREEN
    ttl_days: float | None = None
    timeout: float = 10.0

    def _read(self, leaf: str, client: httpx.Client | None) -> bytes:
        if client is None:
            path = Path(self.location) / leaf
            try:
                if path.stat().st_size > MAX_BYTES:
                    raise ParseError(f"{path}: larger than {MAX_BYTES} bytes")
                return path.read_bytes()
            except OSError as exc:
                raise FeedFetchError(f"{path}: {exc.strerror or exc}") from None
        return fetch_bytes(client, "GET", self.location.rstrip("/") + "/" + leaf)

    def fetch(self) -> IndicatorBatch:
        """Read the manifest and every event it lists into one snapshot batch."""
        remote = self.location.startswith(("http://", "https://"))
        client = httpx.Client(timeout=self.timeout, follow_redirects=False) if remote else None
        try:
            manifest = _json(self._read("manifest.json", client), f"{self.name}: manifest.json")
            if not isinstance(manifest, dict):
                raise ParseError(f"{self.name}: manifest.json: expected an object of event UUIDs")
            if len(manifest) > MAX_EVENTS:
                raise ParseError(f"{self.name}: manifest lists more than {MAX_EVENTS} events")
            batch = IndicatorBatch(feed=self.name)
            for uuid in sorted(manifest):
                if not all(c in "0123456789abcdef-" for c in uuid.lower()):
                    raise ParseError(f"{self.name}: manifest.json: {uuid[:60]!r} is not an event UUID")
                leaf = f"{uuid}.json"
                parse_event(_json(self._read(leaf, client), f"{self.name}: {leaf}"), batch,
                            default_tlp=self.default_tlp, ttl_days=self.ttl_days, where=f"{self.name}: {leaf}")
            return batch
        finally:
            if client is not None:
                client.close()


@dataclass(frozen=True, slots=True)
class MispApi:
    """A MISP instance's REST API (``POST /events/restSearch``)."""

    name: str
    url: str
    key: str
    default_tlp: Tlp = Tlp.GREEN
    ttl_days: float | None = None
    timeout: float = 10.0
    page_size: int = 100
    verify: bool | str = True

    def fetch(self, since: float | None = None) -> IndicatorBatch:
        """Events changed since ``since`` (epoch; all events when ``None``), page by page."""
        headers = {"Authorization": self.key, "Accept": "application/json", "Content-Type": "application/json"}
        batch = IndicatorBatch(feed=self.name, complete=since is None)
        with httpx.Client(timeout=self.timeout, verify=self.verify, follow_redirects=False) as client:
            for page in range(1, MAX_EVENTS // max(self.page_size, 1) + 2):
                body: dict[str, Any] = {"returnFormat": "json", "limit": self.page_size, "page": page}
                if since is not None:
                    body["timestamp"] = int(since)
                data = _json(fetch_bytes(client, "POST", self.url.rstrip("/") + "/events/restSearch",
                                         headers=headers, json=body), f"{self.name}: restSearch")
                events = data.get("response") if isinstance(data, dict) else data
                if not isinstance(events, list):
                    raise ParseError(f"{self.name}: restSearch: expected a 'response' list")
                for i, event in enumerate(events):
                    parse_event(event, batch, default_tlp=self.default_tlp, ttl_days=self.ttl_days,
                                where=f"{self.name}: page {page} event {i}")
                if len(events) < self.page_size:
                    break
        return batch

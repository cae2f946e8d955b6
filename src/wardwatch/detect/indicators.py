"""Indicators of compromise to match traffic against: IPs/prefixes, domains, JA3/JA4, certificate hashes.

A deliberately small interface: an :class:`IndicatorSource` yields :class:`Indicator` items; the
threat-intelligence feeds of issue 9 (STIX/TAXII, MISP) plug in as further sources. Expired indicators
are ignored at load time.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wardwatch.errors import ParseError

KINDS = ("ip", "domain", "ja3", "ja4", "cert_sha256")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator."""

    kind: str
    value: str
    source: str = "local"
    confidence: float = 1.0
    description: str = ""
    expires: float | None = None


class IndicatorSource(Protocol):
    """Anything that yields indicators (a file, a feed)."""

    def indicators(self) -> Iterable[Indicator]:
        """The current indicators."""
        ...


class IndicatorSet:
    """Indicators indexed for matching."""

    def __init__(self, items: Iterable[Indicator] = (), *, now: float | None = None) -> None:
        moment = now if now is not None else time.time()
        self.ips: dict[str, Indicator] = {}
        self.nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Indicator]] = []
        self.domains: dict[str, Indicator] = {}
        self.hashes: dict[tuple[str, str], Indicator] = {}
        for item in items:
            if item.expires is not None and item.expires < moment:
                continue
            self.add(item)

    def add(self, item: Indicator) -> None:
        """Index one indicator (unknown kinds are refused)."""
        value = item.value.strip().lower()
        if item.kind == "ip":
            net = ipaddress.ip_network(value, strict=False)
            if net.prefixlen == net.max_prefixlen:
                self.ips[str(net.network_address)] = item
            else:
                self.nets.append((net, item))
        elif item.kind == "domain":
            self.domains[value.rstrip(".")] = item
        elif item.kind in ("ja3", "ja4", "cert_sha256"):
            self.hashes[(item.kind, value.replace(":", ""))] = item
        else:
            raise ValueError(f"unknown indicator kind {item.kind!r}")

    def __len__(self) -> int:
        return len(self.ips) + len(self.nets) + len(self.domains) + len(self.hashes)

    def match_ip(self, ip: str) -> Indicator | None:
        """The indicator for address ``ip``."""
        found = self.ips.get(ip)
        if found is not None or not self.nets:
            return found
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        return next((item for net, item in self.nets if address in net), None)

    def match_domain(self, name: str) -> Indicator | None:
        """The indicator for ``name`` or any parent domain of it (``a.evil.example`` ⊂ ``evil.example``)."""
        labels = name.strip().lower().rstrip(".").split(".")
        for i in range(len(labels) - 1):
            found = self.domains.get(".".join(labels[i:]))
            if found is not None:
                return found
        return None

    def match_hash(self, kind: str, value: str) -> Indicator | None:
        """The indicator for a JA3/JA4 fingerprint or certificate hash."""
        return self.hashes.get((kind, value.strip().lower().replace(":", "")))


class JsonIndicatorFile:
    """Indicators from a JSON list of ``{"kind", "value", "source"?, "description"?, "expires"?}``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def indicators(self) -> Iterable[Indicator]:
        """Read and check the file."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParseError(f"{self.path}: {exc}") from None
        if not isinstance(data, list):
            raise ParseError(f"{self.path}: expected a JSON list of indicators")
        for item in data:
            if isinstance(item, dict) and item.get("kind") in KINDS and isinstance(item.get("value"), str):
                yield Indicator(kind=item["kind"], value=item["value"], source=str(item.get("source", self.path.name)),
                                description=str(item.get("description", "")), expires=item.get("expires"))

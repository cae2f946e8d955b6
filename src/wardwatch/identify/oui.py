"""Vendor of a MAC address from the IEEE Registration Authority's registries.

The registries are not kept by hand here: MA-L (24-bit "OUI") and IAB come from the ``netaddr`` package,
which ships the IEEE files and keeps them current; MA-M (28-bit) and MA-S (36-bit, formerly OUI-36), and
any MA-L/IAB assignment the netaddr copy lacks, come from Debian's maintained ``ieee-data`` package
(``/usr/share/ieee-data/{oui,mam,oui36,iab}.csv``) when it is installed. The longest registered prefix
wins (36 > 28 > 24 bits), as the IEEE RA assigns MA-M and MA-S blocks inside MA-L blocks it owns
(IEEE RA, "Guidelines for Use of EUI, OUI, and CID", 2017, §2).

Bits of the first octet (IEEE 802-2014 §8.2.2): bit 0x01 (I/G) set means a group (multicast or
broadcast) address, which names no device; bit 0x02 (U/L) set means a locally administered address,
such as the randomized MACs of modern phones and laptops (IEEE 802c-2017), which have no vendor.

The tables are read lazily, once per process (a dict per prefix length, about 40 000 entries).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

IEEE_DATA_DIR = Path("/usr/share/ieee-data")

_HEX = frozenset("0123456789abcdef")
#: netaddr oui.txt: ``10E992     (base 16)\t\tINGRAM MICRO SERVICES``.
_MAL_LINE = re.compile(r"^([0-9A-F]{6})\s+\(base 16\)\s*(.*?)\s*$", re.MULTILINE)
#: netaddr iab.txt: ``40-D8-55   (hex)   Avant ...`` then ``0D7000-0D7FFF   (base 16)   Avant ...``.
_IAB_PAIR = re.compile(
    r"^([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})\s+\(hex\).*?\n"
    r"([0-9A-F]{3})000-[0-9A-F]{6}\s+\(base 16\)\s*(.*?)\s*$",
    re.MULTILINE,
)


class Registry(StrEnum):
    """IEEE registry a prefix belongs to."""

    MA_L = "MA-L"
    MA_M = "MA-M"
    MA_S = "MA-S"
    IAB = "IAB"


@dataclass(frozen=True, slots=True)
class MacInfo:
    """What a MAC address says about itself."""

    mac: str
    vendor: str | None
    registry: Registry | None
    prefix_bits: int
    randomized: bool
    multicast: bool


def normalize_mac(text: str) -> str | None:
    """``00:1B:63:84:45:E6``, ``00-1b-63-84-45-e6``, ``001b.6384.45e6``, ``001b638445e6`` → colon form.

    Returns ``None`` when ``text`` is not a 48-bit MAC address.
    """
    digits = text.strip().lower().replace(":", "").replace("-", "").replace(".", "")
    if len(digits) != 12 or not _HEX.issuperset(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_multicast(mac: str) -> bool:
    """True for group addresses (I/G bit, IEEE 802-2014 §8.2.2), broadcast included."""
    return bool(int(mac[:2], 16) & 0x01)


def is_locally_administered(mac: str) -> bool:
    """True for locally administered (U/L bit set) addresses, e.g. randomized MACs."""
    return bool(int(mac[:2], 16) & 0x02)


class OuiRegistry:
    """Prefix → organization tables for the 24-, 28- and 36-bit registries."""

    def __init__(self, tables: dict[int, dict[str, tuple[str, Registry]]]) -> None:
        # key: number of hex digits (6, 7, 9) → upper-case hex prefix → (organization, registry)
        self._tables = tables
        self._lengths = sorted(tables, reverse=True)

    @classmethod
    def load(cls, ieee_data_dir: Path | None = IEEE_DATA_DIR) -> OuiRegistry:
        """Read netaddr's MA-L and IAB files and, when present, Debian's ieee-data CSV files."""
        tables: dict[int, dict[str, tuple[str, Registry]]] = {6: {}, 7: {}, 9: {}}
        eui = resources.files("netaddr.eui")
        for prefix, org in _parse_mal(eui.joinpath("oui.txt").read_bytes().decode("utf-8", errors="replace")):
            tables[6][prefix] = (org, Registry.MA_L)
        for prefix, org in _parse_iab(eui.joinpath("iab.txt").read_bytes().decode("utf-8", errors="replace")):
            tables[9][prefix] = (org, Registry.IAB)
        if ieee_data_dir is not None and ieee_data_dir.is_dir():
            for name in ("oui.csv", "mam.csv", "oui36.csv", "iab.csv"):
                path = ieee_data_dir / name
                if path.is_file():
                    for prefix, org, registry in _parse_csv(path):
                        # netaddr's copy is the fresher one for MA-L/IAB: Debian only fills gaps
                        tables[len(prefix)].setdefault(prefix, (org, registry))
        return cls(tables)

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values())

    def vendor(self, mac: str) -> tuple[str, Registry, int] | None:
        """(organization, registry, prefix bits) of the longest registered prefix of ``mac``, if any."""
        digits = mac.replace(":", "").upper()
        for length in self._lengths:
            hit = self._tables[length].get(digits[:length])
            if hit is not None:
                return hit[0], hit[1], length * 4
        return None

    def lookup(self, mac: str) -> MacInfo | None:
        """Describe ``mac`` (any common notation); ``None`` if it is not a MAC address."""
        norm = normalize_mac(mac)
        if norm is None:
            return None
        multicast = is_multicast(norm)
        randomized = is_locally_administered(norm) and not multicast
        hit = None if (multicast or randomized) else self.vendor(norm)
        if hit is None:
            return MacInfo(norm, None, None, 0, randomized, multicast)
        return MacInfo(norm, hit[0], hit[1], hit[2], randomized, multicast)


@functools.cache
def default_registry() -> OuiRegistry:
    """The process-wide registry, loaded on first use."""
    return OuiRegistry.load()


def lookup(mac: str) -> MacInfo | None:
    """Shortcut for ``default_registry().lookup(mac)``."""
    return default_registry().lookup(mac)


def _parse_mal(text: str) -> Iterator[tuple[str, str]]:
    for match in _MAL_LINE.finditer(text):
        org = match.group(2)
        if org:
            yield match.group(1), org


def _parse_iab(text: str) -> Iterator[tuple[str, str]]:
    for match in _IAB_PAIR.finditer(text):
        org = match.group(5)
        if org:
            yield "".join(match.group(i) for i in range(1, 5)), org


_CSV_REGISTRY = {"MA-L": Registry.MA_L, "MA-M": Registry.MA_M, "MA-S": Registry.MA_S, "IAB": Registry.IAB}


def _parse_csv(path: Path) -> Iterable[tuple[str, str, Registry]]:
    """IEEE RA CSV: ``Registry,Assignment,Organization Name,Organization Address``."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 3:
                continue
            registry = _CSV_REGISTRY.get(row[0].strip())
            prefix = row[1].strip().upper()
            org = row[2].strip()
            if registry is None or not org or len(prefix) not in (6, 7, 9):
                continue
            yield prefix, org, registry

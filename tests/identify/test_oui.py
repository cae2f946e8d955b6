"""OUI vendor lookup against the IEEE registries (netaddr's MA-L/IAB, Debian ieee-data's MA-M/MA-S).

Expected organizations are read from the registry files themselves (the IEEE's text), not from our own
output: a prefix is picked from each file and looked up through the public API.
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest

from wardwatch.identify.oui import (
    IEEE_DATA_DIR,
    OuiRegistry,
    Registry,
    default_registry,
    is_locally_administered,
    is_multicast,
    lookup,
    normalize_mac,
)


def _mac_from_prefix(prefix: str) -> str:
    digits = (prefix + "0" * 12)[:12].lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _csv_rows(name: str) -> list[tuple[str, str]]:
    path = IEEE_DATA_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} missing: apt-get install ieee-data")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r[1].strip().upper(), r[2].strip()) for r in csv.reader(handle) if len(r) > 2 and r[0] != "Registry"]
    return [(p, o) for p, o in rows if o]


def test_mal_prefix_from_netaddr_file() -> None:
    text = resources.files("netaddr.eui").joinpath("oui.txt").read_bytes().decode("utf-8", "replace")
    matches = re.findall(r"^([0-9A-F]{6})\s+\(base 16\)\s*(\S.*?)\s*$", text, re.MULTILINE)
    assert len(matches) > 30_000
    registry = default_registry()
    for prefix, org in matches[:: len(matches) // 50]:
        if registry.vendor(_mac_from_prefix(prefix)) is None:
            continue
        info = lookup(_mac_from_prefix(prefix).replace(":", "-").upper())
        assert info is not None
        # a 28/36-bit block inside this MA-L may win for this exact MAC; otherwise it is the MA-L owner
        if info.prefix_bits == 24:
            assert info.vendor == org and info.registry is Registry.MA_L


@pytest.mark.parametrize(("name", "registry", "bits"), [("mam.csv", Registry.MA_M, 28),
                                                         ("oui36.csv", Registry.MA_S, 36)])
def test_longer_prefixes_win(name: str, registry: Registry, bits: int) -> None:
    rows = _csv_rows(name)
    assert len(rows) > 1000
    checked = 0
    for prefix, org in rows[:: len(rows) // 40]:
        info = lookup(_mac_from_prefix(prefix))
        assert info is not None
        assert info.prefix_bits >= bits  # never the enclosing 24-bit MA-L block
        if info.prefix_bits == bits:
            assert info.vendor == org and info.registry is registry
            checked += 1
    assert checked > 20


def test_ma_s_inside_ieee_ma_l_block() -> None:
    _csv_rows("oui36.csv")
    mal = OuiRegistry({6: {"70B3D5": ("IEEE Registration Authority", Registry.MA_L)}, 7: {}, 9: {}})
    assert mal.vendor("70:b3:d5:f2:f0:01") == ("IEEE Registration Authority", Registry.MA_L, 24)
    info = lookup("70:b3:d5:f2:f0:01")
    assert info is not None and info.prefix_bits == 36 and info.registry is Registry.MA_S


def test_iab_from_netaddr() -> None:
    info = lookup("00:50:c2:f7:10:00")
    assert info is not None and info.registry is Registry.IAB and info.prefix_bits == 36
    assert info.vendor


def test_randomized_and_multicast() -> None:
    randomized = lookup("da:a1:19:00:00:01")
    assert randomized is not None and randomized.randomized and randomized.vendor is None
    group = lookup("01:00:5e:00:00:fb")
    assert group is not None and group.multicast and not group.randomized and group.vendor is None
    assert is_multicast("ff:ff:ff:ff:ff:ff") and not is_multicast("00:1b:63:84:45:e6")
    assert is_locally_administered("02:00:00:00:00:00") and not is_locally_administered("00:00:00:00:00:00")


@pytest.mark.parametrize("text", ["00:1B:63:84:45:E6", "00-1b-63-84-45-e6", "001b.6384.45e6", "001B638445E6",
                                  " 00:1b:63:84:45:e6 "])
def test_normalize_notations(text: str) -> None:
    assert normalize_mac(text) == "00:1b:63:84:45:e6"


@pytest.mark.parametrize("text", ["", "00:1b:63:84:45", "00:1b:63:84:45:e6:00", "zz:1b:63:84:45:e6", "10.0.0.1"])
def test_normalize_rejects(text: str) -> None:
    assert normalize_mac(text) is None
    assert lookup(text) is None


def test_without_debian_files_still_has_mal(tmp_path: Path) -> None:
    registry = OuiRegistry.load(tmp_path)  # an empty folder: netaddr only
    assert registry.vendor("00:1b:63:00:00:00") is not None
    assert len(registry) < len(default_registry()) or not IEEE_DATA_DIR.is_dir()

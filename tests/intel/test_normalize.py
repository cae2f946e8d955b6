"""Vendor aliases, misspellings and product families."""

from __future__ import annotations

import pytest

from wardwatch.intel.normalize import closest_vendor, family_match, product_tokens, vendor_key, vendor_keys


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["Philips", "Phillips", "Philips Healthcare", "Koninklijke Philips N.V."], "philips"),
        (["GE Healthcare", "General Electric (GE)", "GE", "General Electric"], "ge"),
        (["B. Braun", "BBraun", "B. Braun Medical", "B. Braun Melsungen AG"], "bbraun"),
        (["Baxter", "Baxter International Inc.", "Baxter Healthcare"], "baxter"),
        (["Becton, Dickinson and Company (BD)", "BD", "CareFusion"], "bd"),
        (["Dräger", "Draeger", "Drägerwerk AG"], "draeger"),
        (["Innokas YhtymÃ¤ Oy", "Innokas Yhtymä Oy"], "innokas"),
    ],
)
def test_vendor_aliases(names: list[str], key: str) -> None:
    assert {vendor_key(n) for n in names} == {key}


def test_several_vendors_in_one_string() -> None:
    assert {"hillrom", "baxter"} <= set(vendor_keys("Hillrom and ELI, Baxter International Inc."))
    assert "ge" in vendor_keys("Silex Technology and GE Healthcare")


def test_misspelling_found_by_spelling_distance() -> None:
    assert closest_vendor(vendor_key("Medtronik"), ["medtronic", "philips"]) == "medtronic"
    assert closest_vendor(vendor_key("Zeiss"), ["medtronic", "philips"]) is None


def test_product_family() -> None:
    adv = product_tokens("Alaris PC Unit", "BD")
    assert family_match(adv, product_tokens("Alaris 8015 PC Unit", "BD")) > 0.5
    assert family_match(adv, product_tokens("BD Alaris PC Unit", "BD")) == 1.0
    assert family_match(adv, product_tokens("Alaris Syringe Module", "BD")) == 0.0
    # generic words alone never make a family
    assert family_match(product_tokens("Infusion Pump"), product_tokens("Sigma Spectrum Infusion Pump")) == 0.0

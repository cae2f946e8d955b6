"""The device taxonomy: shipped data, criticality defaults and overrides."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.errors import ConfigError
from wardwatch.identify.taxonomy import (
    Criticality,
    CriticalityOverrides,
    Taxonomy,
    criticality_for,
    default_taxonomy,
)


def test_shipped_taxonomy_has_clinical_and_it_classes() -> None:
    tax = default_taxonomy()
    clinical = {n for n, c in tax.classes.items() if c.clinical}
    assert {"infusion_pump", "patient_monitor", "central_station", "ventilator", "anesthesia_machine",
            "imaging_modality", "pacs_archive", "imaging_workstation", "lab_analyzer", "poc_analyzer",
            "nurse_call", "medication_dispensing"} <= clinical
    assert {"workstation", "server", "printer", "ip_phone", "camera", "network_infrastructure",
            "badge_reader", "iot_consumer", "mobile"} <= set(tax.classes) - clinical
    assert tax.classes["infusion_pump"].criticality is Criticality.LIFE_SUSTAINING
    assert tax.classes["printer"].criticality is Criticality.NON_CLINICAL
    assert tax.lineage("ct_scanner") == ("ct_scanner", "imaging_modality")


@pytest.mark.parametrize(("code", "cls"), [("CT", "ct_scanner"), ("mr", "mr_scanner"), ("DX", "xray"),
                                           ("CR", "xray"), ("PT", "nuclear_medicine"), ("RF", "angiography"),
                                           ("MG", "mammography"), ("US", "ultrasound")])
def test_dicom_modality_to_class(code: str, cls: str) -> None:
    assert default_taxonomy().class_for_modality(code) == cls


def test_product_codes_in_the_gudid_extract_have_its_names() -> None:
    """Codes the taxonomy marks as checked exist in the shared GUDID extract with a fitting name."""
    path = require_shared("gudid", "DERIVED_product_codes_in_gudid_partial.csv")
    names = {row["product_code"]: row["product_code_name"].lower() for row in csv.DictReader(path.open())}
    tax = default_taxonomy()
    expect = {"infusion_pump": ("FRN", "infusion"), "ventilator": ("CBK", "ventilator"),
              "anesthesia_machine": ("BSZ", "anesthesia"), "pacs_archive": ("LLZ", "image processing"),
              "defibrillator": ("MKJ", "defibrillator")}
    for cls, (code, word) in expect.items():
        assert code in tax.classes[cls].fda_product_codes
        assert word in names[code], (code, names[code])


def test_criticality_precedence() -> None:
    ov = CriticalityOverrides.from_mapping({
        "class": {"imaging_modality": "life_supporting", "printer": "diagnostic"},
        "model": {"Alaris 8015": "life_supporting"},
        "device": {"mac:00:11:22:33:44:55": "non_clinical"},
    })
    assert criticality_for("infusion_pump") is Criticality.LIFE_SUSTAINING
    assert criticality_for("infusion_pump", "alaris 8015", ov) is Criticality.LIFE_SUPPORTING
    assert criticality_for("infusion_pump", "Alaris 8015", ov, device_id="mac:00:11:22:33:44:55") \
        is Criticality.NON_CLINICAL
    assert criticality_for("ct_scanner", overrides=ov) is Criticality.LIFE_SUPPORTING  # inherited by subclass
    assert criticality_for("ct_scanner") is Criticality.DIAGNOSTIC
    assert criticality_for("label_printer", overrides={"class": {"printer": "diagnostic"}}) is Criticality.DIAGNOSTIC
    assert criticality_for("toaster") is Criticality.NON_CLINICAL
    assert criticality_for(None) is Criticality.NON_CLINICAL


def test_bad_overrides_and_taxonomy_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"class\.printer"):
        CriticalityOverrides.from_mapping({"class": {"printer": "very"}})
    with pytest.raises(ConfigError, match="unknown section"):
        CriticalityOverrides.from_mapping({"vendor": {}})
    with pytest.raises(ConfigError, match=r"classes\.x\.parent"):
        Taxonomy.from_mapping({"classes": {"x": {"label": "X", "group": "it", "criticality": "non_clinical",
                                                 "parent": "nope"}}})
    with pytest.raises(ConfigError, match="fda_product_codes"):
        Taxonomy.from_mapping({"classes": {"x": {"label": "X", "group": "it", "criticality": "non_clinical",
                                                 "fda_product_codes": ["frn1"]}}})

"""Issue 3, must show 1 (SDC): a real sdc11073 provider publishing a shared MDIB, captured and analyzed
through the whole pipeline: the provider becomes one device with the manufacturer, model, serial number
and firmware it announces, classified as a clinical device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import require_shared
from tests.peers.sdc import PROVIDER_IP, THIS_DEVICE, THIS_MODEL, capture_sdc, netns_available
from tests.support.analyze import analyze_into, facts_of


@pytest.mark.netns
def test_sdc_provider_identified_through_the_pipeline(tmp_path: Path) -> None:
    if not netns_available():
        pytest.skip("needs root and ip netns for multicast WS-Discovery")
    mdib = require_shared("sdc-mdib", "tests_70041_MDIB_Final.xml")
    peer = capture_sdc(tmp_path, mdib)
    inventory, report = analyze_into(f"sqlite:///{tmp_path / 'inv.db'}", [peer.pcap])
    assert report.dissected.get("sdc", 0) >= 1
    provider = inventory.get_device(PROVIDER_IP)
    facts = facts_of(inventory, provider)
    assert THIS_MODEL["manufacturer"] in facts["sdc.manufacturer"]
    assert THIS_MODEL["model_name"] in facts["sdc.model"]
    assert THIS_DEVICE["serial_number"] in facts["sdc.serial"]
    assert THIS_DEVICE["firmware_version"] in facts["sdc.firmware"]
    assert any(t for t in facts.get("sdc.types", ()) if "MedicalDevice" in t)
    assert provider.value("vendor") == THIS_MODEL["manufacturer"]
    assert provider.value("model") == THIS_MODEL["model_name"]
    assert provider.value("firmware") == THIS_DEVICE["firmware_version"]
    assert provider.value("serial") == THIS_DEVICE["serial_number"]
    from wardwatch.identify.taxonomy import Criticality, default_taxonomy

    device_class = provider.value("device_class")
    assert device_class, "an SDC medical device must be classified"
    assert default_taxonomy().get(device_class).criticality is not Criticality.NON_CLINICAL

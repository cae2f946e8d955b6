"""Must show 2 of issue 6: the small demo hospital is valid protocol traffic for tshark, and wardwatch's
classification of it agrees with the generator's ground truth (per device, joined by MAC)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from wardwatch.demo import generate_hospital
from wardwatch.demo.run.steps import open_inventory
from wardwatch.demo.scoring import Scorecard, join, score
from wardwatch.pipeline.analyze import analyze_captures

#: tshark "decode as" for the ports the demo uses beyond the registered ones (HL7 MLLP, POCT1-A XML).
DECODE_AS = ["-d", "tcp.port==6661,hl7", "-d", "tcp.port==2575,hl7", "-d", "tcp.port==3001,xml"]
SOAP = "{http://www.w3.org/2003/05/soap-envelope}"
#: Floors the rules meet on this capture (measured 0.99 / 0.96, vendor right for 46 of 60;
#: bench/RESULTS.md has the 400-device figures). Issue 6 asks for at least 0.8 on both.
MACRO_RECALL_FLOOR = 0.9
MACRO_PRECISION_FLOOR = 0.9
VENDOR_FLOOR = 0.7


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], Scorecard, list[Any]]:
    folder = tmp_path_factory.mktemp("democlass")
    summary = generate_hospital(60, 7, folder / "hospital.pcapng", rounds=4)
    inventory = open_inventory(f"sqlite:///{folder / 'ww.db'}")
    analyze_captures([summary.output], inventory)
    devices = inventory.list_devices(limit=None)
    inventory.close()
    truth = json.loads(summary.truth.read_text(encoding="utf-8"))["devices"]
    return summary.output, truth, score(truth, devices), devices


@pytest.mark.parametrize("protocol", ["dicom", "hl7", "dhcp", "udp.port == 3702"])
def test_tshark_decodes_without_malformed_packets(hospital: tuple[Path, Any, Any, Any], tshark: str,
                                                  protocol: str) -> None:
    capture = hospital[0]
    rows = subprocess.run([tshark, "-n", "-r", str(capture), *DECODE_AS, "-Y", protocol, "-T", "fields",
                           "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "udp.payload"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert rows, f"tshark found no {protocol} in the demo capture"
    bad = [r for r in rows if r.split("\t")[0]]
    assert not bad, f"{protocol}: malformed frames {bad[:5]}"
    if protocol.startswith("udp"):  # SDC discovery (IEEE 11073-20702): SOAP-over-UDP WS-Discovery messages
        for row in rows:
            envelope = ET.fromstring(bytes.fromhex(row.split("\t")[2]))
            assert envelope.tag == f"{SOAP}Envelope" and envelope.find(f"{SOAP}Body") is not None


def test_every_truth_device_is_in_the_inventory(hospital: tuple[Path, Any, Scorecard, Any]) -> None:
    _, truth, card, devices = hospital
    assert card.joined == len(truth) == 60
    pairs = join(truth, devices)
    assert all(d is not None for _, d in pairs)


def test_classification_matches_truth(hospital: tuple[Path, Any, Scorecard, Any]) -> None:
    card = hospital[2]
    assert card.macro_recall >= MACRO_RECALL_FLOOR, card.misses.most_common(10)
    assert card.macro_precision >= MACRO_PRECISION_FLOOR, card.misses.most_common(10)
    assert card.vendor_correct >= VENDOR_FLOOR * card.devices


def test_scoring_counts_a_wrong_class_against_both(hospital: tuple[Path, Any, Any, Any]) -> None:
    _, truth, _, devices = hospital
    from dataclasses import replace

    from wardwatch.domain.device import Attribute

    first = next(d for _, d in join(truth, devices) if d is not None and d.value("device_class"))
    wrong = replace(first, attributes={**first.attributes,
                                       "device_class": Attribute("device_class", "not_a_class", 1.0)})
    card = score(truth, [wrong if d.key == first.key else d for d in devices])
    assert card.classes["not_a_class"].predicted == 1 and card.classes["not_a_class"].correct == 0
    assert card.macro_precision < score(truth, devices).macro_precision

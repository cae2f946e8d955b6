"""The demo hospital generator: determinism, tshark validity, truth/capture agreement, bounded memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.tshark import fields, values
from wardwatch.demo import generate_hospital

WSD = "{http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo") / "hospital.pcapng"
    summary = generate_hospital(60, 7, out, rounds=4)
    assert summary.packets > 1000
    return out, json.loads(summary.truth.read_text())


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a = generate_hospital(50, 3, tmp_path / "a.pcapng", rounds=2)
    b = generate_hospital(50, 3, tmp_path / "b.pcapng", rounds=2)
    c = generate_hospital(50, 4, tmp_path / "c.pcapng", rounds=2)
    assert _sha(a.output) == _sha(b.output)
    assert a.truth.read_text().replace("a.pcapng", "b.pcapng") == b.truth.read_text()
    assert _sha(a.output) != _sha(c.output)


def test_no_malformed_packets_or_expert_errors(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, _ = small
    args = ["-d", "tcp.port==6661,hl7", "-d", "tcp.port==2575,hl7", "-d", "tcp.port==3001,xml"]
    malformed = subprocess.run([tshark, "-n", "-r", str(cap), *args, "-Y", "_ws.malformed"],
                               capture_output=True, text=True, check=True).stdout
    assert malformed.strip() == ""
    errors = subprocess.run([tshark, "-n", "-r", str(cap), *args, "-q", "-z", "expert,error"],
                            capture_output=True, text=True, check=True).stdout
    assert "Errors" not in errors, errors


def test_dicom_associations_decode(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, truth = small
    calling = {v.strip() for v in values(tshark, cap, "dicom.pdu.type == 1", "dicom.assoc.ae.calling")}
    modality_aes = {d["ae_title"] for d in truth["devices"] if d["modality"]}
    assert calling & modality_aes, (calling, modality_aes)
    abstract = " ".join(values(tshark, cap, "dicom.pdu.type == 1", "dicom.pctx.abss.syntax"))
    assert "(1.2.840.10008.5.1.4.31)" in abstract        # worklist C-FIND proposed
    assert "(1.2.840.10008.1.1)" in abstract             # verification
    assert "(1.2.840.10008.5.1.4.1.1.2)" in abstract     # CT image storage
    assert values(tshark, cap, "dicom.pdu.type == 2", "dicom.userinfo.version")  # A-ASSOCIATE-AC seen
    assert "FINDSCU" in calling                           # the unknown-AE attack
    assert values(tshark, cap, "dicom.pdu.type == 3", "dicom.assoc.reject.reason")


def test_hl7_messages_decode(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, _ = small
    rows = fields(tshark, cap, "hl7", "hl7.message.type", "hl7.event.type")
    kinds = {tuple(r) for r in rows}
    assert ("ORU", "R01") in kinds and ("ACK", "R01") in kinds and ("ADT", "A01") in kinds
    # Pump messages on 6661 need "decode as"; they carry the PRT device segment.
    raw = subprocess.run([tshark, "-n", "-r", str(cap), "-d", "tcp.port==6661,hl7", "-Y", "tcp.port==6661 && hl7",
                          "-T", "fields", "-e", "hl7.message.type"], capture_output=True, text=True,
                         check=True).stdout.split()
    assert "ORU" in raw


def test_dhcp_fingerprints_decode(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, truth = small
    hostnames = values(tshark, cap, "dhcp.option.dhcp == 1", "dhcp.option.hostname")
    expected = {d["hostname"] for d in truth["devices"] if d["dhcp"] and not d["mac_randomized"]}
    assert expected <= hostnames
    assert "MSFT 5.0" in values(tshark, cap, "dhcp", "dhcp.option.vendor_class_id")
    assert values(tshark, cap, "dhcp.option.dhcp == 5", "dhcp.ip.your")


def test_sdc_hello_is_valid_ws_discovery(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, truth = small
    payloads = [bytes.fromhex(r[0]) for r in fields(tshark, cap, "udp.dstport == 3702", "udp.payload")]
    sdc_devices = [d for d in truth["devices"] if d["catalogue_key"] in
                   ("draeger_m540", "draeger_evita_v800", "draeger_perseus_a500")]
    assert len(payloads) == len(sdc_devices) > 0
    for p in payloads:
        hello = ET.fromstring(p).find(f".//{WSD}Hello")
        assert hello is not None
        assert "mdpws:MedicalDevice" in (hello.findtext(f"{WSD}Types") or "")


def test_poct_and_tls(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, truth = small
    rows = subprocess.run([tshark, "-n", "-r", str(cap), "-d", "tcp.port==3001,xml", "-Y", "xml",
                           "-T", "fields", "-e", "xml.tag"], capture_output=True, text=True, check=True).stdout
    assert "<HEL.R01>" in rows and "DEV.model_id" in rows
    sni = values(tshark, cap, "tls.handshake.type == 1", "tls.handshake.extensions_server_name")
    assert truth["external_hosts"]["c2"]["host"] in sni


def test_truth_matches_capture(small: tuple[Path, dict[str, Any]], tshark: str) -> None:
    cap, truth = small
    sources = values(tshark, cap, "eth", "eth.src")
    devices = truth["devices"]
    assert len(devices) == 60
    assert {d["mac"] for d in devices} <= sources
    assert {(d["mac"], str(d["vlan"])) for d in devices if d["dhcp"]} <= {
        (r[0], r[1]) for r in fields(tshark, cap, "dhcp.option.dhcp == 1", "eth.src", "vlan.id")}
    assert any(d["advisories"]["affected"] for d in devices)
    checked = [d for d in devices if d["advisories"]["affected"] or d["advisories"]["not_affected"]]
    assert checked
    assert any("syn_scan:source" in d["attacks"] for d in devices)


def _peak(tmp_path: Path, devices: int, background: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        s = generate_hospital(devices, 1, tmp_path / f"m{devices}_{background}.pcapng", rounds=1,
                              background_packets=background)
        return tracemalloc.get_traced_memory()[1], s.packets
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_packets(tmp_path: Path) -> None:
    light, n0 = _peak(tmp_path, 200, 2000)
    heavy, n1 = _peak(tmp_path, 200, 10000)
    assert n1 > n0 + 7000
    assert heavy - light < 512 * 1024, (light, heavy)  # 4x the packets, same peak: nothing accumulates
    big, _ = _peak(tmp_path, 800, 0)
    assert big - light < 800 * 8 * 1024, (light, big)  # grows with the device table only

"""Issue 3, must show 1, through the whole pipeline: real DICOM and HL7 peers on loopback, captured,
analyzed into the inventory; each endpoint gets the right role, modality and names, and the fields equal
tshark's DICOM and HL7 dissectors on the same capture.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.peers.dicom import CLIENT_IP, SERVER_IP, capture_dcmtk_store, capture_pynetdicom_store, with_phi
from tests.peers.dicom import testdata as dicom_file
from tests.peers.hl7 import capture_mllp
from tests.support import tshark as ts
from tests.support.analyze import analyze_into, facts_of


def _by_ip(inventory, ip: str):  # type: ignore[no-untyped-def]
    return inventory.get_device(ip)


def test_pynetdicom_ct_store_classifies_modality_and_archive(tmp_path: Path, tshark: str) -> None:
    peer = capture_pynetdicom_store(tmp_path, [with_phi(dicom_file("CT_small.dcm"), tmp_path / "ct.dcm")])
    inventory, report = analyze_into(f"sqlite:///{tmp_path / 'inv.db'}", [peer.pcap])
    assert report.dissected.get("dicom") == 1
    scu, scp = _by_ip(inventory, CLIENT_IP), _by_ip(inventory, SERVER_IP)
    scu_facts, scp_facts = facts_of(inventory, scu), facts_of(inventory, scp)
    tshark_cmd_calling = _decoded(tshark, peer.pcap, peer.port, "dicom.assoc.ae.calling")
    tshark_cmd_called = _decoded(tshark, peer.pcap, peer.port, "dicom.assoc.ae.called")
    assert scu_facts["dicom.calling_ae"] == tshark_cmd_calling == {peer.calling_ae}
    assert scp_facts["dicom.called_ae"] == tshark_cmd_called == {peer.called_ae}
    assert scu.value("modality") == "CT"
    assert scu.value("ae_title") == "CT_SCANNER"
    assert "modality" in scu_facts["dicom.role"]
    assert "pacs_archive" in scp_facts["dicom.role"]
    assert scu.value("device_class") == "ct_scanner"
    assert scp.value("device_class") == "pacs_archive"
    for device in (scu, scp):
        for attribute in device.attributes.values():
            assert attribute.evidence, attribute.name


def _decoded(tshark: str, pcap: Path, port: int, field: str) -> set[str]:
    """Values of ``field`` as tshark decodes them (AE titles come space-padded, PS3.8 §9.3.2)."""
    return {v.strip() for v in ts.values(tshark, pcap, field, field, decode_as=f"tcp.port=={port},dicom")}


def test_dcmtk_mr_store_names_the_library_not_a_vendor(tmp_path: Path) -> None:
    peer = capture_dcmtk_store(tmp_path, [with_phi(dicom_file("MR_small.dcm"), tmp_path / "mr.dcm")])
    inventory, _ = analyze_into(f"sqlite:///{tmp_path / 'inv.db'}", [peer.pcap])
    scu = _by_ip(inventory, CLIENT_IP)
    assert scu.value("modality") == "MR"
    assert "DCMTK" in (scu.value("software") or "")
    assert scu.value("vendor") in (None, "")


def test_hl7_mllp_names_and_message_types_equal_tshark(tmp_path: Path, tshark: str) -> None:
    peer = capture_mllp(tmp_path)
    inventory, report = analyze_into(f"sqlite:///{tmp_path / 'inv.db'}", [peer.pcap])
    assert report.dissected.get("hl7") == 1
    rows = ts.fields(tshark, peer.pcap, "hl7", "ip.src", "hl7.message.type", "hl7.event.type",
                     decode_as=f"tcp.port=={peer.port},hl7")
    expected: dict[str, set[str]] = {}
    for row in rows:
        src, mtype, event = [*row, "", ""][:3]
        if mtype:
            expected.setdefault(src, set()).add(f"{mtype}^{event}" if event else mtype)
    for ip in (CLIENT_IP, SERVER_IP):
        assert facts_of(inventory, _by_ip(inventory, ip))["hl7.message_type"] == expected[ip]
    pump_gateway = _by_ip(inventory, CLIENT_IP)
    assert pump_gateway.value("serial") == "SN7731"
    assert (pump_gateway.value("udi") or "").startswith("(01)00812345678901")


@pytest.mark.parametrize("kind", ["dicom", "hl7"])
def test_analyze_is_idempotent_for_clinical_captures(tmp_path: Path, kind: str) -> None:
    if kind == "dicom":
        pcap = capture_pynetdicom_store(tmp_path, [dicom_file("CT_small.dcm")]).pcap
    else:
        pcap = capture_mllp(tmp_path).pcap
    url = f"sqlite:///{tmp_path / 'inv.db'}"
    inventory, _ = analyze_into(url, [pcap])
    before = {d.id: {n: (a.value, len(a.evidence)) for n, a in d.attributes.items()} for d in inventory.list_devices()}
    inventory, _ = analyze_into(url, [pcap])
    after = {d.id: {n: (a.value, len(a.evidence)) for n, a in d.attributes.items()} for d in inventory.list_devices()}
    assert before == after

"""DICOM dissector: golden PDUs from real encoders, DICOM-TLS, PHI never out, hypothesis fuzz.

Golden bytes come from two places: ``fixtures/dicom/*.bin`` are directions of real associations captured
from dcmtk ``echoscu``/``storescp`` and pynetdicom (C-ECHO, a rejected and an aborted association; no
data set, no patient); the rest is encoded in the test by pynetdicom's own PDU classes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_tool
from tests.peers import dicom as peers
from tests.support.pcap_payloads import mutations
from tests.support.streams import tcp_streams
from wardwatch.dissect.dicom import DISSECTOR, TLS_DISSECTOR
from wardwatch.dissect.dicom.infer import modality_of, roles_of
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.registry import Registry
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "dicom"
CTX = FlowContext(ts=1.0, sensor="t", proto=6, src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02",
                  src_ip="10.0.0.1", dst_ip="10.0.0.2", src_port=40000, dst_port=4242)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def values(obs: list[Observation], kind: str, *, server: bool | None = None) -> set[str]:
    ip = None if server is None else (CTX.dst_ip if server else CTX.src_ip)
    return {o.value for o in obs if o.kind == kind and (ip is None or o.ip == ip)}


def test_dcmtk_echo_golden() -> None:
    # Client: A-ASSOCIATE-RQ "MR_MAGNET" → "ARCHIVE", Verification; P-DATA C-ECHO-RQ; A-RELEASE-RQ.
    client, server = fixture("dcmtk_echo.client.bin"), fixture("dcmtk_echo.server.bin")
    assert DISSECTOR.detect(client, CTX)
    obs = list(DISSECTOR.dissect(CTX, client, server))
    assert values(obs, "dicom.calling_ae", server=False) == {"MR_MAGNET"}
    assert values(obs, "dicom.called_ae", server=True) == {"ARCHIVE"}
    assert values(obs, "dicom.proposed_sop", server=False) == {"1.2.840.10008.1.1"}
    assert values(obs, "dicom.accepted_sop", server=True) == {"1.2.840.10008.1.1"}
    assert values(obs, "dicom.command", server=False) == {"C-ECHO-RQ"}
    assert values(obs, "dicom.command", server=True) == {"C-ECHO-RSP"}
    # dcmtk's implementation class UID root is OFFIS's 1.2.276.0.7230010.3
    assert all(v.startswith("1.2.276.0.7230010.3.") for v in values(obs, "dicom.implementation_uid"))
    assert not values(obs, "dicom.role") and not values(obs, "dicom.modality")  # echo says nothing
    for o in obs:
        assert o.mac in (CTX.src_mac, CTX.dst_mac) and o.excerpt


def test_reject_golden() -> None:
    # Server: 03 00 00000004 00 01 01 07 = A-ASSOCIATE-RJ, permanent, service-user, called AE unknown.
    server = fixture("pynetdicom_reject.server.bin")
    assert server == bytes.fromhex("03000000000400010107")
    obs = list(DISSECTOR.dissect(CTX, fixture("pynetdicom_reject.client.bin"), server))
    assert values(obs, "dicom.reject", server=True) == {
        "rejected-permanent: service-user: called-AE-title-not-recognized"}


def test_encoded_associate_with_pynetdicom() -> None:
    from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import (
        A_ASSOCIATE,
        ImplementationClassUIDNotification,
        ImplementationVersionNameNotification,
        MaximumLengthNotification,
    )
    from pynetdicom.presentation import build_context
    from pynetdicom.transport import AddressInformation

    primitive = A_ASSOCIATE()
    primitive.calling_ae_title = "US_ROOM_3"
    primitive.called_ae_title = "PACS"
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_presentation_address = AddressInformation("10.0.0.1", 40000)
    primitive.called_presentation_address = AddressInformation("10.0.0.2", 4242)
    contexts = [build_context("1.2.840.10008.5.1.4.1.1.6.1"), build_context("1.2.840.10008.5.1.4.1.1.7")]
    for n, cx in enumerate(contexts):
        cx.context_id = 2 * n + 1
    primitive.presentation_context_definition_list = contexts
    max_len, impl, version = MaximumLengthNotification(), ImplementationClassUIDNotification(), \
        ImplementationVersionNameNotification()
    max_len.maximum_length_received = 32768
    impl.implementation_class_uid = "1.2.3.4.5.6"
    version.implementation_version_name = "ACME_US_1"
    primitive.user_information = [max_len, impl, version]
    rq = A_ASSOCIATE_RQ()
    rq.from_primitive(primitive)
    encoded = rq.encode()
    assert DISSECTOR.detect(encoded, CTX)
    # No commands seen: two proposals (US, SC) are few enough to guess from, at lower confidence.
    obs = list(DISSECTOR.dissect(CTX, encoded, b""))
    assert values(obs, "dicom.max_pdu") == {"32768"}
    assert values(obs, "dicom.implementation_version") == {"ACME_US_1"}
    assert values(obs, "dicom.modality") == {"US", "OT"}
    assert all((o.confidence or 1) < 0.6 for o in obs if o.kind in ("dicom.role", "dicom.modality"))
    _ = A_ASSOCIATE_AC  # the AC side is covered by the captured fixtures


def test_tables_from_pydicom_names() -> None:
    assert modality_of("1.2.840.10008.5.1.4.1.1.2") == ("CT", True)  # CT Image Storage
    assert modality_of("1.2.840.10008.5.1.4.1.1.2.1") == ("CT", True)  # Enhanced CT
    assert modality_of("1.2.840.10008.5.1.4.1.1.128") == ("PT", True)
    assert modality_of("1.2.840.10008.5.1.4.1.1.1.2") == ("MG", True)
    assert modality_of("1.2.840.10008.5.1.4.1.1.1.1") == ("DX", True)
    assert modality_of("1.2.840.10008.5.1.4.1.1.12.2") == ("RF", True)
    assert modality_of("1.2.840.10008.5.1.4.1.1.9.1.1") == ("ECG", True)
    assert modality_of("1.2.840.10008.5.1.4.1.1.7") == ("OT", False)
    assert modality_of("1.2.840.10008.5.1.4.31") is None
    roles = roles_of("1.2.840.10008.5.1.1.9")  # Basic Grayscale Print Management Meta
    assert roles is not None and roles.client == "print_scu"
    roles = roles_of("1.2.840.10008.5.1.4.1.2.2.2")  # Study Root Q/R MOVE
    assert roles is not None and (roles.client, roles.server) == ("workstation", "pacs_archive")
    assert roles_of("9.9.9") is None and modality_of("not a uid") is None


def test_not_dicom() -> None:
    http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    assert not DISSECTOR.detect(http, CTX)
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, http, b""))
    # A P-DATA-TF first is DICOM-shaped but not the start of an association.
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, bytes.fromhex("04000000000600000002"), b""))


def test_dicom_tls_on_2762() -> None:
    hello = bytes.fromhex("16030100f4010000f00303") + bytes(240)
    ctx = FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.0.0.1",
                      dst_ip="10.0.0.2", src_port=50000, dst_port=2762)
    assert TLS_DISSECTOR.detect(hello, ctx)
    assert not TLS_DISSECTOR.detect(hello, CTX)  # TLS elsewhere is just TLS
    assert not DISSECTOR.detect(hello, ctx)
    obs = list(TLS_DISSECTOR.dissect(ctx, hello, bytes.fromhex("160303004a02")))
    assert {(o.ip, o.kind, o.value) for o in obs} == {
        ("10.0.0.2", "dicom.tls", "true"), ("10.0.0.1", "dicom.tls", "true")}
    with pytest.raises(ParseError):
        list(TLS_DISSECTOR.dissect(ctx, b"\x01\x00\x00\x00", b""))


def test_registry_labels_dicom_tls() -> None:
    """The dicom-tls object is importable for the entry point the integrator registers."""
    registry = Registry([DISSECTOR, TLS_DISSECTOR])
    hello = bytes.fromhex("16030100f4010000f00303") + bytes(240)
    ctx = FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.0.0.1",
                      dst_ip="10.0.0.2", src_port=50000, dst_port=2762)
    app, obs = registry.dissect(TLS_DISSECTOR.shape, ctx, hello, b"")
    assert app == "dicom-tls" and obs


@pytest.fixture(scope="module")
def phi_captures(tmp_path_factory: pytest.TempPathFactory) -> list[peers.PeerCapture]:
    require_tool("tcpdump")
    tmp = tmp_path_factory.mktemp("phi")
    ct = peers.with_phi(peers.testdata("CT_small.dcm"), tmp / "ct_phi.dcm")
    out = [peers.capture_pynetdicom_store(tmp, [ct]), peers.capture_pynetdicom_worklist_mpps(tmp)]
    if require_tool("wlmscpfs"):
        out.append(peers.capture_dcmtk_worklist(tmp))
    return out


def test_phi_never_leaves(phi_captures: list[peers.PeerCapture], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    registry = Registry([DISSECTOR])
    seen_on_wire = 0
    everything: list[Observation] = []
    for capture in phi_captures:
        for stream in tcp_streams(capture.pcap):
            wire = stream.client_bytes + stream.server_bytes
            seen_on_wire += any(v.encode() in wire for v in peers.PHI.values())
            everything += list(DISSECTOR.dissect(stream.ctx(), stream.client_bytes, stream.server_bytes))
            # and through the registry, which logs refusals at DEBUG
            registry.dissect(DISSECTOR.shape, stream.ctx(), stream.client_bytes, stream.server_bytes)
            registry.dissect(DISSECTOR.shape, stream.ctx(), stream.server_bytes, stream.client_bytes)
    assert seen_on_wire >= len(phi_captures)  # the patient really travelled
    assert everything
    text = "\n".join(f"{o.kind} {o.value} {o.excerpt}" for o in everything) + caplog.text
    for needle in (*peers.PHI.values(), "Quixotebottom", "Dulcinea", "48151623"):
        assert needle not in text


SEEDS = [fixture(n) for n in sorted(p.name for p in FIXTURES.glob("*.client.bin"))]
SERVER_SEEDS = [fixture(n) for n in sorted(p.name for p in FIXTURES.glob("*.server.bin"))]


def _check(client: bytes, server: bytes) -> None:
    try:
        obs = list(DISSECTOR.dissect(CTX, client, server))
    except ParseError:
        return
    assert len(obs) <= 512
    for o in obs:
        assert len(o.value) <= 512


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(data) - 1))
        if op == 0:
            data[pos] = draw(st.integers(0, 255))
        elif op == 1:
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == 2:
            data[pos:pos] = draw(st.binary(max_size=64))
        else:
            edge = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff"]
            data[pos : pos + 4] = draw(st.sampled_from(edge))
    return bytes(data)


@pytest.mark.filterwarnings("error")  # pydicom must never warn (its warnings quote values)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=mutated(SEEDS), server=mutated(SERVER_SEEDS))
def test_fuzz_mutated(client: bytes, server: bytes) -> None:
    DISSECTOR.detect(client, CTX)
    _check(client, server)


@settings(max_examples=200, deadline=None)
@given(client=st.binary(max_size=512), server=st.binary(max_size=256))
def test_fuzz_random(client: bytes, server: bytes) -> None:
    DISSECTOR.detect(client, CTX)
    _check(b"\x01\x00" + client, server)
    _check(client, server)


def _element(tag: int, value: bytes) -> bytes:
    """Implicit VR Little Endian element (PS3.5 §7.1.3): group, element, 4-byte length, value."""
    import struct

    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


# A C-STORE-RQ command set (PS3.7 §9.3.1.1): affected SOP CT Image Storage, command field 0x0001,
# message ID 7, priority 0, data set present (0x0000), affected SOP instance "1.2.3".
_BODY = (_element(0x00000002, b"1.2.840.10008.5.1.4.1.1.2\x00") + _element(0x00000100, b"\x01\x00")
         + _element(0x00000110, b"\x07\x00") + _element(0x00000700, b"\x00\x00")
         + _element(0x00000800, b"\x00\x00") + _element(0x00001000, b"1.2.3\x00"))
C_STORE_RQ = _element(0x00000000, len(_BODY).to_bytes(4, "little")) + _BODY


def test_command_set_read_without_pydicom() -> None:
    from wardwatch.dissect.dicom.dimse import decode_command

    cmd = decode_command(C_STORE_RQ, 1)
    assert cmd is not None and (cmd.name, cmd.sop_class) == ("C-STORE-RQ", "1.2.840.10008.5.1.4.1.1.2")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutations([C_STORE_RQ]))
def test_command_fast_reader_agrees_with_pydicom(raw: bytes) -> None:
    """Wherever the direct reader answers, pydicom's reader finds the same three values."""
    from wardwatch.dissect.dicom import dimse

    fast = dimse._implicit_elements(raw)
    if fast is None:
        return
    slow = dimse._pydicom_elements(raw)
    for tag in (dimse._TAG_COMMAND_FIELD, dimse._TAG_AFFECTED_SOP, dimse._TAG_REQUESTED_SOP):
        assert fast.get(tag, b"") == slow[tag]

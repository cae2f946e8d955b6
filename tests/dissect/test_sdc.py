"""SDC dissectors: a real sdc11073 provider and consumer in a network namespace, captured; golden
WS-Discovery datagrams and GetMetadata bodies from that capture (``fixtures/sdc``); hostile XML; fuzz.

The oracle for the MDIB fields is the published MDIB file itself (read here with ElementTree), and for
the DPWS fields what the provider was configured with (``tests.peers.sdc.THIS_MODEL/THIS_DEVICE``).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared, require_tool
from tests.peers import sdc as peers
from tests.support.pcap_payloads import udp_datagrams
from tests.support.streams import tcp_streams
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.dissect.registry import Registry
from wardwatch.dissect.sdc import DISSECTOR, SOAP_DISSECTOR, safe_scope
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures" / "sdc"
UDP = FlowContext(ts=1.0, sensor="t", proto=17, src_mac=None, dst_mac=None, src_ip="10.1.0.5",
                  dst_ip="239.255.255.250", src_port=50000, dst_port=3702)
TCP = FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.1.0.9",
                  dst_ip="10.1.0.5", src_port=50001, dst_port=6464)
PM = "{http://standards.ieee.org/downloads/11073/11073-10207-2017/participant}"
MDIB = ("sdc-mdib", "tests_70041_MDIB_Final.xml")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def values(obs: list[Observation], kind: str, ip: str | None = None) -> set[str]:
    return {o.value for o in obs if o.kind == kind and (ip is None or o.ip == ip)}


def mdib_truth(path: Path) -> dict[str, str]:
    """The MDS Type code and MetaData of the MDIB file (the trusted oracle, read directly)."""
    root = ET.parse(path).getroot()
    mds = next(e for e in root.iter() if e.tag == f"{PM}Mds")
    meta = mds.find(f"{PM}MetaData")
    assert meta is not None
    return {"mds_type": mds.find(f"{PM}Type").get("Code", ""),  # type: ignore[union-attr]
            "manufacturer": (meta.findtext(f"{PM}Manufacturer") or "").strip(),
            "model": (meta.findtext(f"{PM}ModelName") or "").strip()}


@pytest.fixture(scope="module")
def sdc_capture(tmp_path_factory: pytest.TempPathFactory) -> peers.SdcCapture:
    require_tool("tcpdump")
    if not peers.netns_available():
        pytest.skip("needs root and iproute2 for a network namespace")
    mdib = require_shared(*MDIB)
    return peers.capture_sdc(tmp_path_factory.mktemp("sdc"), mdib)


def test_ws_discovery_from_real_provider(sdc_capture: peers.SdcCapture) -> None:
    obs: list[Observation] = []
    for datagram in udp_datagrams(sdc_capture.pcap):
        if DISSECTOR.detect(datagram.payload, datagram.ctx):
            obs += list(DISSECTOR.dissect(datagram.ctx, datagram.payload, b""))
    provider, consumer = peers.PROVIDER_IP, peers.CONSUMER_IP
    assert {"Hello", "ProbeMatches", "Bye"} <= values(obs, "sdc.message", provider)
    assert values(obs, "sdc.role", provider) == {"provider"}
    assert values(obs, "sdc.message", consumer) == {"Probe"}
    assert values(obs, "sdc.role", consumer) == {"consumer"}
    assert values(obs, "sdc.epr", provider) == {peers.EPR}
    assert "{http://standards.ieee.org/downloads/11073/11073-20702-2016}MedicalDevice" in values(
        obs, "sdc.types", provider)
    [xaddr] = values(obs, "sdc.xaddrs", provider)
    assert xaddr.startswith(f"http://{provider}:")
    scopes = values(obs, "sdc.scopes", provider)
    assert any(s.startswith("sdc.ctxt.loc:") and "bed=Bed7" in s for s in scopes)
    assert f"sdc.cdc.type:/urn%3Aoid%3A1.2.840.10004.1.1.1.0.0.1//{mdib_truth(sdc_capture.mdib)['mds_type']}" \
        in scopes


def test_metadata_and_mdib_from_real_provider(sdc_capture: peers.SdcCapture) -> None:
    [stream] = [s for s in tcp_streams(sdc_capture.pcap)
                if s.server[0] == peers.PROVIDER_IP and SOAP_DISSECTOR.detect(s.client_bytes, s.ctx())]
    obs = list(SOAP_DISSECTOR.dissect(stream.ctx(), stream.client_bytes, stream.server_bytes))
    assert all(o.ip == peers.PROVIDER_IP for o in obs)  # responses describe the provider
    truth = mdib_truth(sdc_capture.mdib)
    assert values(obs, "sdc.manufacturer") == {peers.THIS_MODEL["manufacturer"], truth["manufacturer"]}
    assert values(obs, "sdc.model") == {peers.THIS_MODEL["model_name"], truth["model"]}
    assert peers.THIS_MODEL["model_number"] in values(obs, "sdc.model_number")
    assert values(obs, "sdc.serial") == {peers.THIS_DEVICE["serial_number"]}
    assert values(obs, "sdc.firmware") == {peers.THIS_DEVICE["firmware_version"]}
    assert values(obs, "sdc.friendly_name") == {peers.THIS_DEVICE["friendly_name"]}
    assert values(obs, "sdc.mds_type") == {truth["mds_type"]}
    assert values(obs, "sdc.epr") == {peers.EPR}


def test_registry_routes_both_shapes(sdc_capture: peers.SdcCapture) -> None:
    registry = Registry([DISSECTOR, SOAP_DISSECTOR])
    hello = fixture("wsd_hello.xml")
    assert registry.select(InputShape.DATAGRAM, hello, UDP) == [DISSECTOR]
    request = fixture("getmetadata_request.http")
    assert registry.select(InputShape.STREAM, request, TCP) == [SOAP_DISSECTOR]
    app, obs = registry.dissect(InputShape.STREAM, TCP, request, fixture("getmetadata_response.http"))
    assert app == "sdc" and values(obs, "sdc.manufacturer", TCP.dst_ip)


def test_golden_datagrams() -> None:
    # A Hello captured from sdc11073: EPR, DPWS Device + MedicalDevice types, location scope, XAddrs.
    obs = list(DISSECTOR.dissect(UDP, fixture("wsd_hello.xml"), b""))
    assert values(obs, "sdc.message") == {"Hello"}
    assert values(obs, "sdc.epr") == {peers.EPR}
    assert len(values(obs, "sdc.types")) == 2
    probe = list(DISSECTOR.dissect(UDP, fixture("wsd_probe.xml"), b""))
    assert values(probe, "sdc.role") == {"consumer"} and not values(probe, "sdc.epr")
    matches = list(DISSECTOR.dissect(UDP, fixture("wsd_probematches.xml"), b""))
    assert values(matches, "sdc.message") == {"ProbeMatches"} and values(matches, "sdc.xaddrs")


def test_gzip_chunked_and_truncated_bodies() -> None:
    response = fixture("getmetadata_response.http")
    body = response.split(b"\r\n\r\n", 1)[1]
    packed = gzip.compress(body)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(packed[i:i + 500]), packed[i:i + 500])
                      for i in range(0, len(packed), 500)) + b"0\r\n\r\n"
    chunked = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    request = fixture("getmetadata_request.http")
    full = list(SOAP_DISSECTOR.dissect(TCP, request, chunked))
    assert values(full, "sdc.model") == {peers.THIS_MODEL["model_name"]}
    # cut inside the body: ThisModel came early and survives, nothing raises
    cut = response[: response.index(b"</dpws:ThisModel>") + 40]
    partial = list(SOAP_DISSECTOR.dissect(TCP, request, cut))
    assert values(partial, "sdc.manufacturer") == {peers.THIS_MODEL["manufacturer"]}


def test_patient_and_operator_scopes_are_dropped() -> None:
    assert safe_scope("sdc.ctxt.loc:/sdc.ctxt.loc.detail/H%2F%2F%2FICU%2F%2FBed1?fac=H&bed=Bed1")
    assert not safe_scope("sdc.ctxt.pat:/1.2.3/MRN-48151623")
    assert not safe_scope("sdc.ctxt.opr:/1.2.3/nurse-7")
    hello = fixture("wsd_hello.xml").replace(
        b"sdc.mds.pkp:", b"sdc.ctxt.pat:/1.2.3/Quixotebottom-MRN-48151623 sdc.mds.pkp:")
    obs = list(DISSECTOR.dissect(UDP, hello, b""))
    assert values(obs, "sdc.scopes") and not any("48151623" in o.value + o.excerpt for o in obs)


def test_mdib_patient_context_never_read(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = require_shared("sdc-mdib", "tests_mdib_tns.xml")
    body = path.read_bytes()
    assert b"Familiy" in body and b"Birthname" in body  # the file's patient CoreData
    response = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/xml\r\n"
                b"Content-Length: %d\r\n\r\n" % len(gzip.compress(body)) + gzip.compress(body))
    obs = list(SOAP_DISSECTOR.dissect(TCP, fixture("getmetadata_request.http"), response))
    text = "\n".join(o.value + " " + o.excerpt for o in obs) + caplog.text
    assert "Familiy" not in text and "Birthname" not in text and "Middle" not in text


@pytest.mark.parametrize("payload", [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b'<Envelope xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"><d:Hello>&d;</d:Hello></Envelope>',
    # external entity
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<Envelope xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"><d:Hello><d:Scopes>&e;'
    b'</d:Scopes></d:Hello></Envelope>',
])
def test_hostile_xml(payload: bytes) -> None:
    start = time.monotonic()
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(UDP, payload, b""))
    assert time.monotonic() - start < 2


def test_gzip_bomb_is_capped() -> None:
    bomb = gzip.compress(b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>")
    response = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb) + bomb
    assert list(SOAP_DISSECTOR.dissect(TCP, fixture("getmetadata_request.http"), response)) == []


def test_not_sdc() -> None:
    assert not DISSECTOR.detect(b"M-SEARCH * HTTP/1.1\r\n", UDP)
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(UDP, b"<x/>", b""))
    assert not SOAP_DISSECTOR.detect(b"GET / HTTP/1.1\r\n\r\n", TCP)
    with pytest.raises(ParseError):
        list(SOAP_DISSECTOR.dissect(TCP, b"GET / HTTP/1.1\r\n\r\n", b""))


DATAGRAM_SEEDS = [fixture(n) for n in ("wsd_hello.xml", "wsd_probe.xml", "wsd_probematches.xml", "wsd_bye.xml")]
STREAM_SEEDS = [fixture("getmetadata_response.http")]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.integers(0, 2))
        if op == 0 and data:
            data[pos] = draw(st.sampled_from([ord(c) for c in "<>/&;:\"= \r\n"] + [0, 0xFF]))
        elif op == 1:
            del data[pos : pos + draw(st.integers(1, 200))]
        else:
            data[pos:pos] = draw(st.sampled_from([b"<!DOCTYPE x>", b"&amp;", b"]]>", b"<a:b xmlns:a='u'>",
                                                  b"\r\n\r\n", b"Content-Length: 99999999\r\n"]))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=mutated(DATAGRAM_SEEDS))
def test_fuzz_datagrams(payload: bytes) -> None:
    DISSECTOR.detect(payload, UDP)
    try:
        obs = list(DISSECTOR.dissect(UDP, payload, b""))
    except ParseError:
        return
    assert len(obs) <= 512


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(server=mutated(STREAM_SEEDS), client=st.sampled_from([fixture("getmetadata_request.http")]))
def test_fuzz_streams(client: bytes, server: bytes) -> None:
    obs = list(SOAP_DISSECTOR.dissect(TCP, client, server))
    assert len(obs) <= 512


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_fuzz_random(data: bytes) -> None:
    wsd = b'<d xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01">'
    for payload in (data, b"<" + data, wsd + data):
        DISSECTOR.detect(payload, UDP)
        with contextlib.suppress(ParseError):
            list(DISSECTOR.dissect(UDP, payload, b""))
    list(SOAP_DISSECTOR.dissect(TCP, fixture("getmetadata_request.http"), data))

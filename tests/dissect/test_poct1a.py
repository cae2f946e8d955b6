"""POCT1-A: the real Siemens DCA Vantage conversation (pcapng), PHI absence, safety and fuzzing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from tests.support.streams import tcp_streams
from tests.support.tshark import fields
from wardwatch.dissect.interface import FlowContext
from wardwatch.dissect.poct1a import DISSECTOR, MAX_DOCUMENT
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError
from wardwatch.identify.fingerprint import RuleSet


@pytest.fixture(scope="module")
def conversation() -> tuple[FlowContext, bytes, bytes]:
    # the capture holds the conversation and a second, empty connection
    stream = next(s for s in tcp_streams(require_shared("poct1a", "dca_basic_conversation_flow.pcapng"))
                  if s.client_bytes)
    return stream.ctx(), stream.client_bytes, stream.server_bytes


def _facts(obs: list[Observation], ip: str | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for o in obs:
        if o.ip == ip:
            out.setdefault(o.kind, set()).add(o.value)
    return out


def test_real_dca_vantage_is_identified(conversation: tuple[FlowContext, bytes, bytes]) -> None:
    ctx, client, server = conversation
    assert DISSECTOR.detect(client, ctx)
    obs = list(DISSECTOR.dissect(ctx, client, server))
    device = _facts(obs, ctx.src_ip)
    assert ctx.src_ip == "192.168.2.111"  # the analyzer opened the connection (MANIFEST)
    assert device["poct1a.model"] == {"DCA Vantage"}
    assert device["poct1a.vendor"] == {"SIEM"}
    assert device["poct1a.software_version"] == {"4.4.0.0"}
    assert device["poct1a.role"] == {"device"}
    assert {"HEL.R01", "DST.R01", "OBS.R01", "EOT.R01"} <= device["poct1a.message_type"]
    assert _facts(obs, ctx.dst_ip)["poct1a.role"] == {"data_manager"}
    (best, *_) = RuleSet.load_default().evaluate(device)
    assert best.rule_id == "siemens-dca-vantage.poct1a"
    assert best.attributes["vendor"] == "Siemens Healthineers"
    assert best.attributes["model"] == "DCA Vantage"
    assert best.attributes["software"] == "4.4.0.0"
    assert best.attributes["device_class"] == "poc_analyzer"


def test_message_types_equal_tshark_xml(conversation: tuple[FlowContext, bytes, bytes], tshark: str) -> None:
    """tshark's XML dissector (decode-as on port 3001) sees the same POCT1 root elements per direction."""
    path = require_shared("poct1a", "dca_basic_conversation_flow.pcapng")
    theirs: dict[str, set[str]] = {}
    for src, tags in fields(tshark, path, "xml", "ip.src", "xml.tag", decode_as="tcp.port==3001,xml"):
        for root in re.findall(r"<([A-Z]{3}\.R0\d)>", tags):
            theirs.setdefault(src, set()).add(root)
    ctx, client, server = conversation
    obs = list(DISSECTOR.dissect(ctx, client, server))
    ours = {ip: _facts(obs, ip).get("poct1a.message_type", set()) for ip in (ctx.src_ip, ctx.dst_ip)}
    assert theirs and ours == {ip: theirs.get(ip or "", set()) for ip in ours}


def test_no_patient_or_result_field_survives(conversation: tuple[FlowContext, bytes, bytes]) -> None:
    ctx, client, server = conversation
    marker_pt, marker_op = "PTZQ-4471-DOE^JANE", "OPERATOR-XK-98"
    hostile = client.replace(b'<PT.patient_id V="1" />', f'<PT.patient_id V="{marker_pt}" />'.encode())
    hostile = hostile.replace(b"<SVC>", f'<SVC><OPR><OPR.operator_id V="{marker_op}" /></OPR>'.encode(), 1)
    assert marker_pt.encode() in hostile and marker_op.encode() in hostile
    obs = list(DISSECTOR.dissect(ctx, hostile, server))
    text = repr([o.to_dict() for o in obs])
    for needle in (marker_pt, marker_op, "HbA1c", "mmol/mol", "0852", "eAG", "183"):
        assert needle not in text
    allowed = {"poct1a.message_type", "poct1a.role", "poct1a.vendor", "poct1a.manufacturer", "poct1a.model",
               "poct1a.serial", "poct1a.software_version", "poct1a.hardware_version"}
    assert {o.kind for o in obs} <= allowed


def test_entities_and_oversize_are_refused() -> None:
    ctx = FlowContext(0.0, "t", 6, None, None, "10.0.0.1", "10.0.0.2", 1000, 3001)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE HEL.R01 [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<HEL.R01><DEV><DEV.model_id V="&b;"/></DEV></HEL.R01>')
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(ctx, bomb, b""))
    big = b'<?xml version="1.0"?><HEL.R01><DEV><DEV.model_id V="' + b"x" * MAX_DOCUMENT + b'"/></DEV></HEL.R01>'
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(ctx, big, b""))


def _seeds() -> Iterator[bytes]:
    folder = require_shared("poct1a", "DERIVED_dca_vantage_messages")
    for path in sorted(folder.glob("*.xml")):
        yield path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_random_and_mutated(data: st.DataObject) -> None:
    seeds = list(_seeds())
    seed = data.draw(st.sampled_from(seeds))
    mode = data.draw(st.sampled_from(["random", "flip", "cut", "splice"]))
    if mode == "random":
        raw = data.draw(st.binary(max_size=2048))
    elif mode == "flip":
        pos = data.draw(st.integers(0, len(seed) - 1))
        raw = seed[:pos] + bytes([data.draw(st.integers(0, 255))]) + seed[pos + 1 :]
    elif mode == "cut":
        raw = seed[: data.draw(st.integers(0, len(seed)))]
    else:
        other = data.draw(st.sampled_from(seeds))
        raw = seed[: data.draw(st.integers(0, len(seed)))] + other[data.draw(st.integers(0, len(other))) :]
    ctx = FlowContext(0.0, "t", 6, None, None, "10.0.0.1", "10.0.0.2", 1000, 3001)
    DISSECTOR.detect(raw, ctx)
    try:
        obs = list(DISSECTOR.dissect(ctx, raw, b""))
    except ParseError:
        return
    assert all(o.kind.startswith("poct1a.") and len(o.value) <= 512 for o in obs)

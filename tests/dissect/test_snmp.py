"""SNMP dissector: golden BER, hostile BER, community masking, differential against tshark, fuzzing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA, require_shared
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from tests.support.tshark import Pairs, tshark_tree
from wardwatch.dissect._wire import ber
from wardwatch.dissect.snmp import DISSECTOR, SYSTEM, mask_community
from wardwatch.errors import ParseError


def tlv(tag: int, content: bytes) -> bytes:
    """One BER element with a definite length (X.690 §8.1.3)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    long_form = bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([tag]) + long_form + content


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, (arc & 0x7F) | 0x80)
        out += bytes(chunk)
    return tlv(0x06, bytes(out))


# SNMPv2c GetResponse (RFC 3416 §3), as a patient monitor answers a walk of the system group:
#   30 ..  SEQUENCE
#     02 01 01               version 1 = v2c
#     04 06 "public"         community
#     a2 ..                  GetResponse-PDU: request-id 02 01 2a, error-status 02 01 00, error-index 02 01 00
#       30 .. 30 .. 06 08 2b06010201010100  04 .. "Philips IntelliVue MX800"   sysDescr.0
#             30 .. 06 08 2b06010201010200  06 .. 1.3.6.1.4.1.311.1            sysObjectID.0
#             30 .. 06 08 2b06010201010500  04 .. "icu-bed-12"                 sysName.0
def response(community: bytes = b"public", version: int = 1) -> bytes:
    varbinds = b"".join([
        tlv(0x30, oid("1.3.6.1.2.1.1.1.0") + tlv(0x04, b"Philips IntelliVue MX800")),
        tlv(0x30, oid("1.3.6.1.2.1.1.2.0") + oid("1.3.6.1.4.1.311.1")),
        tlv(0x30, oid("1.3.6.1.2.1.1.5.0") + tlv(0x04, b"icu-bed-12")),
        tlv(0x30, oid("1.3.6.1.2.1.1.3.0") + tlv(0x43, b"\x01\x00")),  # sysUpTime: not kept
    ])
    pdu = tlv(0xA2, tlv(0x02, b"\x2a") + tlv(0x02, b"\0") + tlv(0x02, b"\0") + tlv(0x30, varbinds))
    return tlv(0x30, tlv(0x02, bytes([version])) + tlv(0x04, community) + pdu)


# SNMPv1 Trap-PDU (RFC 1157 §4.1.6): enterprise 1.3.6.1.4.1.31337, agent-addr 40 04 0a000007,
# generic-trap 0 (coldStart), specific-trap 0, time-stamp 43 01 00, no varbinds
TRAP = tlv(0x30, tlv(0x02, b"\0") + tlv(0x04, b"s3cr3tcomm") + tlv(0xA4, oid("1.3.6.1.4.1.31337")
           + tlv(0x40, bytes([10, 0, 0, 7])) + tlv(0x02, b"\0") + tlv(0x02, b"\0") + tlv(0x43, b"\0")
           + tlv(0x30, b"")))
GET = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, b"private") + tlv(0xA0, tlv(0x02, b"\x01") + tlv(0x02, b"\0")
          + tlv(0x02, b"\0") + tlv(0x30, tlv(0x30, oid("1.3.6.1.2.1.1.1.0") + tlv(0x05, b"")))))


def facts(data: bytes, **kw: Any) -> dict[str, str]:
    return {o.kind: o.value for o in DISSECTOR.dissect(context(**kw), data, b"")}


def test_golden_response() -> None:
    found = list(DISSECTOR.dissect(context(sport=161, dport=40000), response(), b""))
    assert {o.kind: o.value for o in found} == {
        "snmp.version": "2c", "snmp.community": "public", "snmp.sysdescr": "Philips IntelliVue MX800",
        "snmp.sysobjectid": "1.3.6.1.4.1.311.1", "snmp.sysname": "icu-bed-12"}
    assert {o.ip for o in found} == {"192.0.2.10"}  # the sender, the agent


def test_golden_v1_trap_and_masked_community() -> None:
    assert facts(TRAP, dport=162) == {"snmp.version": "1", "snmp.community": "s********m",
                                      "snmp.enterprise": "1.3.6.1.4.1.31337", "snmp.agent_addr": "10.0.0.7"}


def test_request_is_about_the_agent_it_asks() -> None:
    found = list(DISSECTOR.dissect(context(dport=161), GET, b""))
    assert {(o.kind, o.value) for o in found} == {("snmp.version", "2c"), ("snmp.community", "private")}
    assert {o.ip for o in found} == {"192.0.2.1"}


@pytest.mark.parametrize(("raw", "shown"), [(b"public", "public"), (b"PRIVATE", "PRIVATE"), (b"ab", "**"),
                                            (b"abc", "a*c"), (b"Hosp1tal!", "H*******!")])
def test_mask_community(raw: bytes, shown: str) -> None:
    assert mask_community(raw) == shown


@pytest.mark.parametrize("data", [
    b"\x30\x84\xff\xff\xff\xff\x02\x01\x01",  # length bomb: 4 GB claimed
    b"\x30\x85\x01\x00\x00\x00\x00",  # five length octets
    b"\x30\x80\x02\x01\x01\x00\x00",  # indefinite length
    b"\x30" * 4000,  # deep nesting that never closes
    response(version=7),
    response()[:-3],  # truncated inside the last varbind
])
def test_hostile_ber_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(), data, b""))


def test_overlong_oid_arc_is_refused_but_spoils_only_its_varbind() -> None:
    overlong = b"\x06\x0c\x2b" + b"\xff" * 10 + b"\x01"  # one arc of 11 octets (77 bits)
    with pytest.raises(ParseError):
        ber.decode_oid(overlong, ber.read_tlv(overlong, 0, len(overlong)))
    bad = tlv(0x30, tlv(0x06, b"\x2b" + b"\xff" * 11 + b"\x01") + tlv(0x04, b"x"))
    good = tlv(0x30, oid("1.3.6.1.2.1.1.5.0") + tlv(0x04, b"ok"))
    pdu = tlv(0xA2, tlv(0x02, b"\x01") + tlv(0x02, b"\0") + tlv(0x02, b"\0") + tlv(0x30, bad + good))
    data = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, b"public") + pdu)
    assert facts(data)["snmp.sysname"] == "ok"


def test_detect() -> None:
    assert DISSECTOR.detect(response(), context())
    assert not DISSECTOR.detect(b"\x30\x03\x02\x01\x05", context())
    assert not DISSECTOR.detect(b"NOTIFY * HTTP/1.1", context())


# --- differential against tshark ----------------------------------------------------------------

CAPTURES = sorted(p.relative_to(SHARED_DATA) for p in (SHARED_DATA / "zeek-traces").glob("snmp_*")) or [
    Path("zeek-traces/snmp_snmpwalk-short.pcap")]


def _varbinds(node: Any) -> list[Pairs]:
    """Every object in tshark's tree that carries an ``snmp.name`` (one variable binding)."""
    found: list[Pairs] = []
    if isinstance(node, list) and all(isinstance(p, tuple) for p in node):
        keys = [k for k, _ in node]
        if "snmp.name" in keys:
            found.append(node)
        for _, value in node:
            found += _varbinds(value)
    return found


def _expected(layer: Pairs) -> dict[str, str]:
    top = dict(layer)
    out: dict[str, str] = {}
    data = dict(top.get("snmp.data_tree", []))
    if "snmp.get_response_element" not in data and "snmp.trap_element" not in data \
            and "snmp.snmpV2_trap_element" not in data:
        return out
    for vb in _varbinds(layer):
        vbd = dict(vb)
        kind = SYSTEM.get(vbd["snmp.name"])
        if kind == "snmp.sysobjectid" and "snmp.value.oid" in vbd:
            out[kind] = vbd["snmp.value.oid"]
        elif kind and kind != "snmp.sysobjectid" and "snmp.value.octets" in vbd:
            out[kind] = bytes.fromhex(vbd["snmp.value.octets"].replace(":", "")).decode()
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_system_group_matches_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    expected = {frame: _expected(layer) for frame, layer in tshark_tree(tshark, path, "snmp", "snmp")}
    compared = 0
    for dg in udp_datagrams(path):
        if dg.frame not in expected:
            continue
        try:
            ours = {o.kind: o.value for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"") if o.kind in
                    SYSTEM.values()}
        except ParseError:
            ours = {}
        assert ours == expected[dg.frame], f"frame {dg.frame}"
        compared += bool(ours)
    if capture.name in ("snmp_snmpwalk-short.pcap", "snmp_snmpv1_get.pcap"):
        assert compared


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_version_and_community_match_tshark(capture: Path, tshark: str) -> None:
    from tests.support import tshark as oracle

    path = require_shared(*capture.parts)
    rows = oracle.fields(tshark, path, "snmp && snmp.version != 3", "frame.number", "snmp.version",
                         "snmp.community")
    expected = {int(f): (v, c) for f, v, c in rows}
    for dg in udp_datagrams(path):
        if dg.frame in expected:
            version, community = expected[dg.frame]
            got = {o.kind: o.value for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"")}
            assert got["snmp.version"] == {"0": "1", "1": "2c"}[version]
            assert got.get("snmp.community", "") == (mask_community(community.encode()) if community else "")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), mutations([response(), TRAP, GET])))
def test_fuzz_only_parse_errors(data: bytes) -> None:
    run_guarded(DISSECTOR, data, context(dport=161))


def test_real_hostile_traces_do_not_crash() -> None:
    for name in ("snmp_snmp-crash-62790.pcap", "snmp_snmp-oid-subidentifier-too-long.pcap"):
        path = require_shared("zeek-traces", name)
        for dg in udp_datagrams(path):
            run_guarded(DISSECTOR, dg.payload, dg.ctx)

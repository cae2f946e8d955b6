"""DNS / mDNS dissector: golden bytes, compression guards, differential against tshark, fuzzing."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from tests.support.tshark import Pairs, pairs_get, tshark_tree
from wardwatch.dissect._wire.dnsmsg import fast_query_text, name_text, parse_message, plain_query_name, read_name
from wardwatch.dissect.dns import DISSECTOR, MDNS_PORT, TXT_KEYS
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError

MDNS = {"dst_ip": "224.0.0.251", "sport": 5353, "dport": 5353}


def wire(name: str) -> bytes:
    """A name in uncompressed wire form (RFC 1035 §3.1)."""
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def rr(name: str, rtype: int, rdata: bytes, rclass: int = 0x8001) -> bytes:
    return wire(name) + struct.pack("!HHIH", rtype, rclass, 120, len(rdata)) + rdata


def message(flags: int, questions: list[bytes], answers: list[bytes], authority: list[bytes] = (),  # type: ignore[assignment]
            additional: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    header = struct.pack("!HHHHHH", 0, flags, len(questions), len(answers), len(authority), len(additional))
    return header + b"".join([*questions, *answers, *authority, *additional])


# A hand-compressed mDNS response (RFC 1035 §4.1.4 pointers), as a printer announces itself:
#   0000 0000 8400 0000 0002 0000 0000      id 0, QR|AA, 0 questions, 2 answers
#   @12  04"_ipp" 04"_tcp" 05"local" 00       owner "_ipp._tcp.local"
#        000c 0001 00001194 000a             PTR IN ttl 4500 rdlength 10
#   @39  07"Printer" c00c                     -> "Printer._ipp._tcp.local" (pointer to 12)
#   @49  c027                                 owner: pointer to 39 "Printer._ipp._tcp.local"
#        0010 8001 00001194 0013             TXT IN|flush rdlength 19
#        0a"ty=Acme X1" 07"note=hi"          two strings; "note" is not allow-listed
GOLDEN_COMPRESSED = bytes.fromhex(
    "000084000000000200000000"
    "045f697070045f746370056c6f63616c00" "000c00010000119400" "0a" "075072696e746572c00c"
    "c027" "0010800100001194" "0013" "0a" + b"ty=Acme X1".hex() + "07" + b"note=hi".hex()
)


def facts(data: bytes, **ctx: object) -> set[tuple[str, str]]:
    return {(o.kind, o.value) for o in DISSECTOR.dissect(context(**ctx), data, b"")}  # type: ignore[arg-type]


def test_golden_compressed_response() -> None:
    assert facts(GOLDEN_COMPRESSED, **MDNS) == {
        ("mdns.service", "_ipp._tcp.local"),
        ("mdns.instance", "Printer._ipp._tcp.local"),
        ("mdns.txt.ty", "Acme X1"),
    }


def test_dns_sd_announcement_all_sections() -> None:
    inst = "Pump 7._infusion._tcp.local"
    srv = struct.pack("!HHH", 0, 0, 8080) + wire("pump7.local")
    txt = b"".join(bytes([len(s)]) + s for s in [b"md=Alaris 8015", b"usb_MFG=BD", b"fv=9.33", b"pw=x"])
    data = message(0x8400, [], [rr("_services._dns-sd._udp.local", 12, wire("_infusion._tcp.local"))],
                   [rr(inst, 33, srv)],
                   [rr(inst, 16, txt), rr("pump7.local", 1, bytes([10, 0, 0, 7])),
                    rr("7.0.0.10.in-addr.arpa", 12, wire("pump7-rev.local"))])
    assert facts(data, **MDNS) == {
        ("mdns.service", "_infusion._tcp.local"), ("mdns.instance", inst),
        ("mdns.hostname", "pump7.local"), ("mdns.hostname", "pump7-rev.local"),
        ("mdns.txt.md", "Alaris 8015"), ("mdns.txt.usb_mfg", "BD"), ("mdns.txt.fv", "9.33"),
    }


def test_mdns_query_questions_and_probe_authority_not_known_answers() -> None:
    question = wire("_ipp._tcp.local") + struct.pack("!HH", 12, 1)
    probe = wire("pump7.local") + struct.pack("!HH", 255, 0x8001)
    data = message(0x0000, [question, probe],
                   [rr("_ipp._tcp.local", 12, wire("Other._ipp._tcp.local"))],  # known answer: not ours
                   [rr("pump7.local", 1, bytes([10, 0, 0, 7]))])  # probe's proposed record: ours
    assert facts(data, **MDNS) == {
        ("mdns.query", "_ipp._tcp.local"), ("mdns.query", "pump7.local"), ("mdns.hostname", "pump7.local"),
    }


def test_unicast_query_is_about_the_client_and_bounded() -> None:
    qs = [wire(f"h{i}.example.org") + struct.pack("!HH", 1, 1) for i in range(10)]
    data = message(0x0100, [*qs, qs[0]], [])
    found = list(DISSECTOR.dissect(context(dport=53), data, b""))
    assert [o.value for o in found] == [f"h{i}.example.org" for i in range(4)]
    assert {o.kind for o in found} == {"dns.query"} and {o.ip for o in found} == {"192.0.2.10"}
    assert list(DISSECTOR.dissect(context(sport=53), message(0x8180, qs[:1], []), b"")) == []


def test_pointer_loop_and_overlong_names_are_refused() -> None:
    loop = b"\x00" * 12 + b"\xc0\x0c"  # a name at 12 that points to itself
    with pytest.raises(ParseError):
        read_name(loop, 12)
    long_name = b"\x3f" + b"a" * 63
    with pytest.raises(ParseError):
        read_name(long_name * 5 + b"\0", 0)  # 320 octets > 255
    with pytest.raises(ParseError):
        read_name(b"\x40abc\0", 0)  # extended label type
    with pytest.raises(ParseError):
        parse_message(struct.pack("!HHHHHH", 0, 0, 0xFFFF, 0, 0, 0))  # claims 65535 questions


def test_bad_rdata_spoils_only_its_record() -> None:
    bad_srv = rr("x._a._tcp.local", 33, b"\x00\x01")  # SRV too short for its target
    good = rr("host.local", 1, bytes(4))
    assert ("mdns.hostname", "host.local") in facts(message(0x8400, [], [bad_srv, good]), **MDNS)


def test_detect() -> None:
    assert DISSECTOR.detect(GOLDEN_COMPRESSED, context(**MDNS))  # type: ignore[arg-type]
    assert not DISSECTOR.detect(GOLDEN_COMPRESSED, context(dport=9999))
    assert not DISSECTOR.detect(b"\x00" * 12, context(dport=53))  # no records at all


# --- differential against tshark ----------------------------------------------------------------

CAPTURES = sorted(
    p.relative_to(SHARED_DATA)
    for p in [*(SHARED_DATA / "zeek-traces").glob("dns_*.pcap"),
              *(SHARED_DATA / "iot-sentinel").glob("*/*.pcap")]
) or [Path("zeek-traces/dns_mdns.pcap")]
SECTIONS = {"Answers": "an", "Authoritative nameservers": "ns", "Additional records": "ar"}


def _split(cell: str) -> list[str]:
    return cell.split("|") if cell else []


def _records(layer: Pairs) -> tuple[list[str], list[tuple[str, Pairs]]]:
    """Question names and (section, record) of one mDNS packet in tshark's tree."""
    questions: list[str] = []
    records: list[tuple[str, Pairs]] = []
    for key, value in layer:
        if key == "Queries":
            questions += [pairs_get(q, "dns.qry.name")[0] for _, q in value]
        elif key in SECTIONS:
            records += [(SECTIONS[key], rec) for _, rec in value]
    return questions, records


def _expected_from_tshark(layer: Pairs) -> set[tuple[str, str]]:
    """The facts our rules derive, computed from tshark's parse of the same packet."""
    flags = dict(pairs_get(layer, "dns.flags_tree")[0])
    questions, records = _records(layer)
    out: set[tuple[str, str]] = set()
    if flags["dns.flags.response"] != "1":
        out |= {("mdns.query", q) for q in questions}
        records = [r for r in records if r[0] == "ns"]

    def instance(name: str) -> None:
        labels = name.split(".")
        if len(labels) >= 4 and labels[1].startswith("_") and labels[2].lower() in ("_tcp", "_udp"):
            out.add(("mdns.instance", name))
            out.add(("mdns.service", ".".join(labels[1:])))

    for _, rec in records:
        rtype = pairs_get(rec, "dns.resp.type")[0]
        if rtype == "33":
            parts = ("dns.srv.service", "dns.srv.proto", "dns.srv.name")
            owner = ".".join(pairs_get(rec, k)[0] for k in parts)
            out.add(("mdns.instance", owner))
            instance(owner)
            out.add(("mdns.hostname", pairs_get(rec, "dns.srv.target")[0]))
            continue
        owner = pairs_get(rec, "dns.resp.name")[0]
        if rtype in ("1", "28"):
            out.add(("mdns.hostname", owner))
        elif rtype == "12":
            target = pairs_get(rec, "dns.ptr.domain_name")[0]
            if owner.endswith((".in-addr.arpa", ".ip6.arpa")):
                out.add(("mdns.hostname", target))
            elif owner.lower().startswith("_services._dns-sd._udp."):
                out.add(("mdns.service", target))
            else:
                out.add(("mdns.service", owner.split("._sub.")[-1]))
                out.add(("mdns.instance", target))
                instance(target)
        elif rtype == "16":
            instance(owner)
            for item in pairs_get(rec, "dns.txt"):
                key, sep, value = item.partition("=")
                if sep and key.lower() in TXT_KEYS and value:
                    out.add((f"mdns.txt.{key.lower()}", value))
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_mdns_matches_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    tree = tshark_tree(tshark, path, "mdns", "mdns")
    expected = {frame: _expected_from_tshark(layer) for frame, layer in tree}
    ours = {
        dg.frame: {(o.kind, o.value) for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"")
                   if o.kind.startswith("mdns.")}
        for dg in udp_datagrams(path) if dg.frame in expected
    }
    assert set(ours) == set(expected)
    for frame, want in expected.items():
        assert ours[frame] == want, f"frame {frame}"


@pytest.mark.parametrize("capture", [c for c in CAPTURES if c.parts[0] == "iot-sentinel"], ids=str)
def test_unicast_queries_match_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    rows = oracle.fields(tshark, path, "dns && !mdns && dns.flags.response == 0 && udp.dstport == 53",
                         "frame.number", "dns.qry.name")
    expected = {int(f): set(_split(q)) for f, q in rows}
    for dg in udp_datagrams(path):
        if dg.frame in expected:
            got = {o.value for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"") if o.kind == "dns.query"}
            assert got == expected[dg.frame]


# --- fuzzing --------------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=400), mutations([GOLDEN_COMPRESSED])),
       port=st.sampled_from([53, 5353]))
def test_fuzz_only_parse_errors(data: bytes, port: int) -> None:
    run_guarded(DISSECTOR, data, context(sport=port, dport=port))


# A plain query: id 0x1234, RD, one question "www.example.com" A IN, no records (RFC 1035 §4.1).
PLAIN_QUERY = bytes.fromhex("123401000001000000000000") + wire("www.example.com") + b"\x00\x01\x00\x01"


def _slow_name_text(labels: tuple[bytes, ...]) -> str:
    """The general rule of name_text (each label decoded with replacement, controls dropped)."""
    from wardwatch.dissect._wire.text import clean

    return clean(".".join(label.decode("utf-8", errors="replace") for label in labels), strip=False)


@settings(max_examples=300, deadline=None)
@given(labels=st.lists(st.binary(max_size=70), max_size=8))
def test_name_text_fast_path_equals_the_general_rule(labels: list[bytes]) -> None:
    from wardwatch.dissect._wire.dnsmsg import name_text

    assert name_text(tuple(labels)) == _slow_name_text(tuple(labels))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(mutations([PLAIN_QUERY]), st.binary(max_size=60)))
def test_plain_query_fast_path_agrees_with_the_full_parse(data: bytes) -> None:
    """Where the fast path answers, the full parse gives the same question; where it raises, so does it."""
    from wardwatch.dissect._wire.dnsmsg import plain_query_name

    try:
        labels = plain_query_name(data)
    except ParseError:
        with pytest.raises(ParseError):
            parse_message(data)
        return
    if labels is None:
        return
    msg = parse_message(data)
    assert not msg.is_response and msg.opcode == 0 and not msg.records
    assert [q.labels for q in msg.questions] == [labels]


def test_prefilter_skips_unicast_answers_only() -> None:
    unicast = DISSECTOR.prefilter(context(dport=53))
    assert unicast is not None
    answer = bytes([0x12, 0x34, 0x81, 0x80]) + PLAIN_QUERY[4:]
    assert unicast(PLAIN_QUERY) and not unicast(answer) and unicast(b"\x00")
    assert list(DISSECTOR.dissect(context(sport=53), answer, b"")) == []  # what the filter relies on
    assert DISSECTOR.prefilter(context(**MDNS)) is None  # mDNS answers carry the facts


def test_plain_query_observation_is_the_contexts_own() -> None:
    ctx = context(dport=53)
    (obs,) = DISSECTOR.dissect(ctx, PLAIN_QUERY, b"")
    assert obs == ctx.observation("dns.query", "www.example.com", excerpt="dns.query www.example.com")


def _lane_outcome(ctx: FlowContext, data: bytes, ts: float, cut: bool) -> object:
    """What the DNS lane gives for one datagram: its Observations, or the ParseError's class."""
    lane = DISSECTOR.datagram_lane(ctx)
    assert lane is not None
    try:
        return lane(data, ts, cut)
    except ParseError:
        return ParseError


def _dissect_outcome(ctx: FlowContext, data: bytes, ts: float, cut: bool) -> object:
    """What ``dissect`` gives for the same datagram with a context at that time."""
    try:
        return list(DISSECTOR.dissect(replace(ctx, ts=ts, truncated=cut), data, b""))
    except ParseError:
        return ParseError


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutations([PLAIN_QUERY, bytes([0x12, 0x34, 0x81, 0x80]) + PLAIN_QUERY[4:]]),
       ts=st.floats(0, 2e9), cut=st.booleans())
def test_unicast_lane_equals_dissect(data: bytes, ts: float, cut: bool) -> None:
    ctx = context(dport=53)
    assert _lane_outcome(ctx, data, ts, cut) == _dissect_outcome(ctx, data, ts, cut)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutations([PLAIN_QUERY]), port=st.integers(1024, 65535).filter(lambda p: p != MDNS_PORT))
def test_a_lane_shared_between_ports_of_the_same_endpoints_equals_dissect(data: bytes, port: int) -> None:
    first = context(dport=53)
    ctx = replace(first, src_port=port, ts=first.ts + 7)
    assert DISSECTOR.datagram_lane(ctx) is DISSECTOR.datagram_lane(first)  # one lane for both directions
    assert _lane_outcome(ctx, data, 3.5, False) == _dissect_outcome(ctx, data, 3.5, False)
    other = replace(ctx, src_ip="192.0.2.99")
    assert DISSECTOR.datagram_lane(other) is not DISSECTOR.datagram_lane(first)  # other endpoints: own lane


def test_lane_reads_the_plain_query_at_the_datagrams_time_and_mdns_has_none() -> None:
    ctx = context(dport=53)
    lane = DISSECTOR.datagram_lane(ctx)
    assert lane is not None
    (obs,) = lane(PLAIN_QUERY, 42.5, False)
    assert obs == replace(ctx, ts=42.5).observation("dns.query", "www.example.com",
                                                     excerpt="dns.query www.example.com")
    assert lane(bytes([0x12, 0x34, 0x81, 0x80]) + PLAIN_QUERY[4:], 1.0, False) == []
    assert DISSECTOR.datagram_lane(context(**MDNS)) is None


def _reference_query_text(data: bytes) -> str | None:
    """What the Python path makes of a datagram: the plain query's name text, or None (anything else)."""
    try:
        labels = plain_query_name(data)
    except ParseError:
        return None
    return None if labels is None else name_text(labels) or None


@pytest.mark.skipif(fast_query_text is None, reason="the C extension _dnsfast is not built")
@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(mutations([PLAIN_QUERY, bytes.fromhex("123401000001000000000000") + wire("a-b_c.example")
                                 + b"\x00\x01\x00\x01"]), st.binary(max_size=64)))
def test_compiled_query_text_agrees_with_the_python_reference(data: bytes) -> None:
    assert fast_query_text is not None
    fast = fast_query_text(data)
    # The fast path answers only what it is sure of; where it does, the reference says the same.
    assert fast is None or fast == _reference_query_text(data)


def test_compiled_query_text_reads_the_plain_query() -> None:
    if fast_query_text is None:
        pytest.skip("the C extension _dnsfast is not built")
    assert fast_query_text(PLAIN_QUERY) == "www.example.com"
    assert fast_query_text(PLAIN_QUERY.replace(b"example", b"ex\x01mple")) is None  # a control: cleaned by Python
    assert fast_query_text(PLAIN_QUERY[:-1]) is None  # QCLASS cut: the reference raises
    assert fast_query_text(bytes([0x12, 0x34, 0x81, 0x80]) + PLAIN_QUERY[4:]) is None

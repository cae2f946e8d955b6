"""HTTP/1.x dissector: golden messages, differential against tshark, fuzz."""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_shared
from tests.support.dissect_fuzz import mutated, run_contract
from tests.support.streams import tcp_streams, write_tcp_pcap
from tests.support.tshark import fields
from wardwatch.dissect import http as http_module
from wardwatch.dissect._wire import http1
from wardwatch.dissect._wire.emit import Emitter
from wardwatch.dissect._wire.http1 import MAX_HEADERS, messages
from wardwatch.dissect.http import DISSECTOR
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError

CTX = FlowContext(ts=1.0, sensor="t", proto=6, src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02",
                  src_ip="10.0.0.1", dst_ip="10.0.0.2", src_port=40000, dst_port=80)

# Two pipelined requests; the first carries a 4-byte body (Content-Length), the second Basic credentials
# "nurse:s3cret" (base64 "bnVyc2U6czNjcmV0").
CLIENT = (
    b"POST /api HTTP/1.1\r\nHost: pump.local:8080\r\nUser-Agent: InfusionAgent/2.1 (Linux)\r\n"
    b"Content-Length: 4\r\n\r\nabcd"
    b"GET /admin HTTP/1.1\r\nHost: pump.local:8080\r\nAuthorization: Basic "
    + base64.b64encode(b"nurse:s3cret") + b"\r\n\r\n"
)
# First response chunked (two chunks "hello" and " world", then the last-chunk and an empty trailer);
# the second a 401 challenge with a realm.
SERVER = (
    b"HTTP/1.1 200 OK\r\nServer: lighttpd/1.4.35\r\nX-Powered-By: PHP/5.6.40\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    b"HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4.35\r\n"
    b'WWW-Authenticate: Basic realm="Pump Admin", charset="UTF-8"\r\nContent-Length: 0\r\n\r\n'
)


def facts(client: bytes, server: bytes = b"") -> set[tuple[str, str, str | None]]:
    return {(o.kind, o.value, o.ip) for o in DISSECTOR.dissect(CTX, client, server)}


def test_golden_requests_and_responses() -> None:
    assert facts(CLIENT, SERVER) == {
        ("http.user_agent", "InfusionAgent/2.1 (Linux)", "10.0.0.1"),
        ("http.host", "pump.local:8080", "10.0.0.1"),
        ("http.basic_auth", "nurse", "10.0.0.1"),
        ("http.server", "lighttpd/1.4.35", "10.0.0.2"),
        ("http.x_powered_by", "PHP/5.6.40", "10.0.0.2"),
        ("http.auth_scheme", "Basic", "10.0.0.2"),
        ("http.www_authenticate", "Pump Admin", "10.0.0.2"),
    }


def test_password_never_leaves_the_dissector() -> None:
    for obs in DISSECTOR.dissect(CTX, CLIENT, SERVER):
        assert "s3cret" not in repr(obs)


def test_head_response_has_no_body_and_pipelining_continues() -> None:
    client = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n"
    server = (b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\nServer: first\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: second\r\n\r\nok")
    got = facts(client, server)
    assert ("http.server", "second", "10.0.0.2") in got
    assert ("http.host", "b", "10.0.0.1") in got


def test_bare_lf_and_truncated_last_line() -> None:
    # Bare LF line ends are accepted; the User-Agent line cut by the budget (no LF) is not reported.
    client = b"GET / HTTP/1.0\nHost: monitor\nUser-Agent: Mozil"
    assert facts(client) == {("http.host", "monitor", "10.0.0.1")}


def test_response_body_beyond_budget_stops_quietly() -> None:
    server = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 100000\r\n\r\n" + b"z" * 100
    assert facts(b"GET / HTTP/1.1\r\n\r\n", server) == {("http.server", "x", "10.0.0.2")}


def test_vendor_method_token() -> None:
    assert facts(b"CCM_POST /x HTTP/1.1\r\nHost: ccm\r\n\r\n") == {("http.host", "ccm", "10.0.0.1")}


def test_not_http_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(CTX, b"\x16\x03\x01\x00\x05hello", b""))


def test_detect() -> None:
    assert DISSECTOR.detect(b"GET / HTTP/1.1\r\n", CTX)
    assert DISSECTOR.detect(b"OPTIONS * HTTP/1.1\r\n", CTX)
    assert not DISSECTOR.detect(b"SSH-2.0-OpenSSH_9.6\r\n", CTX)
    assert not DISSECTOR.detect(b"GETX /index.html", CTX)  # unknown token and no HTTP version
    assert DISSECTOR.detect(b"CCM_POST /x HTTP/1.1\r\n", CTX)


# --- the plain-head fast path reads exactly what the line-by-line walk reads ---------------------------

def _parsed(data: bytes, *, request: bool) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    methods: list[bytes] = [b"GET", b"HEAD"]
    return [(m.start, m.headers) for m in messages(data, request=request, methods=methods)]


def _line_walk(data: bytes, *, request: bool) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    with mock.patch.object(http1, "_plain_head", return_value=None):
        return _parsed(data, request=request)


_ENDS = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r\r\n", b""])
_HEADER_LINES = st.sampled_from([b"Host: a", b"User-Agent: x  y", b" folded", b"\tfolded", b"no colon",
                                 b"Content-Length: 2", b"Transfer-Encoding: chunked", b"X: \r in", b""])
_HEADS = st.tuples(
    st.sampled_from([b"GET / HTTP/1.1", b"HTTP/1.1 200 OK", b"HTTP/1.1 204 No Content", b"\r\nGET / HTTP/1.0",
                     b"GET / HTTP/1.1\r"]),
    st.lists(st.tuples(_HEADER_LINES, _ENDS), max_size=8),
    st.sampled_from([b"\r\n", b"\n", b"\r\r\n", b""]),
    st.sampled_from([b"", b"ok", b"2\r\nok\r\n0\r\n\r\n", b"GET /2 HTTP/1.1\r\nHost: b\r\n\r\n"]),
)


@settings(max_examples=400, deadline=None)
@given(head=_HEADS, repeat=st.integers(1, 3), cut=st.integers(0, 400))
def test_fast_path_equals_line_walk(head: tuple[bytes, list[tuple[bytes, bytes]], bytes, bytes],
                                    repeat: int, cut: int) -> None:
    start, lines, blank, body = head
    message = start + b"\r\n" + b"".join(line + end for line, end in lines) + blank + body
    data = (message * repeat)[: len(message) * repeat - cut % (len(message) + 1)]
    for request in (True, False):
        assert _parsed(data, request=request) == _line_walk(data, request=request)


@pytest.mark.parametrize("count", [MAX_HEADERS - 2, MAX_HEADERS - 1, MAX_HEADERS, MAX_HEADERS + 1])
def test_fast_path_header_limit(count: int) -> None:
    data = b"GET / HTTP/1.1\r\n" + b"X-N: v\r\n" * count + b"\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n"
    assert _parsed(data, request=True) == _line_walk(data, request=True)


def test_fast_path_taken_for_a_plain_head() -> None:
    assert http1._plain_head(CLIENT, 0) is not None
    assert http1._plain_head(b"GET / HTTP/1.0\nHost: a\n\n", 0) is None


# --- the dissector's own walk (_heads, simple heads in one pass) reads what messages() reads -------------

def _reported(data: bytes, *, request: bool, methods: list[bytes]) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """messages() with only the fields the dissector reports: what _heads must give."""
    return [(m.start, [(n, v) for n, v in m.headers if n in http1.REPORTED_FIELDS])
            for m in messages(data, request=request, methods=methods)]


def _reference_dissect(client: bytes, server: bytes) -> list[object]:
    """The dissector as it was written over messages() (before _heads)."""
    out = Emitter(CTX)
    methods: list[bytes] = []
    seen = 0
    for msg in messages(client, request=True, methods=methods):
        seen += 1
        http_module.HttpDissector._request(out, msg.headers)
    for msg in messages(server, request=False, methods=methods):
        seen += 1
        http_module.HttpDissector._response(out, msg.headers)
    if not seen and (client or server):
        raise ParseError("no HTTP/1.x request or status line")
    return list(out)


def _same_as_reference(client: bytes, server: bytes) -> None:
    for request, data in ((True, client), (False, server)):
        methods: list[bytes] = [] if request else [b"GET", b"HEAD", b"GET"]
        ref_methods = list(methods)
        assert http1._heads(data, request=request, methods=methods) == _reported(
            data, request=request, methods=ref_methods)
        assert methods == ref_methods
    try:
        expected = _reference_dissect(client, server)
    except ParseError:
        with pytest.raises(ParseError):
            list(DISSECTOR.dissect(CTX, client, server))
    else:
        assert list(DISSECTOR.dissect(CTX, client, server)) == expected


# Read fields spelled every way the line walk accepts (case, blanks around name and value, repeats), and
# lines that must send a head to the general walk (obs-fold, bare CR, leading VT, no colon).
_READ_LINES = st.sampled_from([
    b"Host: a", b"HOST :b ", b"host:\x0bc\x0c", b"User-Agent:\t x  y\t", b"user-agent: \xc3\xa9\x00z",
    b"Server: s", b"X-Powered-By: p", b"WWW-Authenticate: Basic realm=\"r\"", b"Authorization: Basic YTpi",
    b"Content-Length: 2", b"content-length : 0", b"Content-Length: x", b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip", b"X-Host: no", b"Hostname: no", b"Host", b" folded", b"\tfolded",
    b"\x0bHost: vt", b"Host: a\rb", b"Date: d", b"Connection: close",
])
#: Mostly CRLF, so that most heads are plain and the odd line decides which walk reads them.
_MOSTLY_CRLF = st.sampled_from([b"\r\n"] * 12 + [b"\n", b"\r\r\n", b""])
_ANY_HEADS = st.tuples(
    st.sampled_from([b"GET / HTTP/1.1", b"HEAD / HTTP/1.1", b"HTTP/1.1 200 OK", b"HTTP/1.0 304 Not Modified",
                     b"HTTP/1.1 101 Switching", b"NOTIFY * HTTP/1.1", b"GET", b"\x0bGET / HTTP/1.1"]),
    st.lists(st.tuples(_READ_LINES, _MOSTLY_CRLF), max_size=8),
    _MOSTLY_CRLF,
    st.sampled_from([b"", b"ok", b"2\r\nok\r\n0\r\n\r\n", b"\r\n\r\n"]),
)


@settings(max_examples=600, deadline=None)
@given(heads=st.lists(_ANY_HEADS, min_size=1, max_size=3), cut=st.integers(0, 400), responses=st.booleans())
def test_heads_equal_messages(heads: list[tuple[bytes, list[tuple[bytes, bytes]], bytes, bytes]], cut: int,
                              responses: bool) -> None:
    data = b"".join(start + b"\r\n" + b"".join(line + end for line, end in lines) + blank + body
                    for start, lines, blank, body in heads)
    data = data[: len(data) - cut % (len(data) + 1)]
    if responses:
        _same_as_reference(b"GET / HTTP/1.1\r\n\r\n", data)
    else:
        _same_as_reference(data, b"")


@settings(max_examples=400, deadline=None)
@given(head=_HEADS, repeat=st.integers(1, 3), cut=st.integers(0, 400))
def test_heads_equal_messages_on_plain_heads(head: tuple[bytes, list[tuple[bytes, bytes]], bytes, bytes],
                                             repeat: int, cut: int) -> None:
    start, lines, blank, body = head
    message = start + b"\r\n" + b"".join(line + end for line, end in lines) + blank + body
    data = (message * repeat)[: len(message) * repeat - cut % (len(message) + 1)]
    _same_as_reference(data, data)


@pytest.mark.parametrize("count", [MAX_HEADERS - 2, MAX_HEADERS - 1, MAX_HEADERS, MAX_HEADERS + 1])
def test_heads_header_limit(count: int) -> None:
    data = b"GET / HTTP/1.1\r\n" + b"Host: a\r\n" * count + b"\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n"
    _same_as_reference(data, b"")


@pytest.mark.parametrize("framing", [
    b"Content-Length: 2\r\nContent-Length: 0", b"Content-Length: 0\r\nContent-Length: 2",
    b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nContent-Length: 2",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", b"Content-Length: 2\r\n folded",
])
def test_heads_first_framing_field_wins(framing: bytes) -> None:
    """The first Content-Length and Transfer-Encoding values find the body's end, as in messages()."""
    for start, nxt in ((b"POST / HTTP/1.1", b"GET /2 HTTP/1.1\r\nHost: b\r\n\r\n"),
                       (b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK\r\nServer: b\r\nContent-Length: 0\r\n\r\n")):
        data = start + b"\r\n" + framing + b"\r\nHost: a\r\nServer: a\r\n\r\n" + b"ok" + nxt
        _same_as_reference(data, b"HTTP/1.1 200 OK\r\n\r\n")
        _same_as_reference(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", data)


def test_simple_head_taken_for_a_plain_head() -> None:
    simple = http1._simple_head(CLIENT, 0)
    assert simple is not None
    assert simple[1] == [(b"host", b"pump.local:8080"), (b"user-agent", b"InfusionAgent/2.1 (Linux)")]
    assert simple[2:4] == (None, b"4")
    assert http1._simple_head(b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 0) is None  # obs-fold
    _same_as_reference(CLIENT, SERVER)


# --- differential against tshark -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["http_bro.org.pcap", "http_methods.pcap", "http_proxy.pcap"])
def test_headers_equal_tshark_per_message(name: str, tshark: str) -> None:
    """Every request's Host/User-Agent and every response's Server, per TCP stream, as tshark sees them."""
    path = require_shared("zeek-traces", name)
    ours: Counter[tuple[int, str, str, str]] = Counter()
    complete: set[int] = set()
    for index, stream in enumerate(tcp_streams(path)):
        if not stream.complete:
            continue  # a capture hole: tshark resyncs after it, our simple test reassembly does not
        complete.add(index)
        methods: list[bytes] = []
        for msg in messages(stream.client_bytes, request=True, methods=methods):
            ours[(index, "req", _h(msg.get(b"host")), _h(msg.get(b"user-agent")))] += 1
        for msg in messages(stream.server_bytes, request=False, methods=methods):
            ours[(index, "resp", _h(msg.get(b"server")), "")] += 1
    theirs: Counter[tuple[int, str, str, str]] = Counter()
    for stream_no, host, agent in fields(tshark, path, "http.request", "tcp.stream", "http.host",
                                         "http.user_agent"):
        if int(stream_no) in complete:
            theirs[(int(stream_no), "req", host, agent)] += 1
    for stream_no, server in fields(tshark, path, "http.response", "tcp.stream", "http.server"):
        if int(stream_no) in complete:
            theirs[(int(stream_no), "resp", server, "")] += 1
    assert sum(theirs.values()) > 0
    assert ours == theirs


def _h(value: bytes | None) -> str:
    return "" if value is None else value.decode()


@pytest.mark.parametrize("name", ["http_bro.org.pcap", "http_methods.pcap", "http_proxy.pcap"])
def test_observations_equal_tshark_values(name: str, tshark: str) -> None:
    path = require_shared("zeek-traces", name)
    got: dict[str, set[str]] = {"http.user_agent": set(), "http.host": set(), "http.server": set()}
    for stream in tcp_streams(path):
        if stream.complete and (stream.client_bytes or stream.server_bytes):
            for obs in DISSECTOR.dissect(stream.ctx(), stream.client_bytes, stream.server_bytes):
                got.setdefault(obs.kind, set()).add(obs.value)
    for kind in ("http.user_agent", "http.host", "http.server"):
        expected = {row[0] for row in fields(tshark, path, kind, kind)}
        assert got[kind] == expected, kind


def test_basic_auth_user_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = tmp_path / "auth.pcap"
    write_tcp_pcap(capture, [(True, CLIENT), (False, SERVER)])
    (credentials,) = {row[0] for row in fields(tshark, capture, "http.authbasic", "http.authbasic")}
    users = [o.value for o in DISSECTOR.dissect(CTX, CLIENT, SERVER) if o.kind == "http.basic_auth"]
    assert users == [credentials.split(":", 1)[0]]
    (realm,) = {r[0] for r in fields(tshark, capture, "http.www_authenticate", "http.www_authenticate")}
    assert [o.value for o in DISSECTOR.dissect(CTX, CLIENT, SERVER)
            if o.kind == "http.www_authenticate"] == [realm.split('realm="')[1].split('"')[0]]


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=st.binary(max_size=512), server=st.binary(max_size=512))
def test_fuzz_random(client: bytes, server: bytes) -> None:
    run_contract(DISSECTOR, CTX, client, server)
    _same_as_reference(client, server)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=mutated(CLIENT), server=mutated(SERVER))
def test_fuzz_mutated(client: bytes, server: bytes) -> None:
    run_contract(DISSECTOR, CTX, client, server)
    _same_as_reference(client, server)

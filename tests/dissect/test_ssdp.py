"""SSDP dissector: golden messages, differential against tshark on the IoT Sentinel captures, fuzzing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from wardwatch.dissect.ssdp import DISSECTOR
from wardwatch.errors import ParseError

# A UPnP NOTIFY of a Philips Hue bridge (UDA 2.0 §1.2.2); header names are case-insensitive.
NOTIFY = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=100\r\n"
          b"LOCATION: http://10.10.10.6:80/description.xml\r\n"
          b"server: Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0\r\n"
          b"NTS: ssdp:alive\r\nNT: upnp:rootdevice\r\nUSN: uuid:2f402f80::upnp:rootdevice\r\n\r\n")
# A search answer (§1.3.3) and a search (§1.3.2).
ANSWER = (b"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:MediaServer:1\r\nUSN: uuid:x::y\r\n"
          b"SERVER: Windows/10 UPnP/2.0 Player/1\r\n\r\n")
SEARCH = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\n"
          b"ST: ssdp:all\r\nUSER-AGENT: Android/12 UPnP/1.1 App/2.0\r\n\r\n")


def facts(data: bytes) -> dict[str, str]:
    return {o.kind: o.value for o in DISSECTOR.dissect(context(dport=1900), data, b"")}


def test_golden_notify() -> None:
    assert facts(NOTIFY) == {
        "ssdp.location": "http://10.10.10.6:80/description.xml",
        "ssdp.server": "Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0",
        "ssdp.nt": "upnp:rootdevice",
        "ssdp.usn": "uuid:2f402f80::upnp:rootdevice",
    }


def test_golden_answer_and_search() -> None:
    assert facts(ANSWER) == {"ssdp.st": "urn:schemas-upnp-org:device:MediaServer:1", "ssdp.usn": "uuid:x::y",
                             "ssdp.server": "Windows/10 UPnP/2.0 Player/1"}
    assert facts(SEARCH) == {"ssdp.user_agent": "Android/12 UPnP/1.1 App/2.0",
                             "ssdp.search_target": "ssdp:all"}


def test_detect_and_refuse() -> None:
    assert DISSECTOR.detect(NOTIFY, context(dport=5000))
    assert DISSECTOR.detect(ANSWER, context(sport=1900))
    assert not DISSECTOR.detect(ANSWER, context(sport=80, dport=40000))  # plain HTTP
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(), b"GET / HTTP/1.1\r\n\r\n", b""))


def test_header_flood_is_bounded() -> None:
    data = b"NOTIFY * HTTP/1.1\r\n" + b"X: y\r\n" * 10_000 + b"SERVER: late\r\n\r\n"
    assert facts(data) == {}


# --- differential against tshark ----------------------------------------------------------------

CAPTURES = sorted(p.relative_to(SHARED_DATA) for p in (SHARED_DATA / "iot-sentinel").glob("*/*.pcap")) or [
    Path("iot-sentinel/HueSwitch/Setup-A-1-STA.pcap")]
LINE_HEADERS = {"NT": "ssdp.nt", "USN": "ssdp.usn", "ST": "ssdp.st"}


def _expected(row: list[str]) -> dict[str, str]:
    _, request_lines, response_line, server, location, agent, unknown = row
    out: dict[str, str] = {}
    search = any(line.startswith("M-SEARCH") for line in request_lines.split("|")) or (
        "MAN: " in request_lines and not response_line)
    lines = [*request_lines.split("|"), *unknown.split("|")]
    for line in lines:
        name, sep, value = line.removesuffix("\\r\\n").partition(": ")
        kind = LINE_HEADERS.get(name.upper())
        if sep and kind:
            if search:
                kind = "ssdp.search_target" if kind == "ssdp.st" else ""
            elif (kind == "ssdp.st") == (not response_line):
                continue  # NT belongs to NOTIFY, ST to search answers
            if kind:
                out.setdefault(kind, value.strip())
    if search:
        out.pop("ssdp.usn", None)
        if agent:
            out["ssdp.user_agent"] = agent
        return out
    out.update({k: v for k, v in (("ssdp.server", server), ("ssdp.location", location)) if v})
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_matches_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    rows = oracle.fields(tshark, path, "ssdp", "frame.number", "http.request.line", "http.response.line",
                         "http.server", "http.location", "http.user_agent", "http.unknown_header")
    expected = {int(row[0]): _expected(row) for row in rows}
    assert all(expected.values()), "every SSDP message in these captures carries facts"
    for dg in udp_datagrams(path):
        if dg.frame in expected:
            assert DISSECTOR.detect(dg.payload, dg.ctx)
            assert facts_of(dg.payload, dg.ctx) == expected[dg.frame], f"frame {dg.frame}"


def facts_of(payload: bytes, ctx: object) -> dict[str, str]:
    return {o.kind: o.value for o in DISSECTOR.dissect(ctx, payload, b"")}  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), mutations([NOTIFY, ANSWER, SEARCH])))
def test_fuzz_only_parse_errors(data: bytes) -> None:
    run_guarded(DISSECTOR, data, context(dport=1900))

"""NTP dissector: golden headers, differential against tshark, fuzzing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as oracle
from tests.support.pcap_payloads import context, mutations, run_guarded, udp_datagrams
from wardwatch.dissect.ntp import DISSECTOR, MODES
from wardwatch.errors import ParseError


def header(li_vn_mode: int, stratum: int, refid: bytes) -> bytes:
    """RFC 5905 §7.3: LI|VN|Mode, stratum, poll, precision, root delay, root dispersion, refid, 4 stamps."""
    return struct.pack("!BBbb", li_vn_mode, stratum, 6, -20) + bytes(8) + refid + bytes(32)


SERVER_GPS = header(0x24, 1, b"GPS\0")  # LI 0, VN 4, mode 4 (server), stratum 1, refid "GPS"
SERVER_S2 = header(0x1C, 2, bytes([192, 0, 2, 123]))  # VN 3, mode 4, stratum 2, upstream 192.0.2.123
CLIENT = header(0x23, 0, bytes(4))  # VN 4, mode 3 (client)
KOD = header(0x24, 0, b"RATE")  # kiss-o'-death (RFC 5905 §7.4)


def facts(data: bytes) -> dict[str, str]:
    return {o.kind: o.value for o in DISSECTOR.dissect(context(sport=123, dport=123), data, b"")}


def test_golden() -> None:
    assert facts(SERVER_GPS) == {"ntp.mode": "server", "ntp.version": "4", "ntp.stratum": "1",
                                 "ntp.refid": "GPS"}
    assert facts(SERVER_S2) == {"ntp.mode": "server", "ntp.version": "3", "ntp.stratum": "2",
                                "ntp.upstream": "192.0.2.123"}
    assert facts(CLIENT) == {"ntp.mode": "client", "ntp.version": "4"}
    assert facts(KOD)["ntp.refid"] == "RATE"


def test_refuses_and_detects() -> None:
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(), SERVER_GPS[:47], b""))
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(context(), header(0x04, 1, b"GPS\0"), b""))  # version 0
    assert DISSECTOR.detect(CLIENT, context(dport=123))
    assert not DISSECTOR.detect(CLIENT, context(dport=124))


# the IoT Sentinel devices that talk NTP in their setup captures (servers of stratum 0 to 4, KoD "RATE")
NTP_DEVICES = ("D-LinkHomeHub", "HueSwitch", "MAXGateway", "TP-LinkPlugHS100", "WeMoLink", "WeMoSwitch2")
IOT_NTP = sorted(
    p.relative_to(SHARED_DATA) for d in NTP_DEVICES for p in (SHARED_DATA / "iot-sentinel" / d).glob("*.pcap"))
CAPTURES = [Path("zeek-traces/ntp.pcap"), *IOT_NTP]


@pytest.mark.parametrize("capture", CAPTURES, ids=str)
def test_matches_tshark(capture: Path, tshark: str) -> None:
    path = require_shared(*capture.parts)
    rows = oracle.fields(tshark, path, "ntp && ntp.flags.mode < 6", "frame.number", "ntp.flags.vn",
                         "ntp.flags.mode", "ntp.stratum", "ntp.refid", "ip.src")
    expected: dict[int, dict[str, str]] = {}
    for frame, vn, mode, stratum, refid, src in rows:
        want = {"ntp.version": vn, "ntp.mode": MODES[int(mode)]}
        if int(mode) in (1, 2, 4, 5):
            want["ntp.stratum"] = stratum
            raw = bytes.fromhex(refid)
            if int(stratum) <= 1:
                want["ntp.refid"] = raw.rstrip(b"\0").decode()
            elif int(stratum) < 16 and src and any(raw):
                want["ntp.upstream"] = ".".join(str(b) for b in raw)
        expected[int(frame)] = {k: v for k, v in want.items() if v}
    for dg in udp_datagrams(path):
        if dg.frame in expected:
            got = {o.kind: o.value for o in DISSECTOR.dissect(dg.ctx, dg.payload, b"")}
            assert got == expected[dg.frame], f"frame {dg.frame}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=80), mutations([SERVER_GPS, SERVER_S2, CLIENT])))
def test_fuzz_only_parse_errors(data: bytes) -> None:
    run_guarded(DISSECTOR, data, context(dport=123))

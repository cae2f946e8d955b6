"""Differential: flows and per-direction counters against ``tshark -q -z conv,tcp`` / ``conv,udp``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_shared
from wardwatch.capture import NullSink, process_capture

CAPTURES = [
    ("zeek-traces", "http_bro.org.pcap"),
    ("zeek-traces", "http_methods.pcap"),
    ("zeek-traces", "tls_ssl.v3.pcap"),
    ("zeek-traces", "dhcp_dhcp_flood.pcap"),
    ("zeek-traces", "snmp_leak_test.pcapng"),
    ("zeek-traces", "dns_mdns.pcap"),
    ("zeek-traces", "radius_radius_localhost.pcap"),
    ("zeek-traces", "quic_quic_win11_firefox_google.pcap"),
    ("poct1a", "dca_basic_conversation_flow.pcapng"),
    ("iot-sentinel", "Aria", "Setup-A-1-STA.pcap"),
    ("iot-sentinel", "D-LinkDayCam", "Setup-A-1-STA.pcap"),
]
ROW = re.compile(r"^(\S+?):(\d+)\s+<->\s+(\S+?):(\d+)\s+(\d+)\s+\S+\s+\w+\s+(\d+)\s+\S+\s+\w+")


def conversations(tshark: str, path: Path, kind: str) -> dict[tuple[str, int, str, int], int]:
    """Total frames per unordered endpoint pair."""
    out = subprocess.run([tshark, "-n", "-q", "-r", str(path), "-z", f"conv,{kind}"], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    conv: dict[tuple[str, int, str, int], int] = {}
    for line in out.splitlines():
        m = ROW.match(line.strip())
        if m:
            a, pa, b, pb, left, right = m.groups()
            key = tuple(sorted([(a, int(pa)), (b, int(pb))]))
            conv[key[0] + key[1]] = conv.get(key[0] + key[1], 0) + int(left) + int(right)  # type: ignore[operator]
    return conv


@pytest.mark.parametrize("parts", CAPTURES, ids=lambda p: "/".join(p))
def test_flows_match_tshark_conversations(tshark: str, parts: tuple[str, ...]) -> None:
    path = require_shared(*parts)
    res = process_capture(path, NullSink())
    assert res.flows and not res.stats.skipped
    for proto, kind in ((6, "tcp"), (17, "udp")):
        ours: dict[tuple[str, int, str, int], int] = {}
        for f in res.flows:
            if f.proto == proto:
                key = tuple(sorted([(f.src_ip, f.src_port), (f.dst_ip, f.dst_port)]))
                k = key[0] + key[1]
                ours[k] = ours.get(k, 0) + f.packets  # type: ignore[index]
        assert ours == conversations(tshark, path, kind), kind

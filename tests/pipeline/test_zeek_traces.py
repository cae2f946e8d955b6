"""Issue 2, must show 2: Zeek's protocol traces through the whole pipeline agree with tshark.

LLDP/CDP system names, SNMP sysDescr, DHCP options, TLS SNI/JA3 and HTTP User-Agents found in the
inventory (over all devices) equal, field for field, what ``tshark -T fields`` reports for the same trace.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as ts
from tests.support.analyze import EVERYWHERE, analyze_into, facts_of

TRACES = SHARED_DATA / "zeek-traces"

#: (trace glob, our kind, tshark display filter, tshark field)
CHECKS = [
    ("lldp.pcap", "lldp.system_name", "lldp", "lldp.tlv.system.name"),
    ("lldp.pcap", "lldp.system_description", "lldp", "lldp.tlv.system.desc"),
    ("cdp-v1.pcap", "cdp.device_id", "cdp", "cdp.deviceid"),
    ("cdp-v1.pcap", "cdp.platform", "cdp", "cdp.platform"),
    ("snmp_*.pcap", "snmp.sysdescr", "snmp.name == 1.3.6.1.2.1.1.1.0 && (snmp.get_response_element || snmp.trap_element"
     " || snmp.snmpV2_trap_element)", "snmp.value.octets"),
    ("dhcp_*.pcap*", "dhcp.hostname", "dhcp", "dhcp.option.hostname"),
    ("dhcp_*.pcap*", "dhcp.vendor_class", "dhcp", "dhcp.option.vendor_class_id"),
    ("tls_*.pcap", "tls.sni", "tls.handshake.type == 1", "tls.handshake.extensions_server_name"),
    ("tls_*.pcap", "tls.ja3", "tls.handshake.type == 1", "tls.handshake.ja3"),
    ("http_*.pcap", "http.user_agent", "http.request", "http.user_agent"),
]


def _cases() -> list[tuple[Path, str, str, str]]:
    out = []
    for pattern, kind, display_filter, field in CHECKS:
        for trace in sorted(TRACES.glob(pattern)) or [TRACES / pattern]:
            out.append((trace, kind, display_filter, field))
    return out


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, dict[str, set[str]]]:
    cache: dict[Path, dict[str, set[str]]] = {}
    return cache


def _facts(trace: Path, tmp: Path, cache: dict[Path, dict[str, set[str]]]) -> dict[str, set[str]]:
    if trace not in cache:
        # Zeek's traces were captured on the internet: every address is "ours" for this comparison.
        inventory, _ = analyze_into(f"sqlite:///{tmp / 'inv.db'}", [trace], local_networks=EVERYWHERE)
        union: dict[str, set[str]] = defaultdict(set)
        for device in inventory.list_devices():
            for kind, values in facts_of(inventory, device).items():
                union[kind] |= values
        cache[trace] = union
    return cache[trace]


def _tshark_values(tshark: str, trace: Path, display_filter: str, field: str, kind: str) -> set[str]:
    if kind == "dhcp.param_list":
        return {",".join(row[0].split("|")) for row in ts.fields(tshark, trace, display_filter, field) if row[0]}
    values = ts.values(tshark, trace, display_filter, field)
    if field == "snmp.value.octets":
        # snmp.value.octets is an FT_BYTES field: tshark prints it as hex; the agent sent text.
        return {bytes.fromhex(v).decode("utf-8", "replace") for v in values}
    return values


@pytest.mark.parametrize(("trace", "kind", "display_filter", "field"), _cases(),
                         ids=lambda v: v.name if isinstance(v, Path) else v if isinstance(v, str) and "." in v
                         and " " not in v and len(v) < 40 else "")
def test_pipeline_agrees_with_tshark(trace: Path, kind: str, display_filter: str, field: str, tshark: str,
                                     analyzed: dict[Path, dict[str, set[str]]],
                                     tmp_path: Path) -> None:
    require_shared("zeek-traces", trace.name)
    expected = _tshark_values(tshark, trace, display_filter, field, kind)
    facts = _facts(trace, tmp_path, analyzed)
    ours = set(facts.get(kind, set()))
    if kind == "dhcp.vendor_class":  # tshark lists option 60 of clients and of servers alike
        ours |= facts.get("dhcp.server_vendor_class", set())
    assert ours == expected

"""Issue 2, must show 1: the IoT Sentinel captures, with tshark as the oracle.

For each device capture, the device whose MAC is in ``_iotdevice-mac.txt`` is found, its vendor comes
from the IEEE registry, and every DHCP hostname, vendor class and parameter list, mDNS service and SSDP
server string the capture holds for that MAC is in the inventory, equal to what tshark reports.
"""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest
from tests.conftest import SHARED_DATA, require_shared
from tests.support import tshark as ts
from tests.support.analyze import analyze_into, facts_of


def _captures() -> list[tuple[str, Path]]:
    root = SHARED_DATA / "iot-sentinel"
    if not root.is_dir():
        return [("missing", root / "missing.pcap")]
    return [(d.name, p) for d in sorted(root.iterdir()) if d.is_dir() for p in sorted(d.glob("*.pcap"))]


@pytest.mark.parametrize(("device_name", "capture"), _captures(), ids=lambda v: getattr(v, "name", v))
def test_iot_sentinel_device_matches_tshark(device_name: str, capture: Path, tshark: str, sqlite_url: str) -> None:
    folder = require_shared("iot-sentinel", device_name)
    mac = (folder / "_iotdevice-mac.txt").read_text().strip().lower()
    inventory, report = analyze_into(sqlite_url, [capture])
    assert not any(f.error for f in report.files)
    device = inventory.get_device(mac)
    assert device.mac == mac

    registry_vendor = netaddr.EUI(mac).oui.registration().org
    assert device.value("mac_vendor") == registry_vendor

    facts = facts_of(inventory, device)
    who = f"(dhcp.hw.mac_addr == {mac})"
    assert facts.get("dhcp.hostname", set()) == ts.values(tshark, capture, who, "dhcp.option.hostname")
    assert facts.get("dhcp.vendor_class", set()) == ts.values(tshark, capture, who, "dhcp.option.vendor_class_id")
    lists = {
        ",".join(row[0].split("|"))
        for row in ts.fields(tshark, capture, f"{who} && dhcp.option.request_list_item",
                             "dhcp.option.request_list_item")
    }
    assert facts.get("dhcp.param_list", set()) == lists

    ssdp_servers = ts.values(tshark, capture, f"ssdp && eth.src == {mac}", "http.server")
    assert facts.get("ssdp.server", set()) == ssdp_servers

    # mDNS services announced by the device: PTR answers of the device's mDNS responses.
    services = {
        name
        for name in ts.values(tshark, capture, f"mdns && eth.src == {mac} && dns.flags.response == 1",
                              "dns.resp.name")
        if name.startswith("_") and name.count("._") >= 1 and name.endswith(".local")
        and not name.startswith("_services._dns-sd")
    }
    assert services <= facts.get("mdns.service", set())

"""Bulk ingest: 20 000 devices in one batch on SQLite, and a second pass that changes nothing.

Prints the measured rate (run with ``-s`` to see it); the bound is generous so a loaded CI machine passes.
"""

from __future__ import annotations

import time

from wardwatch.domain.observation import Observation
from wardwatch.inventory import Inventory

DEVICES = 20_000


def _observations() -> list[Observation]:
    out = []
    for n in range(DEVICES):
        mac = f"00:1b:63:{n >> 16 & 0xff:02x}:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"
        ip = f"10.{n >> 16 & 0xff}.{n >> 8 & 0xff}.{n & 0xff}"
        ts = 1_700_000_000.0 + n
        out.append(Observation(ts=ts, sensor="s1", kind="dhcp.hostname", value=f"host-{n}", mac=mac, ip=ip))
        out.append(Observation(ts=ts, sensor="s1", kind="dhcp.param_list", value="1,3,6,15", mac=mac, ip=ip))
        out.append(Observation(ts=ts + 1, sensor="s1", kind="http.user_agent", value=f"Agent/{n % 7}", mac=mac,
                               ip=ip))
    return out


def test_bulk_ingest_rate(sqlite_url: str) -> None:
    observations = _observations()
    inventory = Inventory.open(sqlite_url)
    start = time.perf_counter()
    summary = inventory.ingest(observations)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = inventory.ingest(observations)
    second = time.perf_counter() - start
    print(f"\nbulk ingest: {DEVICES} devices, {len(observations)} observations: {first:.2f} s "
          f"({DEVICES / first:,.0f} devices/s, {len(observations) / first:,.0f} obs/s); replay {second:.2f} s")
    assert summary.devices_new == DEVICES and summary.facts_added == 3 * DEVICES
    assert again.devices_new == 0 and again.facts_added == 0 and again.devices_updated == 0
    assert inventory.count_devices() == DEVICES
    assert first < 60 and second < 60  # generous: the figure is the printed rate, not this bound
    inventory.close()

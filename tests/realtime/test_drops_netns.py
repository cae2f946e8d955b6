"""Must show 5 (issue 8): a sensor fed at full speed accounts for every packet (processed or dropped).

tcpreplay sends a crafted capture at top speed into a veth pair inside a namespace (IPv6 off, no
addresses: nothing else crosses the link) while ``wardwatch sensor --interface`` captures the other end
with a small kernel ring. After SIGTERM the sensor's status row must say: packets processed plus packets
the kernel dropped (pcap_stats ps_drop, ps_ifdrop) equals what tcpreplay sent, exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.capture.builders import eth, ip4, pcap, udp
from tests.realtime.procs import realtime, spawn, stop, wait_for
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.ledger import sensor_status

pytestmark = [pytest.mark.netns, pytest.mark.slow]
PACKETS = 60_000


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True, timeout=120)


def _status(db: str) -> dict[str, int]:
    inventory = Inventory.open(db)
    try:
        with inventory.engine.connect() as conn:
            rows = sensor_status(conn)
    finally:
        inventory.close()
    return rows[0].counters if rows else {}


def test_drops_are_reported_not_hidden(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (ip netns, veth)")
    if shutil.which("tcpreplay") is None:
        pytest.skip("tcpreplay is not installed (Debian: tcpreplay)")
    frames = [(1.0 + i * 1e-4, bytes(eth(ip4(f"10.9.{i % 200}.{1 + i % 250}", "10.9.255.1",
                                               udp(1024 + i % 5000, 9999, bytes(200)), 17))))
              for i in range(PACKETS)]
    trace = tmp_path / "burst.pcap"
    trace.write_bytes(pcap(frames))
    ns = f"wd{os.getpid() % 100000}"
    db = f"sqlite:///{tmp_path / 'drops.db'}"
    Inventory.open(db).close()
    _run("ip", "netns", "add", ns)
    sensor = None
    try:
        _run("ip", "-n", ns, "link", "add", "wda", "type", "veth", "peer", "name", "wdb")
        for dev in ("wda", "wdb"):
            _run("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            _run("ip", "-n", ns, "link", "set", dev, "up")
        sensor = spawn(realtime("sensor", "--interface", "wdb", "--site", "lab", "--name", "fast", "--buffer-mb",
                                "1", "--interval", "0.5", "--db", db), log=tmp_path / "sensor.log",
                       prefix=("ip", "netns", "exec", ns))
        # the capture is open once a probe frame sent into the link is counted
        probes = 0

        def capturing() -> bool:
            nonlocal probes
            assert sensor is not None and sensor.poll() is None, (tmp_path / "sensor.log").read_text()
            _run("ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "wda", "-L", "1", str(trace))
            probes += 1
            return _status(db).get("packets", 0) > 0

        wait_for(capturing, 60, "the sensor to capture", interval=0.5)
        replay = _run("ip", "netns", "exec", ns, "tcpreplay", "--topspeed", "-i", "wda", str(trace))
        sent = int(re.search(r"Successful packets:\s+(\d+)", replay.stdout).group(1))  # type: ignore[union-attr]
        assert sent == PACKETS
        assert stop(sensor, signal.SIGTERM, timeout=120) == 0, (tmp_path / "sensor.log").read_text()
        counters = _status(db)
    finally:
        if sensor is not None:
            stop(sensor)
        subprocess.run(["ip", "netns", "del", ns], check=False)
    # every packet sent reached the capture socket (the probes sent before it opened did not) ...
    assert PACKETS < counters["kernel_received"] <= PACKETS + probes
    # ... and each one it received was processed or reported dropped: no silent loss
    assert counters["packets"] + counters["drops"] + counters["if_drops"] == counters["kernel_received"], counters
    print(f"sent {PACKETS} (+{probes} probes), received {counters['kernel_received']}, processed "
          f"{counters['packets']}, dropped {counters['drops']}")

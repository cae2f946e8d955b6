"""Detection latency: from a packet being read to its alert being delivered to a local syslog listener.

A sensor loop (micro-batches, as the live sensor reads) runs at a sustained background rate: every
``--slice-ms`` of wall time the packets that "arrived" in that slice (pre-built pcap bytes: DICOM, HL7 and
DNS of the crafted hospital's normal day, fresh ports each time) are read by the capture engine, dissected,
judged by every detection rule (baseline and policy learned from the normal day, an indicator list),
stored (deduplicated) and the new alerts delivered as syslog CEF. Every ``--trigger-every`` slices one
connection to a listed C2 address (a distinct address each time: a distinct alert) is mixed in.

Two latencies per trigger, both ending when the listener receives the syslog message:
* **read → delivered**: from the moment the sensor starts reading the batch holding the packet;
* **arrival → delivered**: from the packet's scheduled arrival time (adds the batching wait).

Run from the repository root: ``python bench/detection_latency.py [--rate 2000] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import queue
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.detect.scenes import (
    DNS,
    ENGINE,
    MODALITY,
    MONITOR,
    PACS,
    Scene,
    associate_rq,
    dns_query,
    hl7_message,
    normal_day,
)

from wardwatch.alerting.notifiers.interface import deliver
from wardwatch.alerting.notifiers.syslog import SyslogNotifier
from wardwatch.alerting.store import AlertStore
from wardwatch.detect.engine import DetectionEngine, read_capture
from wardwatch.detect.indicators import Indicator, IndicatorSet
from wardwatch.detect.service import context_for
from wardwatch.dissect.registry import Registry
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import analyze_captures
from wardwatch.prevent.policy import generate
from wardwatch.prevent.service import directory_of, learn_baseline
from wardwatch.prevent.versions import PolicyVersions

C2 = "203.0.113.{}"


def listener(transport: str) -> tuple[int, queue.Queue[tuple[float, bytes]], socket.socket]:
    """A syslog listener recording (receive time, message)."""
    received: queue.Queue[tuple[float, bytes]] = queue.Queue()
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    server = socket.socket(socket.AF_INET, kind)
    server.bind(("127.0.0.1", 0))
    if transport == "tcp":
        server.listen()

    def serve() -> None:
        if transport == "udp":
            while True:
                try:
                    data = server.recv(65536)
                except OSError:
                    return
                received.put((time.perf_counter(), data))
        conn, _ = server.accept()
        buffer = b""
        while chunk := conn.recv(65536):
            buffer += chunk
            while b" " in buffer:
                size, _, rest = buffer.partition(b" ")
                if len(rest) < int(size):
                    break
                received.put((time.perf_counter(), rest[: int(size)]))
                buffer = rest[int(size):]

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], received, server


def build_slices(rate: int, seconds: float, slice_s: float, every: int, t0: float) -> list[tuple[bytes, float | None]]:
    """Pcap bytes per slice, and the trigger packet's offset inside its slice (or None)."""
    out = []
    per_slice = max(1, int(rate * slice_s))
    n_slices = int(seconds / slice_s)
    for i in range(n_slices):
        scene = Scene(port=20000 + (i * 997) % 30000)
        base = t0 + i * slice_s
        packets = 0
        j = 0
        while packets < per_slice:
            ts = base + slice_s * packets / per_slice
            if j % 10 == 0:  # a DICOM association (9 packets) modality → PACS
                scene.tcp(ts, MODALITY, PACS, 104, associate_rq("CT01"))
                packets += 9
            elif j % 10 == 1:  # an HL7 message (10 packets) monitor → engine
                scene.tcp(ts, MONITOR, ENGINE, 2575, hl7_message("MONITOR_GW"), b"\x0bMSH|ack\x1c\r")
                packets += 10
            else:
                scene.udp(ts, MODALITY, DNS, 53, dns_query("pacs.hospital.example"))
                packets += 1
            j += 1
        offset = None
        if i % every == every // 2:
            offset = slice_s / 2
            scene.tcp(base + offset, MODALITY, C2.format(1 + (i // every) % 250), 443, b"\x16\x03\x01\x00\x05hello")
        with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
            scene.write(Path(tmp.name))
            out.append((Path(tmp.name).read_bytes(), offset))
    return out


def main() -> None:
    """Run the benchmark and print the figures (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2000, help="background packets per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--slice-ms", type=float, default=100.0, help="sensor read interval")
    parser.add_argument("--trigger-every", type=int, default=5, help="one trigger every N slices")
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    args = parser.parse_args()
    slice_s = args.slice_ms / 1000
    work = Path(tempfile.mkdtemp(prefix="ww-bench-"))
    inventory = Inventory.open(f"sqlite:///{work / 'ww.db'}")
    day0 = 1_793_610_000.0
    analyze_captures([normal_day().write(work / "normal.pcap")], inventory)
    baseline = learn_baseline(inventory, window_days=30)
    versions = PolicyVersions(inventory.engine)
    versions.add(generate(baseline, directory_of(inventory)))
    versions.approve(1, "bench")
    iocs = IndicatorSet([Indicator("ip", C2.format(n), "bench") for n in range(1, 251)])
    ctx = context_for(inventory, indicators=iocs)
    engine = DetectionEngine(ctx)
    store = AlertStore(inventory.engine)
    port, received, server = listener(args.transport)
    notifier = SyslogNotifier("127.0.0.1", port, transport=args.transport)
    slices = build_slices(args.rate, args.seconds, slice_s, args.trigger_every, day0 + 1800)
    pcap = work / "slice.pcap"
    registry = Registry.from_entry_points()
    read_lat, arrival_lat, busy = [], [], []
    start = time.perf_counter()
    for i, (data, offset) in enumerate(slices):
        slice_end = start + (i + 1) * slice_s
        while (left := slice_end - time.perf_counter()) > 0:  # pacing: the slice's packets are arriving
            time.sleep(left)
        t_read = time.perf_counter()
        pcap.write_bytes(data)
        flows, observations = read_capture(pcap, registry=registry)
        sent = 0
        for alert, new in store.record_new(engine.run(flows, observations)):
            if new:
                deliver(alert, [notifier])
                sent += 1
        busy.append(time.perf_counter() - t_read)
        if offset is not None:
            t_recv, message = received.get(timeout=10)
            while b"|ioc_match|" not in message:  # other rules may alert first (e.g. new_peer, once)
                t_recv, message = received.get(timeout=10)
            read_lat.append(t_recv - t_read)
            arrival_lat.append(t_recv - (slice_end - slice_s + offset))
    server.close()
    inventory.close()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else 0.0

    total = sum(len(d) for d, _ in slices)
    print(f"background {args.rate} packets/s for {args.seconds:g} s ({len(slices)} slices of {args.slice_ms:g} ms, "
          f"{total / 1e6:.1f} MB), syslog over {args.transport}, {len(read_lat)} triggers")
    print(f"read → delivered:    p50 {pct(read_lat, 50):.1f} ms, p95 {pct(read_lat, 95):.1f} ms")
    print(f"arrival → delivered: p50 {pct(arrival_lat, 50):.1f} ms, p95 {pct(arrival_lat, 95):.1f} ms")
    print(f"sensor busy per slice: p50 {pct(busy, 50):.1f} ms, p95 {pct(busy, 95):.1f} ms "
          f"(keeps up while below {args.slice_ms:g} ms)")


if __name__ == "__main__":
    main()

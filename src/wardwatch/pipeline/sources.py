"""What a sensor reads: a capture file, a live interface, Zeek logs or Suricata EVE, as Observation chunks.

Every source has ``run(emit, stop)``: it calls ``emit(observations, flows)`` as it goes (per chunk of a
file, per read of an interface, per poll of a followed log) until its input ends or ``stop`` is set, and
``counters()`` for the batch headers. Packet sources share :class:`PacketHarvester`, which does on a
stream what ``pipeline.analyze`` does on a whole file: dissect, label flows, find gateways (over a
bounded rolling window of flows), clean addresses and derive the flow facts.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import decode
from wardwatch.capture.flows import FlowTable
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.records import open_reader
from wardwatch.capture.source import CaptureSource
from wardwatch.dissect.registry import Registry
from wardwatch.domain.flow import PROTO_L2, FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.logs.follow import Follower
from wardwatch.logs.records import ReadStats, json_records, zeek_path_from_name, zeek_tsv_records
from wardwatch.logs.source import LogResult, log_files, read_logs, records_to_facts
from wardwatch.pipeline.analyze import label_flows
from wardwatch.pipeline.collect import DissectingSink
from wardwatch.pipeline.endpoints import GATEWAY_IP_THRESHOLD, clean, flow_observations

Emit = Callable[[list[Observation], list[FlowRecord]], None]
#: MACs whose address sets the gateway tracker keeps (oldest forgotten first).
MAX_TRACKED_MACS = 65536
#: Application labels kept for flows still open.
MAX_APPS = 200_000


class Source(Protocol):
    """A sensor input."""

    kind: str

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Read until the input ends or ``stop`` is set, emitting as it goes."""
        ...

    def counters(self) -> dict[str, int]:
        """Cumulative counters for the batch header."""
        ...


class GatewayTracker:
    """MACs that source many IPs (routers): ``pipeline.endpoints.gateway_macs`` over a rolling window."""

    def __init__(self, threshold: int = GATEWAY_IP_THRESHOLD) -> None:
        self.threshold = threshold
        self._ips: dict[str, set[str]] = {}
        self.macs: set[str] = set()

    def update(self, flows: Sequence[FlowRecord]) -> None:
        """Account the addresses of these flows."""
        for flow in flows:
            if flow.proto == PROTO_L2:
                continue
            self._add(flow.src_mac, flow.src_ip)
            if flow.packets_rev:
                self._add(flow.dst_mac, flow.dst_ip)

    def _add(self, mac: str | None, ip: str) -> None:
        if not mac or mac in self.macs:
            return
        seen = self._ips.get(mac)
        if seen is None:
            if len(self._ips) >= MAX_TRACKED_MACS:
                del self._ips[next(iter(self._ips))]
            seen = self._ips[mac] = set()
        seen.add(ip)
        if len(seen) > self.threshold:
            self.macs.add(mac)
            del self._ips[mac]


class PacketHarvester:
    """Turns the flow table's output and the dissectors' findings into clean Observations."""

    def __init__(self, registry: Registry, sensor: str, local_networks: tuple[str, ...] = ()) -> None:
        self.sink = DissectingSink(registry)
        self.sensor = sensor
        self.local_networks = local_networks
        self.gateways = GatewayTracker()

    def harvest(self, ended: list[FlowRecord]) -> tuple[list[Observation], list[FlowRecord]]:
        """Observations found since the last call, and the ended flows labelled with their application."""
        apps = self.sink.apps
        flows = label_flows(ended, apps) if ended else []
        for flow in flows:  # forget labels of ended flows (bounded memory)
            apps.pop((flow.proto, flow.src_ip, flow.src_port, flow.dst_ip, flow.dst_port), None)
            apps.pop((flow.proto, flow.dst_ip, flow.dst_port, flow.src_ip, flow.src_port), None)
        if len(apps) > MAX_APPS:
            apps.clear()
        self.gateways.update(flows)
        gw = self.gateways.macs
        observations = list(clean(self.sink.drain(), gw, self.local_networks))
        observations.extend(flow_observations(flows, gw, self.sensor, self.local_networks))
        return observations, flows


class PcapFileSource:
    """A pcap/pcapng file, read chunk by chunk (the engine's loop, emitting after every chunk)."""

    kind = "pcap"

    def __init__(self, path: Path, registry: Registry, sensor: str, *, config: CaptureConfig | None = None,
                 local_networks: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.config = config or CaptureConfig(chunk_bytes=4 << 20)
        self.harvester = PacketHarvester(registry, sensor, local_networks)
        self.stats = CaptureStats()
        self.sensor = sensor

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Read the whole file (or until ``stop``), flushing the flow table at the end."""
        table = FlowTable(self.harvester.sink, sensor=self.sensor, config=self.config, stats=self.stats)
        with CaptureSource(self.path) as src:
            assert src.buf is not None
            reader = open_reader(src.buf, src.size)
            gatherer = Gatherer(src.buf, src.size)
            for rec in reader.batches(self.config.chunk_bytes):
                emit(*self.harvester.harvest(table.feed(decode(gatherer, rec), src.buf)))
                if stop.is_set():
                    break
            emit(*self.harvester.harvest(table.flush()))
            for reason, n in reader.stats.skipped.items():
                self.stats.count(reason, n)
                self.stats.skipped_records += n
            del gatherer, reader

    def counters(self) -> dict[str, int]:
        """Packets read and records skipped."""
        return {"packets": self.stats.packets, "skipped": self.stats.skipped_records + self.stats.undecoded_packets}


class LogSource:
    """Zeek logs (a folder or files) or a Suricata EVE file; read once, or followed as they grow."""

    def __init__(self, paths: Sequence[Path], sensor: str, kind: str, *, follow: bool = False,
                 poll: float = 0.5) -> None:
        self.paths = [Path(p) for p in paths]
        self.sensor = sensor
        self.kind = kind
        self.follow = follow
        self.poll = poll
        self.stats = ReadStats()
        self.records = 0

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Read (and follow) the logs."""
        if not self.follow:
            result = read_logs(self.paths, self.sensor)
            self.stats = result.stats
            self.records = len(result.observations)
            emit(result.observations, result.flows)
            return
        followers: dict[Path, tuple[Follower, list[str]]] = {}
        certs: dict[str, dict[str, Any]] = {}
        while not stop.is_set():
            for path in log_files(self.paths):
                if path not in followers:
                    followers[path] = (Follower(path), [])
            result = LogResult(stats=self.stats)
            for path, (follower, header) in followers.items():
                lines = follower.poll()
                if lines:
                    records_to_facts(self._records(path, lines, header), self.sensor, result, certs)
            if result.observations or result.flows:
                self.records += len(result.observations)
                emit(result.observations, result.flows)
            stop.wait(self.poll)

    def _records(self, path: Path, lines: list[str], header: list[str]) -> Any:
        if lines[0].lstrip().startswith("{") or (not header and path.suffix in (".json", ".ndjson")):
            for record in json_records(io.StringIO("".join(lines)), self.stats):
                yield ("eve" if "event_type" in record else str(record.get("_path") or zeek_path_from_name(path)),
                       record)
            return
        # Zeek TSV: the header block (#separator ... #types) is kept and put before each new piece.
        body: list[str] = []
        for line in lines:
            if line.startswith("#separator"):
                header.clear()
            if line.startswith("#") and not line.startswith(("#close", "#open")):
                header.append(line)
            elif not line.startswith("#"):
                body.append(line)
        if body:
            yield from zeek_tsv_records(header + body, self.stats, zeek_path_from_name(path))

    def counters(self) -> dict[str, int]:
        """Records read and skipped."""
        return {"records": self.stats.records, "observations": self.records, "skipped": self.stats.skipped}

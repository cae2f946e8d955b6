"""Capture files in, flows and payload callbacks out: the engine that wires reader, decoder, flow table.

``process_capture`` maps the file (gunzipping it to a temporary file first when needed), walks its
records in chunks of ``chunk_bytes``, decodes each chunk's headers vectorially and feeds the flow table,
which hands the first bytes of each flow direction to the :class:`~wardwatch.capture.sink.PayloadSink`.
A file that is unusable as a whole raises :class:`~wardwatch.errors.CaptureError`; damage inside a file
is counted in :class:`CaptureStats` and never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.decode import decode
from wardwatch.capture.flows import FlowTable
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.gctune import relaxed_gc, settled_survivors
from wardwatch.capture.records import open_reader
from wardwatch.capture.sink import PayloadSink
from wardwatch.capture.source import CaptureSource
from wardwatch.domain.flow import FlowRecord

__all__ = ["CaptureConfig", "CaptureResult", "CaptureStats", "process_capture"]


@dataclass
class CaptureResult:
    """All flows of a capture (in the order they ended) and the run's counters."""

    flows: list[FlowRecord] = field(default_factory=list)
    stats: CaptureStats = field(default_factory=CaptureStats)


def process_capture(
    path: Path,
    sink: PayloadSink,
    *,
    sensor: str = "local",
    config: CaptureConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CaptureResult:
    """Read one pcap/pcapng file (optionally gzip-compressed) and account every packet.

    ``progress(bytes_done, total_bytes)`` is called after each chunk; the stats carry the packet count.
    """
    cfg = config or CaptureConfig()
    result = CaptureResult()
    stats = result.stats
    table = FlowTable(sink, sensor=sensor, config=cfg, stats=stats)
    with CaptureSource(Path(path)) as src, relaxed_gc(), settled_survivors():
        assert src.buf is not None
        reader = open_reader(src.buf, src.size)
        gatherer = Gatherer(src.buf, src.size)
        for rec in reader.batches(cfg.chunk_bytes):
            result.flows += table.feed(decode(gatherer, rec), src.buf)
            if progress is not None:
                progress(reader.position, src.size)
        result.flows += table.flush()
        reader_stats = reader.stats
        del gatherer, reader  # release numpy views of the map before it is closed
        stats.truncated_file = reader_stats.truncated or src.gzip_truncated
        for reason, n in reader_stats.skipped.items():
            stats.count(reason, n)
            stats.skipped_records += n
        if src.gzip_truncated:
            stats.count("truncated_gzip")
    return result

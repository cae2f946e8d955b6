"""Log files (Zeek TSV/JSON, Suricata EVE) into Observations and FlowRecords, from files or folders.

``read_logs`` reads whole files; :mod:`wardwatch.logs.follow` follows growing ones. Zeek's x509.log is
joined to ssl.log through the certificate fingerprints (``cert_chain_fps``) so that the server of a TLS
connection gets its certificate's subject, issuer and validity, as the packet path gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.domain.timefmt import utc_text
from wardwatch.logs import eve, zeek
from wardwatch.logs.records import (
    ReadStats,
    json_records,
    parse_ts,
    sniff_format,
    zeek_path_from_name,
    zeek_tsv_records,
)


@dataclass
class LogResult:
    """What reading logs gave."""

    observations: list[Observation] = field(default_factory=list)
    flows: list[FlowRecord] = field(default_factory=list)
    stats: ReadStats = field(default_factory=ReadStats)
    files: int = 0


def log_files(paths: Sequence[Path]) -> list[Path]:
    """Files named, and the log files inside folders named (x509 logs first, for the ssl join)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".log", ".json", ".ndjson"))
        else:
            found.append(path)
    return sorted(found, key=lambda p: (0 if "x509" in p.name else 1, str(p)))


def _records(path: Path, stats: ReadStats) -> Iterator[tuple[str, dict[str, Any]]]:
    default = zeek_path_from_name(path)
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        if sniff_format(path) == "json":
            for record in json_records(handle, stats):
                kind = "eve" if "event_type" in record else str(record.get("_path") or default)
                yield kind, record
        else:
            yield from zeek_tsv_records(handle, stats, default)


def _x509_observations(record: dict[str, Any], certs: dict[str, dict[str, Any]], sensor: str
                       ) -> Iterator[Observation]:
    fps = record.get("cert_chain_fps") or record.get("cert_chain_fuids") or []
    fps = fps if isinstance(fps, list) else str(fps).split(",")
    cert = certs.get(fps[0]) if fps else None
    resp = zeek._ip(record, "resp")
    if cert is None or resp is None:
        return
    ts = parse_ts(record.get("ts"))
    for kind, key in (("tls.cert_subject", "certificate.subject"), ("tls.cert_issuer", "certificate.issuer"),
                      ("tls.cert_not_before", "certificate.not_valid_before"),
                      ("tls.cert_not_after", "certificate.not_valid_after")):
        value = cert.get(key)
        if value:
            if "valid" in key:
                value = _iso(value)
            yield Observation(ts=ts, sensor=sensor, kind=kind, value=str(value)[:512], ip=resp, source="zeek",
                              excerpt="zeek x509.log")


def _iso(value: Any) -> str:
    seconds = parse_ts(value)
    return utc_text(seconds) if seconds else str(value)


def records_to_facts(records: Iterable[tuple[str, dict[str, Any]]], sensor: str, result: LogResult,
                     certs: dict[str, dict[str, Any]]) -> None:
    """Map (kind, record) pairs into ``result``."""
    for kind, record in records:
        if kind == "eve":
            result.observations.extend(eve.eve_observations(record, sensor))
            flow = eve.eve_flow(record, sensor)
        else:
            if kind == "x509":
                fingerprint = record.get("fingerprint") or record.get("id")
                if isinstance(fingerprint, str):
                    certs[fingerprint] = record
                continue
            mapper = zeek.MAPPERS.get(kind)
            if mapper is not None:
                result.observations.extend(mapper(record, sensor))
            if kind == "ssl":
                result.observations.extend(_x509_observations(record, certs, sensor))
            flow = zeek.conn_flow(record, sensor) if kind == "conn" else None
        if flow is not None:
            result.flows.append(flow)


def read_logs(paths: Sequence[Path], sensor: str = "local") -> LogResult:
    """Read Zeek and Suricata logs (files or folders); malformed records are counted and skipped."""
    result = LogResult()
    certs: dict[str, dict[str, Any]] = {}
    for path in log_files(paths):
        result.files += 1
        try:
            records_to_facts(_records(path, result.stats), sensor, result, certs)
        except (OSError, UnicodeError) as exc:
            result.stats.skip(f"unreadable file {path.name}: {exc.__class__.__name__}")
    return result

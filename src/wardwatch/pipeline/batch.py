"""Observation batches: what a sensor sends and a server applies, with a stable id for idempotent replay.

A :class:`Batch` carries the Observations and FlowRecords a sensor gathered over one interval, plus a
header: the sensor's name and site, the batch id ``(sensor, epoch, seq)`` and the sensor's counters
(packets seen, packets the kernel dropped, records skipped). ``epoch`` is fixed when a sensor's state
folder is first created and ``seq`` counts up from there, so an id never names two different batches;
a redelivered batch keeps its id and the server applies it once (``pipeline.ledger``).

On the wire a batch is zlib-compressed JSON (RFC 1950/8259) behind a one-byte format version, so a
server can refuse a format it does not know instead of misreading it. Decoding untrusted bytes raises
:class:`BatchError` and nothing else.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

FORMAT = 1
#: Largest decompressed batch a server accepts (a hostile or broken sensor cannot exhaust memory).
MAX_BATCH_BYTES = 64 << 20
#: Sensor and site names: subject tokens in NATS (no dots, wildcards or spaces).
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_OBS_FIELDS = {f.name for f in fields(Observation)}
_FLOW_FIELDS = {f.name for f in fields(FlowRecord)}


class BatchError(ParseError):
    """Bytes that are not a batch of a known format."""


@dataclass(frozen=True, slots=True)
class BatchId:
    """The stable id of one batch: a sensor, the epoch of its state, a sequence number."""

    sensor: str
    epoch: int
    seq: int

    def __str__(self) -> str:
        return f"{self.sensor}.{self.epoch}.{self.seq}"


@dataclass(frozen=True)
class Batch:
    """Observations and flows of one interval from one sensor, with the sensor's counters."""

    id: BatchId
    site: str
    created: float
    observations: tuple[Observation, ...] = ()
    flows: tuple[FlowRecord, ...] = ()
    #: Cumulative counters of the sensor at ``created`` (packets, drops, if_drops, skipped, spooled ...).
    counters: dict[str, int] = field(default_factory=dict)
    #: What the sensor reads: ``interface``, ``pcap``, ``zeek``, ``eve``.
    source: str = ""

    def __len__(self) -> int:
        return len(self.observations)


def valid_name(name: str) -> bool:
    """True when ``name`` can be a sensor, site or deployment name (a NATS subject token)."""
    return bool(NAME.match(name))


def encode(batch: Batch) -> bytes:
    """The wire form of ``batch``."""
    body = {
        "id": [batch.id.sensor, batch.id.epoch, batch.id.seq],
        "site": batch.site,
        "created": batch.created,
        "source": batch.source,
        "counters": batch.counters,
        "observations": [o.to_dict() for o in batch.observations],
        "flows": [asdict(f) for f in batch.flows],
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return bytes([FORMAT]) + zlib.compress(text, 1)


def decode(data: bytes) -> Batch:
    """Rebuild a batch from :func:`encode` output; :class:`BatchError` for anything else."""
    if not data or data[0] != FORMAT:
        raise BatchError(f"unknown batch format {data[:1].hex() or 'empty'}")
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(data[1:], MAX_BATCH_BYTES)
        if inflater.unconsumed_tail:
            raise BatchError(f"batch larger than {MAX_BATCH_BYTES} bytes")
        body = json.loads(text)
        return _batch(body)
    except BatchError:
        raise
    except (zlib.error, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise BatchError(f"malformed batch: {exc.__class__.__name__}") from None


def _batch(body: Any) -> Batch:
    if not isinstance(body, dict):
        raise BatchError("batch is not an object")
    sensor, epoch, seq = body["id"]
    if not isinstance(sensor, str) or not valid_name(sensor):
        raise BatchError("bad sensor name")
    site = body["site"]
    if not isinstance(site, str) or not valid_name(site):
        raise BatchError("bad site name")
    counters = {str(k): int(v) for k, v in dict(body.get("counters") or {}).items()}
    return Batch(
        id=BatchId(sensor, int(epoch), int(seq)),
        site=site,
        created=float(body["created"]),
        source=str(body.get("source") or ""),
        counters=counters,
        observations=tuple(_observation(o) for o in body["observations"]),
        flows=tuple(_flow(f) for f in body["flows"]),
    )


def _observation(data: Any) -> Observation:
    if not isinstance(data, dict) or not set(data) <= _OBS_FIELDS:
        raise BatchError("bad observation")
    obs = Observation.from_dict(data)
    if not isinstance(obs.kind, str) or not isinstance(obs.value, str) or not isinstance(obs.ts, int | float):
        raise BatchError("bad observation field types")
    if not isinstance(obs.count, int) or isinstance(obs.count, bool) or not 0 <= obs.count <= 1 << 40:
        raise BatchError("bad observation count")
    return obs


def _flow(data: Any) -> FlowRecord:
    if not isinstance(data, dict) or not set(data) <= _FLOW_FIELDS:
        raise BatchError("bad flow record")
    return FlowRecord(**data)

"""Record indexes: where each packet of a capture lies in the mapped buffer.

Readers (``pcap.py``, ``pcapng.py``) walk record headers in a tight loop and hand out
:class:`RecordIndex` batches: parallel numpy arrays, one element per packet. All later header work
is vectorized over these arrays; no object is built per packet.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from wardwatch.errors import CaptureError

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Largest record we accept regardless of the header's snaplen (libpcap's MAXIMUM_SNAPLEN is 262144;
#: some writers use larger values for USB/D-Bus, never for the link types we dissect).
MAX_RECORD = 262144 * 4

PCAP_MAGICS = {
    0xA1B2C3D4: ("<", 1_000_000),
    0xD4C3B2A1: (">", 1_000_000),
    0xA1B23C4D: ("<", 1_000_000_000),
    0x4D3CB2A1: (">", 1_000_000_000),
}
PCAPNG_SHB = 0x0A0D0D0A


@dataclass
class RecordIndex:
    """One batch of packet records: data offset in the buffer, captured and wire length, time, link type."""

    off: I64
    caplen: I64
    wirelen: I64
    ts: F64
    link: I64

    def __len__(self) -> int:
        return int(self.off.shape[0])

    @staticmethod
    def build(
        off: list[int], caplen: list[int], wirelen: list[int], ts: list[float], link: list[int]
    ) -> RecordIndex:
        """From plain lists (used by the slow paths and tests)."""
        return RecordIndex(
            np.asarray(off, dtype=np.int64),
            np.asarray(caplen, dtype=np.int64),
            np.asarray(wirelen, dtype=np.int64),
            np.asarray(ts, dtype=np.float64),
            np.asarray(link, dtype=np.int64),
        )

    @staticmethod
    def concat(parts: list[RecordIndex]) -> RecordIndex:
        """Concatenate batches (in order)."""
        return RecordIndex(
            np.concatenate([p.off for p in parts]),
            np.concatenate([p.caplen for p in parts]),
            np.concatenate([p.wirelen for p in parts]),
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.link for p in parts]),
        )


@dataclass
class ReaderStats:
    """What a reader had to skip: counts per reason, and whether the file ended mid-record."""

    skipped: dict[str, int] = field(default_factory=dict)
    truncated: bool = False

    def skip(self, reason: str, n: int = 1) -> None:
        """Count ``n`` skipped records for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + n


class RecordReader(Protocol):
    """What the engine needs from a file reader."""

    stats: ReaderStats
    position: int

    def batches(self, chunk_bytes: int) -> Iterator[RecordIndex]:
        """Yield record batches covering about ``chunk_bytes`` of the file each."""
        ...


def open_reader(buf: bytes | memoryview | object, size: int) -> RecordReader:
    """Pick the reader by magic number; :class:`CaptureError` when the file is no capture at all."""
    from wardwatch.capture.pcap import PcapReader
    from wardwatch.capture.pcapng import PcapngReader

    if size < 4:
        raise CaptureError(f"not a capture file: only {size} bytes")
    head = bytes(buf[:24])  # type: ignore[index]
    (magic,) = struct.unpack_from("<I", head, 0)
    if magic in PCAP_MAGICS:
        if size < 24:
            raise CaptureError("pcap file header is truncated (fewer than 24 bytes)")
        return PcapReader(buf, size)
    if magic == PCAPNG_SHB:
        return PcapngReader(buf, size)
    raise CaptureError(f"not a pcap or pcapng file (magic 0x{magic:08x})")

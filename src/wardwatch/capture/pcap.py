"""Classic libpcap files (draft-ietf-opsawg-pcap §4-5): both byte orders, micro- and nanosecond stamps.

The offset walk (read ``caplen`` at record header + 8 and jump) is the one sequential step; it runs
compiled (:mod:`.compiled`) and gathers each record's time and lengths on the way, so no Python code
runs per record. A record whose length is
impossible (beyond the snaplen limit) starts a bounded resynchronisation scan; a record running past the
end of the file ends the walk and marks the file truncated.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.capture.compiled import pcap_walk
from wardwatch.capture.records import MAX_RECORD, PCAP_MAGICS, ReaderStats, RecordIndex
from wardwatch.errors import CaptureError

#: How far a resynchronisation scan looks for the next plausible record header before giving up.
RESYNC_WINDOW = 1 << 20
#: Most records indexed per batch (bounds the walk's output array: 5 MiB).
MAX_BATCH = 1 << 17
_HDR = 16


class PcapReader:
    """Reads record batches from a mapped classic pcap file."""

    def __init__(self, buf: Any, size: int) -> None:
        (magic,) = struct.unpack_from("<I", buf, 0)
        self.endian, self.unit = PCAP_MAGICS[magic]
        e = self.endian
        _major, _minor, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(e + "HHiIII", buf, 4)
        # FCS/flags bits live in the upper bits of the link type field (draft-ietf-opsawg-pcap §4).
        self.linktype = linktype & 0x0FFFFFFF
        self.limit = max(snaplen if 0 < snaplen <= MAX_RECORD else 0, 262144)
        self.buf = buf
        self.size = size
        self.position = 24
        self.stats = ReaderStats()
        self._u32 = struct.Struct(e + "I").unpack_from
        self._hdr = struct.Struct(e + "IIII").unpack_from
        self._last_sec = -1
        if size < 24:
            raise CaptureError("pcap file header is truncated")

    def batches(self, chunk_bytes: int) -> Iterator[RecordIndex]:
        """Walk the file, yielding one batch per ``chunk_bytes`` of records."""
        size = self.size
        big = self.endian == ">"
        out = np.empty((min(chunk_bytes // _HDR + 1, MAX_BATCH), 5), dtype=np.int64)
        last = size - _HDR  # a record header must start at or before this offset
        while self.position <= last:
            start = self.position
            stop = min(last + 1, start + chunk_bytes)
            # The offset chain (caplen at record header + 8) is walked by a compiled loop.
            n, pos, bad = pcap_walk(self.buf, start, stop, self.limit, big, out)
            if pos > size:  # the last record's body runs past the end of the file
                n -= 1
                self.stats.truncated = True
                self.stats.skip("truncated_record")
                self.position = size
            else:
                self.position = pos
            if n > 0:
                yield self._index(out[:n])
            if bad:
                self._resync()
        if self.position < size:  # fewer than 16 bytes left: a cut record header
            self.stats.truncated = True
            self.stats.skip("truncated_record")
            self.position = size

    def _index(self, rows: npt.NDArray[np.int64]) -> RecordIndex:
        """A batch from the walk's rows (offset, seconds, fraction, caplen, wirelen)."""
        cap = rows[:, 3].copy()
        wire = np.maximum(rows[:, 4], cap)
        self._last_sec = int(rows[-1, 1])
        ts = rows[:, 1].astype(np.float64) + rows[:, 2].astype(np.float64) / self.unit
        link = np.full(rows.shape[0], self.linktype, dtype=np.int64)
        return RecordIndex(rows[:, 0] + _HDR, cap, wire, ts, link)

    def _plausible(self, pos: int) -> bool:
        if pos + _HDR > self.size:
            return False
        sec, frac, cap, wire = self._hdr(self.buf, pos)
        if frac >= self.unit or cap > self.limit or wire < cap or pos + _HDR + cap > self.size:
            return False
        return not (self._last_sec >= 0 and abs(sec - self._last_sec) > 86400 * 7)

    def _resync(self) -> None:
        """Find the next record whose header, and the one after it, look sane (bounded scan)."""
        start = self.position
        self.stats.skip("bad_record_length")
        end = min(self.size - _HDR, start + RESYNC_WINDOW)
        for pos in range(start + 1, end + 1):
            if not self._plausible(pos):
                continue
            (cap,) = self._u32(self.buf, pos + 8)
            nxt = pos + _HDR + cap
            if nxt == self.size or self._plausible(nxt):
                self.position = pos
                return
        self.stats.truncated = True
        self.position = self.size

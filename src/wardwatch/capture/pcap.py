"""Classic libpcap files (draft-ietf-opsawg-pcap §4-5): both byte orders, micro- and nanosecond stamps.

The only per-record Python work is the offset walk: read ``caplen`` at record header + 8 and jump.
Timestamps and lengths are then gathered vectorially for the whole batch. A record whose length is
impossible (beyond the snaplen limit) starts a bounded resynchronisation scan; a record running past the
end of the file ends the walk and marks the file truncated.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from wardwatch.capture.records import MAX_RECORD, PCAP_MAGICS, ReaderStats, RecordIndex
from wardwatch.errors import CaptureError

#: How far a resynchronisation scan looks for the next plausible record header before giving up.
RESYNC_WINDOW = 1 << 20
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
        buf, size, limit = self.buf, self.size, self.limit
        u32 = self._u32
        last = size - _HDR  # a record header must start at or before this offset
        while self.position <= last:
            pos = self.position
            stop = min(last + 1, pos + chunk_bytes)
            offs: list[int] = []
            ap = offs.append
            bad = False
            # Tight loop: record starts only (caplen is at record header + 8).
            while pos < stop:
                (cap,) = u32(buf, pos + 8)
                if cap > limit:
                    bad = True
                    break
                ap(pos)
                pos += _HDR + cap
            if pos > size:  # the last record's body runs past the end of the file
                pos = offs.pop()
                self.stats.truncated = True
                self.stats.skip("truncated_record")
                self.position = size
            else:
                self.position = pos
            if offs:
                yield self._gather(offs)
            if bad:
                self._resync()
        if self.position < size:  # fewer than 16 bytes left: a cut record header
            self.stats.truncated = True
            self.stats.skip("truncated_record")
            self.position = size

    def _gather(self, offs: list[int]) -> RecordIndex:
        rec = np.asarray(offs, dtype=np.int64)
        raw = np.frombuffer(self.buf, dtype=np.uint8)
        idx = rec[:, None] + np.arange(_HDR, dtype=np.int64)[None, :]
        hdr = np.ascontiguousarray(raw[idx]).view(np.dtype(self.endian + "u4")).reshape(-1, 4)
        cap = hdr[:, 2].astype(np.int64)
        wire = np.maximum(hdr[:, 3].astype(np.int64), cap)
        if len(rec):
            self._last_sec = int(hdr[-1, 0])
        ts = hdr[:, 0].astype(np.float64) + hdr[:, 1].astype(np.float64) / self.unit
        link = np.full(len(rec), self.linktype, dtype=np.int64)
        return RecordIndex(rec + _HDR, cap, wire, ts, link)

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

"""The sensor's on-disk spool: every batch is written here first, and sent from here.

Append-only segment files of length-prefixed, CRC-32-checked records (``<u32 length><u32 crc><bytes>``),
each append flushed with ``fsync`` before it counts as spooled. A cursor file (replaced atomically:
write, fsync, rename, fsync the folder) says how far the bus has acknowledged; fully acknowledged
segments are deleted. So a sensor that loses NATS, or crashes, resends exactly what was not yet
acknowledged, and a record torn by a crash (short or failing its CRC) ends the readable spool and is
cut off when the spool is opened again.

The spool is bounded (``max_bytes``): when full, a new batch is refused and counted in
:attr:`Spool.refused` (reported in the batch counters, never silent).

The folder also keeps the sensor's batch-id state (``state.json``: the epoch, and a reserved block of
sequence numbers), so ids stay unique across restarts (``pipeline.batch``).
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path

from wardwatch.errors import WardwatchError
from wardwatch.pipeline.batch import BatchId

_HDR = struct.Struct("<II")
#: Sequence numbers reserved per write of the state file (a crash skips at most this many ids).
SEQ_BLOCK = 1024


class SpoolError(WardwatchError):
    """The spool folder cannot be used (permissions, disk)."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _fsync_dir(path.parent)


class IdSource:
    """Batch ids for one sensor: ``(sensor, epoch, seq)``, persisted in ``folder`` when given."""

    def __init__(self, sensor: str, folder: Path | None = None) -> None:
        self.sensor = sensor
        self._state = folder / "state.json" if folder is not None else None
        self._lock = threading.Lock()
        self.epoch = time.time_ns() // 1000
        self._next = 0
        self._reserved = 0
        if self._state is not None and self._state.exists():
            data = json.loads(self._state.read_text(encoding="utf-8"))
            if data.get("sensor") == sensor:
                self.epoch = int(data["epoch"])
                self._next = self._reserved = int(data["reserved"])

    def next(self) -> BatchId:
        """The next id (reserving a new block on disk when the current one is used up)."""
        with self._lock:
            if self._state is not None and self._next >= self._reserved:
                self._reserved = self._next + SEQ_BLOCK
                _write_atomic(self._state, json.dumps({"sensor": self.sensor, "epoch": self.epoch,
                                                       "reserved": self._reserved}))
            seq = self._next
            self._next += 1
            return BatchId(self.sensor, self.epoch, seq)


class Spool:
    """Segmented, fsync'd, bounded FIFO of encoded batches; thread-safe (one writer, one sender)."""

    def __init__(self, folder: Path, *, max_bytes: int = 1 << 30, segment_bytes: int = 8 << 20) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"cannot create spool folder {self.folder}: {exc.strerror}") from exc
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.refused = 0
        self._lock = threading.Lock()
        self._cursor_path = self.folder / "cursor"
        self._read_seg, self._read_off = self._load_cursor()
        segs = self._segments()
        self._write_seg = segs[-1] if segs else self._read_seg
        self._repair_tail()
        self._fh = (self.folder / self._name(self._write_seg)).open("ab")

    # -- layout -------------------------------------------------------------------------------------
    @staticmethod
    def _name(seg: int) -> str:
        return f"{seg:012d}.seg"

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.folder.glob("*.seg") if p.stem.isdigit())

    def _load_cursor(self) -> tuple[int, int]:
        if self._cursor_path.exists():
            seg, off = self._cursor_path.read_text(encoding="ascii").split()
            return int(seg), int(off)
        segs = self._segments()
        return (segs[0] if segs else 0), 0

    def _repair_tail(self) -> None:
        """Cut a torn last record (a crash mid-append) so appends continue on a clean boundary."""
        path = self.folder / self._name(self._write_seg)
        if not path.exists():
            return
        good = self._read_off if self._read_seg == self._write_seg else 0
        with path.open("rb") as handle:
            handle.seek(good)
            while True:
                head = handle.read(_HDR.size)
                if len(head) < _HDR.size:
                    break
                length, crc = _HDR.unpack(head)
                body = handle.read(length)
                if len(body) < length or zlib.crc32(body) != crc:
                    break
                good = handle.tell()
        if good < path.stat().st_size:
            os.truncate(path, good)

    # -- writer -------------------------------------------------------------------------------------
    def append(self, data: bytes) -> bool:
        """Append one record durably; False (and counted) when the spool is full."""
        with self._lock:
            if self.pending_bytes() + len(data) + _HDR.size > self.max_bytes:
                self.refused += 1
                return False
            if self._fh.tell() >= self.segment_bytes:
                self._fh.close()
                self._write_seg += 1
                self._fh = (self.folder / self._name(self._write_seg)).open("ab")
                _fsync_dir(self.folder)
            self._fh.write(_HDR.pack(len(data), zlib.crc32(data)) + data)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            return True

    # -- sender -------------------------------------------------------------------------------------
    def peek(self, limit: int = 64) -> list[tuple[tuple[int, int], bytes]]:
        """Up to ``limit`` unacknowledged records, oldest first, each with the position after it."""
        out: list[tuple[tuple[int, int], bytes]] = []
        with self._lock:
            seg, off = self._read_seg, self._read_off
            while len(out) < limit and seg <= self._write_seg:
                path = self.folder / self._name(seg)
                if not path.exists():
                    seg, off = seg + 1, 0
                    continue
                with path.open("rb") as handle:
                    handle.seek(off)
                    while len(out) < limit:
                        head = handle.read(_HDR.size)
                        if len(head) < _HDR.size:
                            break
                        length, crc = _HDR.unpack(head)
                        body = handle.read(length)
                        if len(body) < length or zlib.crc32(body) != crc:
                            break
                        off = handle.tell()
                        out.append(((seg, off), body))
                if seg == self._write_seg:
                    break
                seg, off = seg + 1, 0
        return out

    def commit(self, position: tuple[int, int]) -> None:
        """Everything up to ``position`` was acknowledged: persist the cursor, delete finished segments."""
        with self._lock:
            seg, off = position
            _write_atomic(self._cursor_path, f"{seg} {off}\n")
            for old in self._segments():
                if old < seg:
                    (self.folder / self._name(old)).unlink(missing_ok=True)
            self._read_seg, self._read_off = seg, off

    def pending_bytes(self) -> int:
        """Bytes of segment files not yet fully acknowledged (an upper bound of the backlog)."""
        total = 0
        for seg in self._segments():
            if seg >= self._read_seg:
                size = (self.folder / self._name(seg)).stat().st_size
                total += size - (self._read_off if seg == self._read_seg else 0)
        return total

    def close(self) -> None:
        """Close the open segment."""
        with self._lock:
            self._fh.close()

"""A streaming pcapng writer (draft-ietf-opsawg-pcapng): SHB, one Ethernet IDB, then EPBs.

Packets go straight to a buffered file; nothing of the capture is held in memory. No wall-clock
time or host name is written, so the same packets give the same bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

_BYTE_ORDER_MAGIC = 0x1A2B3C4D
LINKTYPE_ETHERNET = 1


def _option(code: int, value: bytes) -> bytes:
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * pad


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


class PcapngWriter:
    """Write Ethernet frames with microsecond timestamps to a pcapng file."""

    def __init__(self, path: Path, *, application: str = "wardwatch demo generator") -> None:
        self._fh: BinaryIO = path.open("wb", buffering=1 << 20)
        self.packets = 0
        self.bytes = 0
        # Section Header Block (§4.1): byte-order magic, version 1.0, section length unknown (-1).
        shb_opts = _option(4, application.encode()) + _option(0, b"")  # shb_userappl, opt_endofopt
        self._fh.write(_block(0x0A0D0D0A, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + shb_opts))
        # Interface Description Block (§4.2): Ethernet, snaplen 0 (unlimited), if_tsresol 6 (µs).
        idb_opts = _option(2, b"span0") + _option(9, b"\x06") + _option(0, b"")
        self._fh.write(_block(0x00000001, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 0) + idb_opts))

    def write(self, ts_us: int, frame: bytes) -> None:
        """Append one Enhanced Packet Block (§4.3) for ``frame`` captured at ``ts_us`` µs since the epoch."""
        n = len(frame)
        pad = (-n) % 4
        total = 32 + n + pad
        self._fh.write(struct.pack("<IIIIIII", 6, total, 0, ts_us >> 32, ts_us & 0xFFFFFFFF, n, n))
        self._fh.write(frame)
        self._fh.write(b"\x00" * pad + struct.pack("<I", total))
        self.packets += 1
        self.bytes += n

    def close(self) -> None:
        """Flush and close the file."""
        self._fh.close()

    def __enter__(self) -> PcapngWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

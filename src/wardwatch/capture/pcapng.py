"""pcapng files (draft-ietf-opsawg-pcapng): SHB, IDB, EPB, SPB and the obsolete PB.

Several sections and several interfaces are supported, each interface with its own link type, snap
length, ``if_tsresol`` (option 9) and ``if_tsoffset`` (option 14). Unknown block types are skipped by
their length. Runs of consecutive Enhanced Packet Blocks, nearly all of a capture, are indexed by a
compiled loop (:func:`.kernels.pcapng_epb_walk`, in C where built); every other block is handled here in
Python. Enhanced Packet Block fields are gathered vectorially per section.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.capture.compiled import pcapng_epb_walk
from wardwatch.capture.gather import Gatherer
from wardwatch.capture.records import MAX_RECORD, PCAPNG_SHB, ReaderStats, RecordIndex

BT_IDB = 0x00000001
BT_PB = 0x00000002  # obsolete Packet Block (§ Appendix A)
BT_SPB = 0x00000003
BT_EPB = 0x00000006
BOM = 0x1A2B3C4D
OPT_TSRESOL = 9
OPT_TSOFFSET = 14
MAX_BLOCK = MAX_RECORD + 1024  # longest block accepted: the longest record plus room for options
#: Most blocks indexed per call of the compiled walk (bounds its output array: 1 MiB).
MAX_RUN = 1 << 17
_EPB_HEAD = 28  # type, length, interface, timestamp (2 words), captured and original length

I64 = npt.NDArray[np.int64]


@dataclass
class _Iface:
    link: int
    snaplen: int
    scale: float  # seconds per timestamp unit
    offset: float  # if_tsoffset in seconds


class PcapngReader:
    """Reads record batches from a mapped pcapng file."""

    def __init__(self, buf: Any, size: int) -> None:
        self.buf = buf
        self.size = size
        self.position = 0
        self.stats = ReaderStats()
        self.endian = "<"
        self.ifaces: list[_Iface] = []

    # -- block walk -------------------------------------------------------------------------------
    def batches(self, chunk_bytes: int) -> Iterator[RecordIndex]:
        """Walk blocks; yield the packets of about ``chunk_bytes`` of file at a time."""
        buf, size = self.buf, self.size
        raw = np.frombuffer(buf, dtype=np.uint8, count=size)
        out = np.empty(min(chunk_bytes // 32 + 1, MAX_RUN), dtype=np.int64)
        while self.position < size:
            stop = min(size, self.position + chunk_bytes)
            epbs: list[I64] = []  # offsets of the section's Enhanced Packet Blocks, run by run
            extra: list[tuple[int, int, int, float, int]] = []  # (block offset, data off, caplen...)
            parts: list[RecordIndex] = []
            pos = self.position
            hdr = struct.Struct(self.endian + "II").unpack_from
            while pos < stop:
                if pos + 12 > size:
                    self._truncated(pos)
                    pos = size
                    break
                btype, blen = hdr(buf, pos)
                if btype == BT_EPB:
                    # A run of EPBs, compiled; it stops before any block it does not take, which is then
                    # one that the checks below reject (bad length, running past the end of the file).
                    n, nxt = pcapng_epb_walk(raw, pos, stop, MAX_BLOCK, self.endian == ">", BT_EPB, out)
                    if n:
                        epbs.append(out[:n].copy())
                        pos = nxt
                        continue
                if btype == PCAPNG_SHB:
                    parts.append(self._flush(epbs, extra))
                    epbs, extra = [], []
                    nxt = self._section(pos)
                    if nxt < 0:
                        pos = size
                        break
                    hdr = struct.Struct(self.endian + "II").unpack_from
                    pos = nxt
                    continue
                if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                    self.stats.skip("bad_block_length")
                    self.stats.truncated = True
                    pos = size
                    break
                if pos + blen > size:
                    self._truncated(pos)
                    pos = size
                    break
                if btype == BT_IDB:
                    # Packets before this block name only the interfaces described before it (pcapng §4.2):
                    # judge them now, not after the new interface is known.
                    parts.append(self._flush(epbs, extra))
                    epbs, extra = [], []
                    self._idb(pos, blen)
                elif btype in (BT_SPB, BT_PB):
                    rec = self._simple(pos, blen, btype)
                    if rec is not None:
                        extra.append(rec)
                pos += blen
            self.position = pos
            parts.append(self._flush(epbs, extra))
            parts = [p for p in parts if len(p)]
            if parts:
                yield parts[0] if len(parts) == 1 else RecordIndex.concat(parts)

    def _truncated(self, pos: int) -> None:
        self.stats.truncated = True
        self.stats.skip("truncated_record")

    def _section(self, pos: int) -> int:
        """Section Header Block: byte order from the byte-order magic; interfaces reset."""
        if pos + 28 > self.size:
            self._truncated(pos)
            return -1
        (bom,) = struct.unpack_from("<I", self.buf, pos + 8)
        if bom == BOM:
            self.endian = "<"
        elif bom == struct.unpack("<I", struct.pack(">I", BOM))[0]:
            self.endian = ">"
        else:
            self.stats.skip("bad_section_header")
            self.stats.truncated = True
            return -1
        (blen,) = struct.unpack_from(self.endian + "I", self.buf, pos + 4)
        self.ifaces = []
        if blen < 28 or blen % 4 or pos + blen > self.size:
            self._truncated(pos)
            return -1
        return int(pos + blen)

    def _idb(self, pos: int, blen: int) -> None:
        e = self.endian
        if blen < 20:
            self.stats.skip("bad_interface_block")
            self.ifaces.append(_Iface(-1, 0, 1e-6, 0.0))
            return
        link, _res, snaplen = struct.unpack_from(e + "HHI", self.buf, pos + 8)
        scale, offset = 1e-6, 0.0
        opt, end = pos + 16, pos + blen - 4
        while opt + 4 <= end:
            code, length = struct.unpack_from(e + "HH", self.buf, opt)
            if code == 0:
                break
            body = opt + 4
            if body + length > end:
                break
            if code == OPT_TSRESOL and length >= 1:
                v = self.buf[body]
                # MSB clear: negative power of 10; set: negative power of 2 (pcapng §4.2, if_tsresol).
                scale = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -min(v, 30)
            elif code == OPT_TSOFFSET and length >= 8:
                (offset,) = struct.unpack_from(e + "q", self.buf, body)
            opt = body + ((length + 3) & ~3)
        self.ifaces.append(_Iface(link, snaplen, scale, float(offset)))

    def _simple(self, pos: int, blen: int, btype: int) -> tuple[int, int, int, float, int] | None:
        """SPB (interface 0, no timestamp) or obsolete PB: decoded in Python (rare in practice)."""
        e = self.endian
        if btype == BT_SPB:
            if blen < 16 or not self.ifaces:
                self.stats.skip("bad_simple_packet_block")
                return None
            (wire,) = struct.unpack_from(e + "I", self.buf, pos + 8)
            iface = self.ifaces[0]
            cap = min(wire, blen - 16, iface.snaplen or wire)
            return (pos + 12, cap, wire, 0.0, iface.link)
        if blen < 32:
            self.stats.skip("bad_packet_block")
            return None
        ifid, _drops, hi, lo, cap, wire = struct.unpack_from(e + "HHIIII", self.buf, pos + 8)
        if ifid >= len(self.ifaces) or cap > blen - 32:
            self.stats.skip("bad_packet_block")
            return None
        iface = self.ifaces[ifid]
        return (pos + 28, cap, max(wire, cap), ((hi << 32) | lo) * iface.scale + iface.offset, iface.link)

    def _flush(self, epbs: list[I64], extra: list[tuple[int, int, int, float, int]]) -> RecordIndex:
        """Gather the EPB fields of one section vectorially; merge the rare SPB/PB records in order."""
        blk = np.concatenate(epbs) if epbs else np.zeros(0, dtype=np.int64)
        n = int(blk.shape[0])
        if n == 0 and not extra:
            return RecordIndex.build([], [], [], [], [])
        # One row gather of the 28-byte heads (zero-padded past the end of the file, where only a block
        # too short for its head can be, which the length check below rejects).
        heads = Gatherer(self.buf, self.size).rows(blk, _EPB_HEAD)
        words = heads.view(np.dtype(self.endian + "u4")).reshape(-1, 7)
        blen = words[:, 1].astype(np.int64)
        ifid = words[:, 2].astype(np.int64)
        stamp = (words[:, 3].astype(np.uint64) << np.uint64(32)) | words[:, 4].astype(np.uint64)
        cap = words[:, 5].astype(np.int64)
        wire = np.maximum(words[:, 6].astype(np.int64), cap)
        nif = len(self.ifaces)
        ok = (ifid < nif) & (cap <= blen - 32)
        if nif:
            links = np.array([i.link for i in self.ifaces], dtype=np.int64)
            scales = np.array([i.scale for i in self.ifaces], dtype=np.float64)
            offsets = np.array([i.offset for i in self.ifaces], dtype=np.float64)
            safe = np.minimum(ifid, nif - 1)
            link = links[safe]
            ts = stamp.astype(np.float64) * scales[safe] + offsets[safe]
        else:
            link = np.full(n, -1, dtype=np.int64)
            ts = np.zeros(n, dtype=np.float64)
        bad = int(n - np.count_nonzero(ok))
        if bad:
            self.stats.skip("bad_packet_block", bad)
        rec = RecordIndex(blk[ok] + 28, cap[ok], wire[ok], ts[ok], link[ok])
        if not extra:
            return rec
        order_key = np.concatenate([rec.off, np.array([e[0] for e in extra], dtype=np.int64)])
        merged = RecordIndex.concat([rec, RecordIndex.build(*map(list, zip(*extra, strict=True)))])
        order = np.argsort(order_key, kind="stable")
        m = merged
        return RecordIndex(m.off[order], m.caplen[order], m.wirelen[order], m.ts[order], m.link[order])

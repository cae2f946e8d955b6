"""Compiled loops of the capture hot path (numba ``njit``): the work that is sequential per record.

Everything else on the hot path is vectorized with numpy; what cannot be is a walk whose next step depends
on the bytes just read, such as the offset chain of capture-file records. Such walks are written here as
plain loops over ``uint8`` arrays and compiled by numba on first use (the machine code is cached on
disk beside the module, or in the user's cache directory when the package is read-only).

Every kernel checks its bounds itself (numba does not): it reads no byte outside the array it was given,
whatever the bytes say. With ``NUMBA_DISABLE_JIT=1`` the same functions run as plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

#: Bytes of a classic pcap record header (draft-ietf-opsawg-pcap §5: seconds, fraction, caplen, wirelen).
PCAP_RECORD_HEADER = 16

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """Compile ``fn`` with numba (nopython, cached on disk, releasing the GIL); same signature."""
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


@jit
def _u32(raw: U8, at: int, big: bool) -> int:
    """The unsigned 32-bit integer at ``at`` (caller guarantees ``at + 4 <= len(raw)``)."""
    if big:
        return (int(raw[at]) << 24) | (int(raw[at + 1]) << 16) | (int(raw[at + 2]) << 8) | int(raw[at + 3])
    return int(raw[at]) | (int(raw[at + 1]) << 8) | (int(raw[at + 2]) << 16) | (int(raw[at + 3]) << 24)


@jit
def pcap_walk(raw: U8, pos: int, stop: int, limit: int, big: bool, out: I64) -> tuple[int, int, bool]:
    """Follow classic pcap records from ``pos`` while a record header starts before ``stop``.

    Fills ``out[i] = (record offset, seconds, fraction, caplen, wirelen)`` (``out`` has shape (cap, 5))
    and returns ``(count, next position, bad)``: ``bad`` when a caplen beyond ``limit`` stopped the walk
    (the caller resynchronises at the returned position). The walk also stops when ``out`` is full. A
    record whose body runs past the end of ``raw`` is listed; the caller sees ``next position > len``.
    """
    n = 0
    size = raw.shape[0]
    cap = out.shape[0]
    stop = min(stop, size - PCAP_RECORD_HEADER + 1)
    while pos < stop and n < cap:
        caplen = _u32(raw, pos + 8, big)
        if caplen > limit:
            return n, pos, True
        out[n, 0] = pos
        out[n, 1] = _u32(raw, pos, big)
        out[n, 2] = _u32(raw, pos + 4, big)
        out[n, 3] = caplen
        out[n, 4] = _u32(raw, pos + 12, big)
        n += 1
        pos += PCAP_RECORD_HEADER + caplen
    return n, pos, False


@jit
def pcapng_epb_walk(
    raw: U8, pos: int, stop: int, max_block: int, big: bool, epb: int, out: I64,
) -> tuple[int, int]:
    """Follow consecutive pcapng blocks of type ``epb`` (Enhanced Packet Block) from ``pos``.

    Lists each block's offset in ``out`` and returns ``(count, position of the first block not taken)``.
    The walk stops at ``stop``, before any other block type, before a block whose length is not a multiple
    of four from 12 (the smallest block) to ``max_block`` or that runs past the end of ``raw``, and when
    ``out`` is full: whatever stopped it is the caller's (Python's) to handle (pcapng §3.1, §4.3). A block
    too short for an EPB's fields is listed all the same; the caller rejects it with its other checks.
    """
    n = 0
    size = raw.shape[0]
    cap = out.shape[0]
    while pos < stop and n < cap and pos + 12 <= size:
        btype = _u32(raw, pos, big)
        blen = _u32(raw, pos + 4, big)
        if btype != epb or blen < 12 or blen % 4 != 0 or blen > max_block or pos + blen > size:
            break
        out[n] = pos
        n += 1
        pos += blen
    return n, pos


def as_bytes_array(buf: Any) -> U8:
    """A read-only ``uint8`` view of a mapped capture (no copy)."""
    return np.frombuffer(buf, dtype=np.uint8)


def as_i64(a: Any) -> I64:
    """``a`` as a contiguous int64 array (no copy when it is one): one compiled signature per kernel."""
    return np.ascontiguousarray(a, dtype=np.int64)

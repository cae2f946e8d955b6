"""Flow table storage: one numpy column per flow attribute (struct of arrays), grown by doubling.

Keeping flows as columns lets the flow table update counters of thousands of flows per batch with a
handful of vectorized operations; a Python object exists only for flows whose payload is still being
collected (:mod:`wardwatch.capture.reassembly`).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.domain.flow import PROTO_L2, FlowRecord

V4_PREFIX = 0x0000FFFF

# name -> (dtype, per-direction?, fill)
COLUMNS: dict[str, tuple[Any, bool, Any]] = {
    "hash": (np.uint64, False, 0),
    "a_hi": (np.uint64, False, 0),
    "a_lo": (np.uint64, False, 0),
    "b_hi": (np.uint64, False, 0),
    "b_lo": (np.uint64, False, 0),
    "a_port": (np.int64, False, 0),
    "b_port": (np.int64, False, 0),
    "proto": (np.int64, False, 0),
    "vlan": (np.int64, False, -1),
    "l2": (np.bool_, False, False),
    "orig_a": (np.bool_, False, True),
    "mac_a": (np.int64, False, -1),
    "mac_b": (np.int64, False, -1),
    "first": (np.float64, False, 0.0),
    "last": (np.float64, False, 0.0),
    "fin_a": (np.bool_, False, False),
    "fin_b": (np.bool_, False, False),
    "rst": (np.bool_, False, False),
    "since_syn": (np.int64, False, 0),
    "active": (np.bool_, False, False),
    "done": (np.bool_, False, False),  # payload collection finished (stream delivered)
    "pk": (np.int64, True, 0),
    "by": (np.int64, True, 0),
    "base": (np.int64, True, 0),
    "base_ok": (np.bool_, True, False),
    "full": (np.bool_, True, False),
    "ucnt": (np.int64, True, 0),
    "ubytes": (np.int64, True, 0),
}


class FlowColumns:
    """The columns; ``n`` slots are in use (active or not), ``cap`` allocated."""

    def __init__(self, cap: int = 4096) -> None:
        self.cap = cap
        self.n = 0
        self.col: dict[str, npt.NDArray[Any]] = {}
        for name, (dtype, per_dir, fill) in COLUMNS.items():
            shape = (cap, 2) if per_dir else (cap,)
            self.col[name] = np.full(shape, fill, dtype=dtype)

    def __getattr__(self, name: str) -> npt.NDArray[Any]:
        try:
            return self.__dict__["col"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def allocate(self, count: int) -> npt.NDArray[np.int64]:
        """``count`` fresh slot ids (the caller fills them)."""
        if self.n + count > self.cap:
            self._grow(max(self.cap * 2, self.n + count))
        ids = np.arange(self.n, self.n + count, dtype=np.int64)
        self.n += count
        return ids

    def _grow(self, cap: int) -> None:
        for name, (dtype, per_dir, fill) in COLUMNS.items():
            shape = (cap, 2) if per_dir else (cap,)
            new = np.full(shape, fill, dtype=dtype)
            new[: self.n] = self.col[name][: self.n]
            self.col[name] = new
        self.cap = cap

    def compact(self) -> npt.NDArray[np.int64]:
        """Drop inactive slots; returns the old ids of the kept flows (new id = position)."""
        keep = np.flatnonzero(self.col["active"][: self.n])
        for name, (_dtype, _per_dir, fill) in COLUMNS.items():
            arr = self.col[name]
            arr[: keep.shape[0]] = arr[keep]
            arr[keep.shape[0] : self.n] = fill
        self.n = int(keep.shape[0])
        return keep


def ip_text(hi: int, lo: int) -> str:
    """Textual address (IPv4 when stored v4-mapped, else compressed IPv6)."""
    if hi == 0 and lo >> 32 == V4_PREFIX:
        return str(ipaddress.IPv4Address(lo & 0xFFFFFFFF))
    return str(ipaddress.IPv6Address((hi << 64) | lo))


def mac_text(mac: int) -> str | None:
    """Lower-case colon form, or None when unknown."""
    if mac < 0:
        return None
    raw = mac.to_bytes(6, "big")
    return ":".join(f"{b:02x}" for b in raw)


def endpoints(fc: FlowColumns, fid: int) -> tuple[str | None, str | None, int, int, str | None, str | None]:
    """(client ip, server ip, client port, server port, client mac, server mac) of one flow."""
    c = fc.col
    a = (int(c["a_hi"][fid]), int(c["a_lo"][fid]), int(c["a_port"][fid]), int(c["mac_a"][fid]))
    b = (int(c["b_hi"][fid]), int(c["b_lo"][fid]), int(c["b_port"][fid]), int(c["mac_b"][fid]))
    if bool(c["l2"][fid]):
        return None, None, 0, a[2], mac_text(a[3]), mac_text(b[3])
    cl, sv = (a, b) if bool(c["orig_a"][fid]) else (b, a)
    return ip_text(cl[0], cl[1]), ip_text(sv[0], sv[1]), cl[2], sv[2], mac_text(cl[3]), mac_text(sv[3])


def record(fc: FlowColumns, fid: int, sensor: str) -> FlowRecord:
    """The :class:`FlowRecord` of one flow (originator = client side)."""
    c = fc.col
    cip, sip, cport, sport, cmac, smac = endpoints(fc, fid)
    pk, by = c["pk"][fid], c["by"][fid]
    vlan = int(c["vlan"][fid])
    return FlowRecord(
        src_ip=cip or "",
        dst_ip=sip or "",
        proto=PROTO_L2 if bool(c["l2"][fid]) else int(c["proto"][fid]),
        src_port=cport,
        dst_port=sport,
        src_mac=cmac,
        dst_mac=smac,
        first_seen=float(c["first"][fid]),
        last_seen=float(c["last"][fid]),
        packets_fwd=int(pk[0]),
        packets_rev=int(pk[1]),
        bytes_fwd=int(by[0]),
        bytes_rev=int(by[1]),
        vlan=None if vlan < 0 else vlan,
        sensor=sensor,
    )

"""Flow table storage: one numpy column per flow attribute (struct of arrays), grown by doubling.

Keeping flows as columns lets the flow table update counters of thousands of flows per batch with a
handful of vectorized operations; a Python object exists only for flows whose payload is still being
collected (:mod:`wardwatch.capture.reassembly`).
"""

from __future__ import annotations

import dataclasses
import importlib
import secrets
import socket
from typing import Any

import numpy as np
import numpy.typing as npt

from wardwatch.capture.sink import Endpoints, FlowSlot
from wardwatch.domain.flow import PROTO_L2, PROTO_TCP, FlowRecord
from wardwatch.fastobj import build, slot_descriptors
from wardwatch.native import extension

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
    "answered": (np.bool_, False, False),  # the responder sent a packet other than a TCP reset
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
    """Textual address (IPv4 when stored v4-mapped, else RFC 5952 compressed IPv6)."""
    if hi == 0 and lo >> 32 == V4_PREFIX:
        return socket.inet_ntop(socket.AF_INET, (lo & 0xFFFFFFFF).to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, ((hi << 64) | lo).to_bytes(16, "big"))


def mac_text(mac: int) -> str | None:
    """Lower-case colon form, or None when unknown."""
    return None if mac < 0 else mac.to_bytes(6, "big").hex(":")


_naming = extension("wardwatch.capture._naming")
#: True when the compiled naming loops (``capture._naming``) are in use.
COMPILED = _naming is not None


class Namer:
    """Turns flow columns into text, caching address strings (many flows share hosts).

    The per-flow loops run in C (``capture._naming``, which keeps its own bounded caches of the same
    texts) where the extension is in use and ``compiled`` is not False; the Python code below is their
    reference, with equal results.
    """

    def __init__(self, compiled: bool | None = None) -> None:
        """``compiled``: None = the C loops where :func:`wardwatch.native.extension` offers them, False = the
        Python reference, True = the C loops even where the references are forced (tests compare both;
        ImportError when the extension is not built)."""
        self._ips: dict[tuple[int, int], str] = {}
        self._macs: dict[int, str | None] = {}
        module = importlib.import_module("wardwatch.capture._naming") if compiled else \
            None if compiled is False else _naming
        # the cache tables are keyed through a secret salt: crafted addresses cannot share a probe chain
        self._texts: Any = None if module is None else module.Texts(secrets.randbits(64))

    @property
    def compiled(self) -> bool:
        """True when the C loops run."""
        return self._texts is not None

    def _ip(self, hi: int, lo: int) -> str:
        key = (hi, lo)
        text = self._ips.get(key)
        if text is None:
            if len(self._ips) > 1 << 18:
                self._ips.clear()
            text = self._ips[key] = ip_text(hi, lo)
        return text

    def _mac(self, mac: int) -> str | None:
        text = self._macs.get(mac, "")
        if text == "":
            if len(self._macs) > 1 << 18:
                self._macs.clear()
            text = self._macs[mac] = mac_text(mac)
        return text

    def endpoints(self, fc: FlowColumns, ids: npt.NDArray[np.int64]) -> list[Endpoints]:
        """Endpoints of many flows at once (client = originator)."""
        if self._texts is not None:
            return self._texts.endpoints(fc.col, ids)  # type: ignore[no-any-return]
        c = fc.col
        cols = [c[k][ids].tolist() for k in ("a_hi", "a_lo", "a_port", "mac_a", "b_hi", "b_lo", "b_port",
                                             "mac_b", "orig_a", "l2", "proto", "vlan")]
        out: list[Endpoints] = []
        ip, mac = self._ip, self._mac
        for ahi, alo, ap, am, bhi, blo, bp, bm, orig_a, l2, proto, vlan in zip(*cols, strict=True):
            v = None if vlan < 0 else vlan
            if l2:
                out.append((None, None, 0, ap, mac(am), mac(bm), PROTO_L2, v))
            elif orig_a:
                out.append((ip(ahi, alo), ip(bhi, blo), ap, bp, mac(am), mac(bm), proto, v))
            else:
                out.append((ip(bhi, blo), ip(ahi, alo), bp, ap, mac(bm), mac(am), proto, v))
        return out

    def make_slots(self, fc: FlowColumns, ids: npt.NDArray[np.int64], sensor: str,
                   slots: dict[int, FlowSlot]) -> None:
        """Give each distinct flow of ``ids`` (any order, repeats allowed) that has no entry in ``slots`` a new
        :class:`FlowSlot` (its endpoints, first time and ``sensor``), in ascending id order.

        IndexError when an id is not a row of the columns (negative or past the end)."""
        if self._texts is not None:
            self._texts.make_slots(fc.col, ids, sensor, FlowSlot, slots)
            return
        u = np.unique(ids)
        if u.shape[0] and (u[0] < 0 or u[-1] >= fc.col["first"].shape[0]):
            raise IndexError(f"flow ids {int(u[0])}..{int(u[-1])} out of bounds for {fc.col['first'].shape[0]} flows")
        missing = u[[f not in slots for f in u.tolist()]] if u.shape[0] else u
        if missing.shape[0]:
            ends = self.endpoints(fc, missing)
            first = fc.col["first"][missing].tolist()
            for f, e, t in zip(missing.tolist(), ends, first, strict=True):
                slots[f] = FlowSlot(e, t, sensor)

    def records(
        self, fc: FlowColumns, ids: npt.NDArray[np.int64], sensor: str,
        known: dict[int, Endpoints] | None = None,
    ) -> list[FlowRecord]:
        """:class:`FlowRecord` of many flows at once; ``known`` holds endpoints already named by flow id."""
        if self._texts is not None and _RECORD_DESCRIPTORS is not None:
            return self._texts.records(  # type: ignore[no-any-return]
                fc.col, ids, sensor, known, build, FlowRecord, _RECORD_DESCRIPTORS)
        c = fc.col
        if known:
            id_list = ids.tolist()
            todo = [f for f in id_list if f not in known]
            fresh = dict(zip(todo, self.endpoints(fc, np.asarray(todo, dtype=np.int64)), strict=True)) \
                if todo else {}
            eps = [known.get(f) or fresh[f] for f in id_list]
        else:
            eps = self.endpoints(fc, ids)
        pk, by = c["pk"][ids].tolist(), c["by"][ids].tolist()
        first, last = c["first"][ids].tolist(), c["last"][ids].tolist()
        refused = ((c["proto"][ids] == PROTO_TCP) & ~c["l2"][ids] & (c["pk"][ids][:, 1] > 0)
                   & ~c["answered"][ids]).tolist()
        if _RECORD_DESCRIPTORS is None:
            return [
                FlowRecord(
                    src_ip=e[0] or "", dst_ip=e[1] or "", proto=e[6], src_port=e[2], dst_port=e[3],
                    src_mac=e[4], dst_mac=e[5], first_seen=f, last_seen=la, packets_fwd=p[0],
                    packets_rev=p[1], bytes_fwd=b[0], bytes_rev=b[1], vlan=e[7], sensor=sensor, refused=r,
                )
                for e, p, b, f, la, r in zip(eps, pk, by, first, last, refused, strict=True)
            ]
        # The same objects, filled through the slots (a frozen __init__ costs several times as much).
        d = _RECORD_DESCRIPTORS
        return [build(FlowRecord, d, e[0] or "", e[1] or "", e[6], e[2], e[3], e[4], e[5], f, la, p[0], p[1], b[0],
                      b[1], e[7], None, sensor, r)
                for e, p, b, f, la, r in zip(eps, pk, by, first, last, refused, strict=True)]


_RECORD_LAYOUT = ("src_ip", "dst_ip", "proto", "src_port", "dst_port", "src_mac", "dst_mac", "first_seen",
                  "last_seen", "packets_fwd", "packets_rev", "bytes_fwd", "bytes_rev", "vlan", "app", "sensor",
                  "refused")


def _record_descriptors() -> tuple[Any, ...] | None:
    """FlowRecord's slot descriptors in field order, or None when the class is not the one this expects
    (then :meth:`Namer.records` uses the constructor: slower, never wrong)."""
    descriptors = slot_descriptors(FlowRecord, _RECORD_LAYOUT)
    if descriptors is None or dataclasses.fields(FlowRecord)[14].default is not None:  # ``app`` keeps its default
        return None
    return descriptors


_RECORD_DESCRIPTORS = _record_descriptors()

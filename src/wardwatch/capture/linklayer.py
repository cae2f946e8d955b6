"""Link layers, vectorized: where the network header starts, its type, VLAN and MAC addresses.

Supported link types (tcpdump.org LINKTYPE_* registry): EN10MB (1) with IEEE 802.1Q / 802.1ad tags
(0x8100, 0x88a8 and the legacy 0x9100, up to two), LINUX_SLL (113) and LINUX_SLL2 (276), NULL (0, host
byte order) and LOOP (108, network byte order), RAW (101; DLT 12 and 14 are accepted as aliases), IPV4
(228) and IPV6 (229). IEEE 802.3 length frames with an LLC/SNAP header for Cisco (OUI 00000c, type
0x2000) are CDP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wardwatch.capture.gather import I64, U8, Gatherer, be16, be48

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_CDP = 0x2000  # SNAP protocol id of CDP, used as its "ethertype"
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
SNAP_CDP = np.array([0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0C, 0x20, 0x00], dtype=np.uint8)
# Address families in DLT_NULL/LOOP headers: AF_INET 2; AF_INET6 10 (Linux), 24 (NetBSD/OpenBSD),
# 28 (FreeBSD), 30 (macOS).
AF_INET6 = (10, 24, 28, 30)
SUPPORTED = (0, 1, 12, 14, 101, 108, 113, 228, 229, 276)


@dataclass
class LinkInfo:
    """Per packet: network header offset, ethertype (-1 unknown), VLAN id (-1), MACs (-1), L2 payload."""

    l3: I64  # absolute offset of the network header
    etype: I64
    vlan: I64
    smac: I64
    dmac: I64
    ftype: I64  # the raw type/length field (an ethertype, or the IEEE 802.3 length of an LLC frame)
    supported: npt.NDArray[np.bool_]


def decode_link(g: Gatherer, off: I64, caplen: I64, link: I64) -> LinkInfo:
    """Decode the link header of every packet (any mix of link types)."""
    n = off.shape[0]
    info = LinkInfo(
        l3=off.copy(),
        etype=np.full(n, -1, dtype=np.int64),
        vlan=np.full(n, -1, dtype=np.int64),
        smac=np.full(n, -1, dtype=np.int64),
        dmac=np.full(n, -1, dtype=np.int64),
        ftype=np.full(n, -1, dtype=np.int64),
        supported=np.isin(link, SUPPORTED),
    )
    kinds = np.unique(link)
    for lt in kinds.tolist():
        sel = np.flatnonzero(link == lt) if len(kinds) > 1 else np.arange(n)
        if lt == 1:
            _ethernet(g, info, sel, off[sel], caplen[sel])
        elif lt in (113, 276):
            _sll(g, info, sel, off[sel], caplen[sel], v2=lt == 276)
        elif lt in (0, 108):
            rows = g.rows(off[sel], 4)
            be = (rows[:, 0].astype(np.int64) << 24) | (rows[:, 1].astype(np.int64) << 16) | be16(rows, 2)
            le = (rows[:, 3].astype(np.int64) << 24) | (rows[:, 2].astype(np.int64) << 16)
            le |= (rows[:, 1].astype(np.int64) << 8) | rows[:, 0]
            fam = be if lt == 108 else np.where(le > 0xFFFF, be, le)
            et = np.where(fam == 2, ETH_IPV4, np.where(np.isin(fam, AF_INET6), ETH_IPV6, -1))
            info.etype[sel] = np.where(caplen[sel] >= 4, et, -1)
            info.l3[sel] = off[sel] + 4
        elif lt in (12, 14, 101, 228, 229):
            if lt == 228:
                info.etype[sel] = ETH_IPV4
            elif lt == 229:
                info.etype[sel] = ETH_IPV6
            else:
                ver = g.u8(off[sel]) >> 4
                info.etype[sel] = np.where(ver == 4, ETH_IPV4, np.where(ver == 6, ETH_IPV6, -1))
    return info


def _llc(rows: U8, at: int) -> I64:
    """1 where the LLC/SNAP header at column ``at`` is Cisco's CDP (IEEE 802.2 + SNAP OUI 00000c)."""
    return np.all(rows[:, at : at + 8] == SNAP_CDP[None, :], axis=1)  # type: ignore[no-any-return]


def _ethernet(g: Gatherer, info: LinkInfo, sel: I64, off: I64, cap: I64) -> None:
    rows = g.rows(off, 32)
    et = np.where(cap >= 14, be16(rows, 12), -1)
    vlan = np.full(sel.shape[0], -1, dtype=np.int64)
    hdr = np.full(sel.shape[0], 14, dtype=np.int64)
    # IEEE 802.1Q §9.6: TPID, then TCI (PCP 3 bits, DEI 1, VID 12), then the inner ethertype.
    for tci_col in (14, 18):
        tagged = np.isin(et, VLAN_TPIDS) & (hdr == tci_col) & (cap >= tci_col + 4)
        vid = be16(rows, tci_col) & 0x0FFF
        vlan = np.where(tagged, vid, vlan)
        et = np.where(tagged, be16(rows, tci_col + 2), et)
        hdr = np.where(tagged, hdr + 4, hdr)
    et = np.where(np.isin(et, VLAN_TPIDS), -1, et)  # more than two tags: not decoded
    # IEEE 802.3 length field (< 0x0600): LLC follows; only SNAP CDP is of interest.
    short = (et >= 0) & (et < 0x0600)
    cdp = np.zeros(sel.shape[0], dtype=bool)
    for col in (14, 18, 22):
        if col + 8 <= 32:
            cdp |= short & (hdr == col) & _llc(rows, col) & (cap >= col + 8)
    info.ftype[sel] = et
    et = np.where(short, np.where(cdp, ETH_CDP, -1), et)
    info.etype[sel] = et
    info.vlan[sel] = vlan
    info.l3[sel] = off + hdr
    ok = cap >= 14
    info.dmac[sel] = np.where(ok, be48(rows, 0), -1)
    info.smac[sel] = np.where(ok, be48(rows, 6), -1)


def _sll(g: Gatherer, info: LinkInfo, sel: I64, off: I64, cap: I64, *, v2: bool) -> None:
    # Linux cooked capture: v1 = pkttype, hatype, halen, addr[8], protocol (16 bytes);
    # v2 = protocol, reserved, ifindex, hatype, pkttype, halen, addr[8] (20 bytes).
    rows = g.rows(off, 32)
    hlen, pcol, halen, acol = (20, 0, rows[:, 11].astype(np.int64), 12) if v2 else (
        16, 14, be16(rows, 4), 6)
    et = np.where(cap >= hlen, be16(rows, pcol), -1)
    info.ftype[sel] = et
    cdp = (et == 0x0004) & _llc(rows, hlen) & (cap >= hlen + 8)  # ETH_P_802_2 then LLC/SNAP
    et = np.where(et < 0x0600, np.where(cdp, ETH_CDP, -1), et)
    info.etype[sel] = et
    info.l3[sel] = off + hlen
    info.smac[sel] = np.where((halen == 6) & (cap >= hlen), be48(rows, acol), -1)

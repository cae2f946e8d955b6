"""Packet headers, compiled: one :class:`PacketBatch` of arrays per record batch, one walk over the records.

Link layers (tcpdump.org LINKTYPE_* registry): EN10MB (1) with IEEE 802.1Q / 802.1ad tags (0x8100,
0x88a8 and the legacy 0x9100, up to two), LINUX_SLL (113) and LINUX_SLL2 (276), NULL (0, host byte
order) and LOOP (108, network byte order), RAW (101; DLT 12 and 14 are accepted as aliases), IPV4 (228)
and IPV6 (229). IEEE 802.3 length frames with an LLC/SNAP header for Cisco (OUI 00000c, type 0x2000)
are CDP.

IPv4 (RFC 791: options via IHL, fragments: only the first fragment carries the transport header; the
others are counted) and IPv6 (RFC 8200 §4: hop-by-hop 0, routing 43, fragment 44, destination options
60, AH 51 (RFC 4302 §2.2: length in 4-octet units minus 2), mobility 135). TCP (RFC 9293 §3.1) ports,
sequence number, data offset and flags; UDP (RFC 768) ports. Payload length follows the IP length
field, so Ethernet padding is never taken for payload.

The walk over a batch is :func:`packet_walk`: the functions below are its Python reference, and
``capture/_decode.c`` the same code in C, used where the extension was built (:mod:`.compiled` decides;
tests compare the two on real captures and arbitrary bytes). Both check every read against the buffer.
As the vectorized decoder they replaced, they read fixed windows from the start of the link and network
headers (bytes past the end of the buffer read as zero, bytes past a record's captured length are those of
the buffer), so the fields of a packet that is not decoded (``reason`` > 0) are deterministic but
meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wardwatch.capture.gather import Gatherer
from wardwatch.capture.kernels import as_i64
from wardwatch.capture.records import RecordIndex
from wardwatch.native import extension

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]

KIND_SKIP = 0
KIND_IP = 1
KIND_L2 = 2
KIND_FRAGMENT = 3
KIND_NONIP = 4  # a frame we do not track (no source MAC, or an LLC frame other than CDP)

#: Why a packet was not decoded (index = code in ``PacketBatch.reason``).
REASONS = ("ok", "unsupported_link_type", "short_link_header", "bad_ip_header", "short_transport_header")

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_CDP = 0x2000  # SNAP protocol id of CDP, used as its "ethertype"
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
# IEEE 802.2 LLC (DSAP AA, SSAP AA, control 03: UI) then SNAP (OUI 00000c, protocol id 0x2000): CDP.
SNAP_CDP = (0xAAAA0300, 0x000C2000)
# Address families in DLT_NULL/LOOP headers: AF_INET 2; AF_INET6 10 (Linux), 24 (NetBSD/OpenBSD),
# 28 (FreeBSD), 30 (macOS).
AF_INET6 = (10, 24, 28, 30)
TCP, UDP = 6, 17
V6_EXT = (0, 43, 44, 51, 60, 135)  # extension headers walked (RFC 8200 §4, RFC 4302)
NO_TRANSPORT = 255  # protocol of a packet whose extension-header chain is cut by the snap length
V4_MAPPED = np.uint64(0x0000FFFF00000000)  # IPv4 addresses as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2)

# Rows of the int64 column block that :func:`packet_walk` fills.
_COLUMNS = ("kind", "reason", "vlan", "smac", "dmac", "proto", "sport", "dport", "flags", "seq", "poff", "plen")


@dataclass
class PacketBatch:
    """Decoded headers of a batch of packets, one array element per packet (capture order)."""

    ts: npt.NDArray[np.float64]
    wirelen: I64
    kind: I64
    reason: I64
    vlan: I64
    smac: I64
    dmac: I64
    src_hi: U64
    src_lo: U64
    dst_hi: U64
    dst_lo: U64
    proto: I64
    sport: I64
    dport: I64
    flags: I64
    seq: I64
    poff: I64
    plen: I64
    cut: B  # the payload was cut by the snap length

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def decode(g: Gatherer, rec: RecordIndex) -> PacketBatch:
    """Decode link, network and transport headers of every record in ``rec``."""
    n = len(rec)
    ints = np.empty((len(_COLUMNS), n), dtype=np.int64)
    addr = np.empty((4, n), dtype=np.uint64)
    cut = np.empty(n, dtype=np.bool_)
    _packet_walk(g.raw, as_i64(rec.off), as_i64(rec.caplen), as_i64(rec.link), ints, addr, cut)
    col = dict(zip(_COLUMNS, ints, strict=True))
    return PacketBatch(
        ts=rec.ts, wirelen=rec.wirelen, kind=col["kind"], reason=col["reason"], vlan=col["vlan"],
        smac=col["smac"], dmac=col["dmac"], src_hi=addr[0], src_lo=addr[1], dst_hi=addr[2], dst_lo=addr[3],
        proto=col["proto"], sport=col["sport"], dport=col["dport"], flags=col["flags"], seq=col["seq"],
        poff=col["poff"], plen=col["plen"], cut=cut,
    )


# -- byte access (the reference reads through the array; every read checks its bounds) ------------------


def _u8(buf: U8, size: int, at: int) -> int:
    """The byte at ``at`` of ``buf`` (``size`` bytes); 0 outside (a header window running past its end)."""
    if 0 <= at < size:
        return int(buf[at])
    return 0


def _u8_clamped(buf: U8, size: int, at: int) -> int:
    """The byte at ``at`` clamped into the buffer (past its end: the last byte; empty buffer: 0).

    The RAW version nibble and the IPv6 extension-header walk have always read single bytes this way
    (not as a zero-padded window); kept so that decoding stays exactly as it was.
    """
    if size == 0:
        return 0
    return int(buf[min(max(at, 0), size - 1)])


def _be16(buf: U8, size: int, at: int) -> int:
    """Big-endian 16-bit word at ``at`` (bytes outside the buffer read as 0)."""
    return (_u8(buf, size, at) << 8) | _u8(buf, size, at + 1)


def _be32(buf: U8, size: int, at: int) -> int:
    """Big-endian 32-bit word at ``at`` (bytes outside the buffer read as 0)."""
    return (_be16(buf, size, at) << 16) | _be16(buf, size, at + 2)


def _le32(buf: U8, size: int, at: int) -> int:
    """Little-endian 32-bit word at ``at`` (bytes outside the buffer read as 0)."""
    return ((_u8(buf, size, at + 3) << 24) | (_u8(buf, size, at + 2) << 16)
            | (_u8(buf, size, at + 1) << 8) | _u8(buf, size, at))


def _be48(buf: U8, size: int, at: int) -> int:
    """Big-endian 48-bit word (a MAC address) at ``at``."""
    return (_be16(buf, size, at) << 32) | _be32(buf, size, at + 2)


def _be64(buf: U8, size: int, at: int) -> np.uint64:
    """Big-endian 64-bit word (half an IPv6 address) at ``at``."""
    return (np.uint64(_be32(buf, size, at)) << np.uint64(32)) | np.uint64(_be32(buf, size, at + 4))


def _is_snap_cdp(buf: U8, size: int, at: int) -> bool:
    """Whether the 8 bytes at ``at`` are the LLC/SNAP header of CDP."""
    return _be32(buf, size, at) == SNAP_CDP[0] and _be32(buf, size, at + 4) == SNAP_CDP[1]


# -- link layer ---------------------------------------------------------------------------------------
# Each returns (network header offset, ethertype or -1, VLAN id or -1, source MAC or -1, destination MAC
# or -1, raw type/length field or -1, link type supported).

def _ethernet(buf: U8, size: int, off: int, cap: int) -> tuple[int, int, int, int, int, int, bool]:
    """Ethernet II / IEEE 802.3 with up to two VLAN tags."""
    et = _be16(buf, size, off + 12) if cap >= 14 else -1
    vlan = -1
    hdr = 14
    # IEEE 802.1Q §9.6: TPID, then TCI (PCP 3 bits, DEI 1, VID 12), then the inner ethertype.
    while hdr <= 18 and cap >= hdr + 4 and et in VLAN_TPIDS:
        vlan = _be16(buf, size, off + hdr) & 0x0FFF
        et = _be16(buf, size, off + hdr + 2)
        hdr += 4
    if et in VLAN_TPIDS:
        et = -1  # more than two tags: not decoded
    ftype = et
    # IEEE 802.3 length field (< 0x0600): LLC follows; only SNAP CDP is of interest.
    if 0 <= et < 0x0600:
        et = ETH_CDP if cap >= hdr + 8 and _is_snap_cdp(buf, size, off + hdr) else -1
    if cap < 14:
        return off + hdr, et, vlan, -1, -1, ftype, True
    return off + hdr, et, vlan, _be48(buf, size, off + 6), _be48(buf, size, off), ftype, True


def _sll(buf: U8, size: int, off: int, cap: int, v2: bool) -> tuple[int, int, int, int, int, int, bool]:
    """Linux cooked capture: v1 = pkttype, hatype, halen, addr[8], protocol (16 bytes);
    v2 = protocol, reserved, ifindex, hatype, pkttype, halen, addr[8] (20 bytes)."""
    if v2:
        hlen, pcol, halen, acol = 20, 0, _u8(buf, size, off + 11), 12
    else:
        hlen, pcol, halen, acol = 16, 14, _be16(buf, size, off + 4), 6
    et = _be16(buf, size, off + pcol) if cap >= hlen else -1
    ftype = et
    if et < 0x0600:  # ETH_P_802_2 (4) then LLC/SNAP: CDP; other Linux pseudo-protocols: not decoded
        et = ETH_CDP if et == 0x0004 and cap >= hlen + 8 and _is_snap_cdp(buf, size, off + hlen) else -1
    smac = _be48(buf, size, off + acol) if halen == 6 and cap >= hlen else -1
    return off + hlen, et, -1, smac, -1, ftype, True


def _link(buf: U8, size: int, off: int, cap: int, lt: int) -> tuple[int, int, int, int, int, int, bool]:
    """The link header of one record, by link type (see the tuple above)."""
    if lt == 1:
        return _ethernet(buf, size, off, cap)
    if lt == 113 or lt == 276:
        return _sll(buf, size, off, cap, lt == 276)
    if lt == 0 or lt == 108:
        # A 4-byte address family: network byte order (LOOP), host byte order (NULL; a value above
        # 0xFFFF read little-endian means the writer was big-endian).
        be = _be32(buf, size, off)
        le = _le32(buf, size, off)
        fam = be if lt == 108 or le > 0xFFFF else le
        et = -1
        if cap >= 4 and fam == 2:
            et = ETH_IPV4
        elif cap >= 4 and fam in AF_INET6:
            et = ETH_IPV6
        return off + 4, et, -1, -1, -1, -1, True
    if lt == 228:
        return off, ETH_IPV4, -1, -1, -1, -1, True
    if lt == 229:
        return off, ETH_IPV6, -1, -1, -1, -1, True
    if lt == 12 or lt == 14 or lt == 101:
        ver = _u8_clamped(buf, size, off) >> 4  # RAW: the IP version nibble tells
        et = ETH_IPV4 if ver == 4 else (ETH_IPV6 if ver == 6 else -1)
        return off, et, -1, -1, -1, -1, True
    return off, -1, -1, -1, -1, -1, False


def link_walk(raw: U8, off: I64, caplen: I64, link: I64, out: I64, supported: B) -> None:
    """Link headers of every record: ``out`` rows = network header offset, ethertype, VLAN, source MAC,
    destination MAC, raw type/length field (shape (6, n)); ``supported[i]`` whether the link type is."""
    buf, size = raw, raw.shape[0]
    for i in range(off.shape[0]):
        l3, et, vlan, smac, dmac, ftype, ok = _link(buf, size, off[i], caplen[i], link[i])
        out[0, i] = l3
        out[1, i] = et
        out[2, i] = vlan
        out[3, i] = smac
        out[4, i] = dmac
        out[5, i] = ftype
        supported[i] = ok


# -- network and transport layers ---------------------------------------------------------------------

def _ipv6_ext(buf: U8, size: int, l4: int, end: int, proto: int) -> tuple[int, int, bool]:
    """Walk at most 8 IPv6 extension headers (RFC 8200 §4) from ``l4``.

    Returns (transport header offset, its protocol, later fragment). Lengths: 8-octet units not counting
    the first 8 (§4.3-4.6), AH 4-octet units minus 2 (RFC 4302 §2.2), the fragment header 8 octets
    (§4.5; a non-zero fragment offset means a later fragment, which carries no transport header). A
    header not wholly captured gives protocol ``NO_TRANSPORT``.
    """
    later = False
    for _ in range(8):
        if proto not in V6_EXT:
            break
        nh = _u8_clamped(buf, size, l4)
        hl = _u8_clamped(buf, size, l4 + 1)
        if proto == 51:
            step = (hl + 2) * 4
        elif proto == 44:
            step = 8
            later = later or ((_u8_clamped(buf, size, l4 + 2) << 8) | _u8_clamped(buf, size, l4 + 3)) >> 3 != 0
        else:
            step = (hl + 1) * 8
        inside = l4 + 8 <= end
        proto = nh if inside else NO_TRANSPORT
        l4 += step
        if not inside or later:
            break
    return l4, proto, later


def _network(
    buf: U8, size: int, l3: int, end: int, etype: int,
) -> tuple[int, int, np.uint64, np.uint64, np.uint64, np.uint64, int, int, int, int, int, int, int, bool]:
    """IP and transport headers of one packet the link layer announced as IPv4 or IPv6.

    Returns (kind, reason, src_hi, src_lo, dst_hi, dst_lo, proto, sport, dport, flags, seq, poff, plen,
    cut), the columns of :class:`PacketBatch`.
    """
    b0 = _u8(buf, size, l3)
    # IPv4 (RFC 791 §3.1): IHL in 4-octet words, total length, 13-bit fragment offset.
    ihl = (b0 & 0x0F) * 4
    tot4 = _be16(buf, size, l3 + 2)
    ok4 = etype == ETH_IPV4 and b0 >> 4 == 4 and ihl >= 20 and end - l3 >= ihl and tot4 >= ihl
    # IPv6 (RFC 8200 §3): a 40-octet header, then the payload length.
    ok6 = etype == ETH_IPV6 and b0 >> 4 == 6 and end - l3 >= 40
    if ok4:
        l4 = l3 + ihl
        ipend = l3 + tot4
        proto = _u8(buf, size, l3 + 9)
        later = (_be16(buf, size, l3 + 6) & 0x1FFF) != 0  # only the first fragment carries the transport header
        src_hi, src_lo = np.uint64(0), V4_MAPPED | np.uint64(_be32(buf, size, l3 + 12))
        dst_hi, dst_lo = np.uint64(0), V4_MAPPED | np.uint64(_be32(buf, size, l3 + 16))
    else:  # IPv6 (or a header not decoded, whose fields are then read as IPv6 all the same)
        l4 = l3 + 40
        ipend = l3 + 40 + _be16(buf, size, l3 + 4)
        proto = _u8(buf, size, l3 + 6)
        later = False
        src_hi, src_lo = _be64(buf, size, l3 + 8), _be64(buf, size, l3 + 16)
        dst_hi, dst_lo = _be64(buf, size, l3 + 24), _be64(buf, size, l3 + 32)
        if ok6:
            l4, proto, later = _ipv6_ext(buf, size, l4, end, proto)
    ok = ok4 or ok6
    kind = KIND_FRAGMENT if ok and later else KIND_SKIP
    reason = 0 if ok else 3
    good = ok and not later
    ipend = max(ipend, l4)
    cut = ipend > end
    ipend = min(ipend, end)
    # TCP (RFC 9293 §3.1): data offset in 4-octet words; UDP (RFC 768): an 8-octet header.
    tcp = good and proto == TCP
    udp = good and proto == UDP
    tlen = (_u8(buf, size, l4 + 12) >> 4) * 4 if tcp else (8 if udp else 0)
    if (tcp and (l4 + 20 > end or tlen < 20)) or (udp and l4 + 8 > end):
        reason = 4
        good = False
    if good:
        kind = KIND_IP
    ports = tcp or udp
    sport = _be16(buf, size, l4) if ports else 0
    dport = _be16(buf, size, l4 + 2) if ports else 0
    flags = _u8(buf, size, l4 + 13) if tcp else 0
    seq = _be32(buf, size, l4 + 4) if tcp else 0
    poff = l4 + tlen
    plen = max(ipend - poff, 0) if ports and good else 0
    return kind, reason, src_hi, src_lo, dst_hi, dst_lo, proto, sport, dport, flags, seq, poff, plen, cut


def packet_walk(raw: U8, off: I64, caplen: I64, link: I64, out: I64, addr: U64, cut: B) -> None:
    """Decode every record ``off[i] .. off[i] + caplen[i]`` of ``raw`` (link type ``link[i]``).

    Fills every element of ``out`` (rows in ``_COLUMNS`` order, shape (12, n)), ``addr`` (source high,
    source low, destination high, destination low 64 bits; shape (4, n)) and ``cut``.
    """
    zero = np.uint64(0)
    buf, size = raw, raw.shape[0]
    for i in range(off.shape[0]):
        end = off[i] + caplen[i]
        l3, etype, vlan, smac, dmac, ftype, supported = _link(buf, size, off[i], caplen[i], link[i])
        kind, reason, proto, sport, dport, flags, seq, short = 0, 0, 0, 0, 0, 0, 0, False
        src_hi = src_lo = dst_hi = dst_lo = zero
        poff, plen = l3, max(end - l3, 0)
        if not supported:
            reason = 1
        elif l3 > end:
            reason = 2
        elif etype != ETH_IPV4 and etype != ETH_IPV6:
            # Non-IP frames: L2 "flows" keyed by source MAC, the ethertype (0x2000 for CDP) as destination
            # port, the raw type/length field (first bytes of a delivered frame) as source port.
            if etype >= 0 and smac >= 0:
                kind, sport, dport = KIND_L2, ftype, etype
            else:
                kind = KIND_NONIP
        else:
            (kind, reason, src_hi, src_lo, dst_hi, dst_lo, proto, sport, dport, flags, seq, poff, plen,
             short) = _network(buf, size, l3, end, etype)
        out[0, i] = kind
        out[1, i] = reason
        out[2, i] = vlan
        out[3, i] = smac
        out[4, i] = dmac
        out[5, i] = proto
        out[6, i] = sport
        out[7, i] = dport
        out[8, i] = flags
        out[9, i] = seq
        out[10, i] = poff
        out[11, i] = plen
        addr[0, i] = src_hi
        addr[1, i] = src_lo
        addr[2, i] = dst_hi
        addr[3, i] = dst_lo
        cut[i] = short


_compiled = extension("wardwatch.capture._decode")
#: The header walks in use: C where the extension was built, else the Python reference above.
_packet_walk = packet_walk if _compiled is None else _compiled.packet_walk
fast_link_walk = link_walk if _compiled is None else _compiled.link_walk

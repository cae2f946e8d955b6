"""Network and transport headers, vectorized: one :class:`PacketBatch` of arrays per record batch.

IPv4 (RFC 791: options via IHL, fragments: only the first fragment carries the transport header; the
others are counted) and IPv6 (RFC 8200 §4: hop-by-hop 0, routing 43, fragment 44, destination options
60, AH 51 (RFC 4302 §2.2: length in 4-octet units minus 2), mobility 135). TCP (RFC 9293 §3.1) ports,
sequence number, data offset and flags; UDP (RFC 768) ports. Payload length follows the IP length
field, so Ethernet padding is never taken for payload.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wardwatch.capture.gather import I64, U64, Gatherer, be16, be32, be64, cols
from wardwatch.capture.linklayer import ETH_IPV4, ETH_IPV6, decode_link
from wardwatch.capture.records import RecordIndex

B = npt.NDArray[np.bool_]

KIND_SKIP = 0
KIND_IP = 1
KIND_L2 = 2
KIND_FRAGMENT = 3
KIND_NONIP = 4  # a frame we do not track (no source MAC, or an LLC frame other than CDP)

#: Why a packet was not decoded (index = code in ``PacketBatch.reason``).
REASONS = ("ok", "unsupported_link_type", "short_link_header", "bad_ip_header", "short_transport_header")

TCP, UDP = 6, 17
V6_EXT = (0, 43, 60, 135)  # length in 8-octet units, not counting the first 8
V4_MAPPED = np.uint64(0x0000FFFF00000000)


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
    off, cap = rec.off, rec.caplen
    end = off + cap
    li = decode_link(g, off, cap, rec.link)
    zero64 = np.zeros(n, dtype=np.uint64)
    pb = PacketBatch(
        ts=rec.ts, wirelen=rec.wirelen, kind=np.zeros(n, dtype=np.int64), reason=np.zeros(n, dtype=np.int64),
        vlan=li.vlan, smac=li.smac, dmac=li.dmac, src_hi=zero64, src_lo=zero64.copy(), dst_hi=zero64.copy(),
        dst_lo=zero64.copy(), proto=np.zeros(n, dtype=np.int64), sport=np.zeros(n, dtype=np.int64),
        dport=np.zeros(n, dtype=np.int64), flags=np.zeros(n, dtype=np.int64), seq=np.zeros(n, dtype=np.int64),
        poff=li.l3.copy(), plen=np.maximum(end - li.l3, 0), cut=np.zeros(n, dtype=bool),
    )
    pb.reason[~li.supported] = 1
    short_link = li.supported & (li.l3 > end)
    pb.reason[short_link] = 2
    # Non-IP frames: L2 "flows" keyed by source MAC, the ethertype as destination port.
    l2 = li.supported & ~short_link & (li.etype != ETH_IPV4) & (li.etype != ETH_IPV6)
    tracked = l2 & (li.etype >= 0) & (li.smac >= 0)
    pb.kind[tracked] = KIND_L2
    pb.kind[l2 & ~tracked] = KIND_NONIP
    pb.dport[tracked] = li.etype[tracked]  # the flow key's "port": ethertype (0x2000 for CDP)
    pb.sport[tracked] = li.ftype[tracked]  # the raw type/length field, first bytes of a delivered frame
    ip = np.flatnonzero(li.supported & ~short_link & ~l2)
    if ip.shape[0]:
        _ip(g, pb, ip, li.l3[ip], end[ip], li.etype[ip])
    return pb


def _ip(g: Gatherer, pb: PacketBatch, sel: I64, l3: I64, end: I64, etype: I64) -> None:
    rows = g.rows(l3, 80)
    avail = end - l3
    ver = rows[:, 0].astype(np.int64) >> 4
    is4 = (etype == ETH_IPV4) & (ver == 4)
    is6 = (etype == ETH_IPV6) & (ver == 6)
    # IPv4 (RFC 791 §3.1)
    ihl = (rows[:, 0].astype(np.int64) & 0x0F) * 4
    tot4 = be16(rows, 2)
    frag = be16(rows, 6)
    ok4 = is4 & (ihl >= 20) & (avail >= ihl) & (tot4 >= ihl)
    # IPv6 (RFC 8200 §3)
    ok6 = is6 & (avail >= 40)
    hdr = np.where(ok4, ihl, 40)
    ipend = l3 + np.where(ok4, tot4, 40 + be16(rows, 4))
    proto = np.where(ok4, rows[:, 9], rows[:, 6]).astype(np.int64)
    later_frag = ok4 & ((frag & 0x1FFF) != 0)
    a4s, a4d = be32(rows, 12).astype(np.uint64), be32(rows, 16).astype(np.uint64)
    src_hi = np.where(ok4, np.uint64(0), be64(rows, 8))
    src_lo = np.where(ok4, a4s | V4_MAPPED, be64(rows, 16))
    dst_hi = np.where(ok4, np.uint64(0), be64(rows, 24))
    dst_lo = np.where(ok4, a4d | V4_MAPPED, be64(rows, 32))
    l4 = l3 + hdr
    # IPv6 extension headers: a bounded walk, only over the packets that have them.
    ext = ok6 & (np.isin(proto, V6_EXT) | (proto == 44) | (proto == 51))
    for _ in range(8):
        idx = np.flatnonzero(ext)
        if idx.shape[0] == 0:
            break
        at = l4[idx]
        nh = g.u8(at)
        hl = g.u8(at + 1)
        p = proto[idx]
        size = np.where(p == 51, (hl + 2) * 4, np.where(p == 44, 8, (hl + 1) * 8))
        frag_off = g.be16(at + 2) >> 3
        later_frag[idx] |= (p == 44) & (frag_off != 0)
        inside = at + 8 <= end[idx]
        proto[idx] = np.where(inside, nh, 255)
        l4[idx] = at + size
        ext[idx] = inside & (np.isin(nh, V6_EXT) | (nh == 44) | (nh == 51)) & ~later_frag[idx]
    ok = ok4 | ok6
    pb.reason[sel[~ok]] = 3
    fr = ok & later_frag
    pb.kind[sel[fr]] = 3
    good = ok & ~later_frag
    ipend = np.maximum(ipend, l4)
    pb.cut[sel] = ipend > end
    ipend = np.minimum(ipend, end)
    # Transport (RFC 9293 §3.1, RFC 768).
    rel = l4 - l3
    inrow = rel + 14 <= 80
    t = cols(rows, np.where(inrow, rel, 0), 14)
    far = np.flatnonzero(good & ~inrow)
    if far.shape[0]:
        t[far] = g.rows(l4[far], 14)
    tcp = good & (proto == TCP)
    udp = good & (proto == UDP)
    tlen = np.where(tcp, (t[:, 12].astype(np.int64) >> 4) * 4, np.where(udp, 8, 0))
    short_t = (tcp & ((l4 + 20 > end) | (tlen < 20))) | (udp & (l4 + 8 > end))
    ports = tcp | udp
    pb.reason[sel[short_t]] = 4
    good &= ~short_t
    pb.kind[sel[good]] = 1
    pb.src_hi[sel], pb.src_lo[sel], pb.dst_hi[sel], pb.dst_lo[sel] = src_hi, src_lo, dst_hi, dst_lo
    pb.proto[sel] = proto
    pb.sport[sel] = np.where(ports, be16(t, 0), 0)
    pb.dport[sel] = np.where(ports, be16(t, 2), 0)
    pb.seq[sel] = np.where(tcp, be32(t, 4), 0)
    pb.flags[sel] = np.where(tcp, t[:, 13], 0)
    poff = l4 + tlen
    pb.poff[sel] = poff
    pb.plen[sel] = np.where(ports & good, np.maximum(ipend - poff, 0), 0)

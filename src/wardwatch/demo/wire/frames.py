"""Ethernet II + IEEE 802.1Q, IPv4, UDP and TCP framing with correct checksums.

Checksums are the Internet checksum of RFC 1071, computed with ``array('H')`` in native byte order
(the one's-complement sum is byte-order independent, RFC 1071 §2(B)) and swapped once at the end.
Payload sums of large, reused template payloads are cached by object, so a bulk transfer that repeats
one precomputed fragment costs a header pack and one dictionary lookup per packet.
"""

from __future__ import annotations

import struct
import sys
from array import array

ETH_P_IPV4 = 0x0800
ETH_P_8021Q = 0x8100
ETH_P_LLDP = 0x88CC
IPPROTO_TCP = 6
IPPROTO_UDP = 17

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10

_LITTLE = sys.byteorder == "little"
_CACHE_MIN = 256
_CACHE_MAX = 4096
_sum_cache: dict[bytes, int] = {}

_ETH_VLAN = struct.Struct("!6s6sHHH")
_ETH = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
_TCP = struct.Struct("!HHIIBBHHH")
_PSEUDO = struct.Struct("!4s4sBBH")


def _raw_sum(data: bytes) -> int:
    """Native-order 16-bit word sum of ``data`` (odd length padded with a zero byte, RFC 1071)."""
    if len(data) & 1:
        data = data + b"\x00"
    return sum(array("H", data))


def payload_sum(data: bytes) -> int:
    """Word sum of a payload, cached for large payloads reused as templates."""
    if len(data) < _CACHE_MIN:
        return _raw_sum(data)
    cached = _sum_cache.get(data)
    if cached is None:
        if len(_sum_cache) >= _CACHE_MAX:
            _sum_cache.clear()
        cached = _raw_sum(data)
        _sum_cache[data] = cached
    return cached


def _finish(total: int) -> int:
    """Fold a word sum to 16 bits, complement it and return it in network order (RFC 1071 §4.1)."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    if _LITTLE:
        total = ((total & 0xFF) << 8) | (total >> 8)
    return total


def checksum(data: bytes) -> int:
    """The Internet checksum of ``data`` as a network-order integer."""
    return _finish(_raw_sum(data))


def ethernet(dst: bytes, src: bytes, vlan: int | None, ethertype: int) -> bytes:
    """Ethernet II header, with an IEEE 802.1Q tag (PCP 0, DEI 0) when ``vlan`` is set."""
    if vlan is None:
        return _ETH.pack(dst, src, ethertype)
    return _ETH_VLAN.pack(dst, src, ETH_P_8021Q, vlan & 0x0FFF, ethertype)


def ipv4_header(src: bytes, dst: bytes, proto: int, payload_len: int, ident: int, ttl: int,
                dont_fragment: bool = True) -> bytes:
    """A 20-byte IPv4 header (RFC 791 §3.1) with its header checksum."""
    flags = 0x4000 if dont_fragment else 0
    hdr = _IPV4.pack(0x45, 0, 20 + payload_len, ident & 0xFFFF, flags, ttl, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]


def udp_frame(src_mac: bytes, dst_mac: bytes, vlan: int | None, src_ip: bytes, dst_ip: bytes,
              sport: int, dport: int, payload: bytes, *, ident: int = 0, ttl: int = 64) -> bytes:
    """A whole Ethernet/IPv4/UDP frame; the UDP checksum covers the pseudo-header (RFC 768)."""
    length = 8 + len(payload)
    head = _UDP.pack(sport, dport, length, 0)
    total = _raw_sum(_PSEUDO.pack(src_ip, dst_ip, 0, IPPROTO_UDP, length) + head) + payload_sum(payload)
    csum = _finish(total) or 0xFFFF  # RFC 768: a computed zero is sent as all ones
    udp = _UDP.pack(sport, dport, length, csum)
    return (ethernet(dst_mac, src_mac, vlan, ETH_P_IPV4)
            + ipv4_header(src_ip, dst_ip, IPPROTO_UDP, length, ident, ttl, dont_fragment=False)
            + udp + payload)


def tcp_frame(src_mac: bytes, dst_mac: bytes, vlan: int | None, src_ip: bytes, dst_ip: bytes,
              sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"", *,
              window: int = 64240, options: bytes = b"", ident: int = 0, ttl: int = 64) -> bytes:
    """A whole Ethernet/IPv4/TCP frame (RFC 9293 §3.1) with a correct TCP checksum."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    hlen = 20 + len(options)
    seg_len = hlen + len(payload)
    ack_field = ack & 0xFFFFFFFF if flags & TCP_ACK else 0
    head = _TCP.pack(sport, dport, seq & 0xFFFFFFFF, ack_field, (hlen // 4) << 4, flags,
                     window, 0, 0) + options
    total = _raw_sum(_PSEUDO.pack(src_ip, dst_ip, 0, IPPROTO_TCP, seg_len) + head) + payload_sum(payload)
    csum = _finish(total)
    tcp = head[:16] + struct.pack("!H", csum) + head[18:]
    return (ethernet(dst_mac, src_mac, vlan, ETH_P_IPV4)
            + ipv4_header(src_ip, dst_ip, IPPROTO_TCP, seg_len, ident, ttl)
            + tcp + payload)


def syn_options(mss: int = 1460, wscale: int = 8, sack: bool = True) -> bytes:
    """TCP SYN options: MSS (RFC 9293 §3.7.1), NOP, window scale (RFC 7323), SACK-permitted (RFC 2018)."""
    opts = struct.pack("!BBH", 2, 4, mss) + b"\x01" + struct.pack("!BBB", 3, 3, wscale)
    if sack:
        opts += b"\x01\x01\x04\x02"
    return opts


def mac_bytes(text: str) -> bytes:
    """``'00:09:fb:01:02:03'`` to six bytes."""
    return bytes(int(part, 16) for part in text.split(":"))


def mac_text(raw: bytes) -> str:
    """Six bytes to lower-case colon notation."""
    return ":".join(f"{b:02x}" for b in raw)

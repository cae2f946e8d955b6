"""Small capture builders for the capture tests: frames with dpkt, files written by hand."""

from __future__ import annotations

import struct

import dpkt

MAC_A = b"\x02\x00\x00\x00\x00\x0a"
MAC_B = b"\x02\x00\x00\x00\x00\x0b"


def ip4(src: str, dst: str, l4: dpkt.Packet, proto: int, **kw: object) -> dpkt.ip.IP:
    """An IPv4 packet around ``l4``."""
    import socket

    pkt = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=l4, **kw)
    pkt.len = len(bytes(pkt))
    return pkt


def ip6(src: str, dst: str, l4: dpkt.Packet, nxt: int) -> dpkt.ip6.IP6:
    """An IPv6 packet around ``l4``."""
    import socket

    body = bytes(l4)
    return dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src), dst=socket.inet_pton(socket.AF_INET6, dst),
                        nxt=nxt, hlim=64, plen=len(body), data=body)


def tcp(sport: int, dport: int, seq: int, flags: int, data: bytes = b"", ack: int = 0) -> dpkt.tcp.TCP:
    """A TCP segment."""
    return dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, data=data)


def udp(sport: int, dport: int, data: bytes) -> dpkt.udp.UDP:
    """A UDP datagram."""
    return dpkt.udp.UDP(sport=sport, dport=dport, data=data, ulen=8 + len(data))


def eth(l3: dpkt.Packet, *, src: bytes = MAC_A, dst: bytes = MAC_B, etype: int = 0x0800,
        tags: tuple[tuple[int, int], ...] = ()) -> bytes:
    """An Ethernet II frame; ``tags`` = ((tpid, vid), ...) outermost first."""
    head = dst + src
    for tpid, vid in tags:
        head += struct.pack("!HH", tpid, vid)
    return head + struct.pack("!H", etype) + bytes(l3)


def pcap(frames: list[tuple[float, bytes]], *, linktype: int = 1, endian: str = "<", nano: bool = False,
         snaplen: int = 65535) -> bytes:
    """A classic pcap file."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    unit = 1_000_000_000 if nano else 1_000_000
    for ts, frame in frames:
        sec = int(ts)
        frac = round((ts - sec) * unit)
        out.append(struct.pack(endian + "IIII", sec, frac, len(frame), len(frame)) + frame)
    return b"".join(out)


def _block(btype: int, body: bytes, endian: str) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def pcapng(ifaces: list[tuple[int, int | None]], packets: list[tuple[int, int, bytes]], *,
           endian: str = "<", extra_blocks: list[bytes] | None = None) -> bytes:
    """A pcapng file: ``ifaces`` = [(linktype, tsresol option or None)], packets = [(iface, stamp, frame)]."""
    shb = _block(0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1), endian)
    out = shb
    for link, res in ifaces:
        opts = b""
        if res is not None:
            opts = struct.pack(endian + "HH", 9, 1) + bytes([res]) + b"\x00" * 3 + struct.pack(endian + "HH", 0, 0)
        out += _block(1, struct.pack(endian + "HHI", link, 0, 65535) + opts, endian)
    for blk in extra_blocks or []:
        out += blk
    for iface, stamp, frame in packets:
        body = struct.pack(endian + "IIIII", iface, stamp >> 32, stamp & 0xFFFFFFFF, len(frame), len(frame)) + frame
        out += _block(6, body, endian)
    return out

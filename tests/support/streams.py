"""Test-only capture helpers (dpkt): TCP streams and link-layer frames out of a pcap, and small
crafted captures written back so tshark can be the oracle on bytes we built.

Deliberately simple: per connection, each direction's segments are placed by sequence number relative
to the first (SYN or first data) sequence number; the bytes stop at the first hole. Good enough for the
short, clean public traces used in tests; the real reassembly lives in ``wardwatch.capture``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

from tests.support.pcapfile import ip_text, mac_text, packets
from wardwatch.dissect.interface import FlowContext


@dataclass
class _Direction:
    base: int | None = None
    segments: dict[int, bytes] = field(default_factory=dict)

    def add(self, seq: int, payload: bytes, syn: bool) -> None:
        if syn:
            self.base = (seq + 1) & 0xFFFFFFFF
            return
        if payload:
            if self.base is None:
                self.base = seq
            rel = (seq - self.base) & 0xFFFFFFFF
            if rel < 1 << 30 and len(payload) > len(self.segments.get(rel, b"")):
                self.segments[rel] = payload

    def data(self) -> bytes:
        out = bytearray()
        for rel in sorted(self.segments):
            payload = self.segments[rel]
            if rel > len(out):
                break
            out += payload[len(out) - rel :]
        return bytes(out)

    @property
    def has_gap(self) -> bool:
        """True when a segment is missing (the bytes stop at the hole)."""
        end = 0
        for rel in sorted(self.segments):
            if rel > end:
                return True
            end = max(end, rel + len(self.segments[rel]))
        return False


@dataclass
class Stream:
    """One TCP connection: who is client/server, and the reassembled bytes of each direction."""

    ts: float
    client: tuple[str, int, str]  # ip, port, mac
    server: tuple[str, int, str]
    c2s: _Direction = field(default_factory=_Direction)
    s2c: _Direction = field(default_factory=_Direction)

    @property
    def client_bytes(self) -> bytes:
        """Client → server bytes."""
        return self.c2s.data()

    @property
    def server_bytes(self) -> bytes:
        """Server → client bytes."""
        return self.s2c.data()

    @property
    def complete(self) -> bool:
        """True when neither direction has a hole."""
        return not (self.c2s.has_gap or self.s2c.has_gap)

    def ctx(self, truncated: bool = False) -> FlowContext:
        """A FlowContext for this connection."""
        return FlowContext(ts=self.ts, sensor="test", proto=6, src_mac=self.client[2],
                           dst_mac=self.server[2], src_ip=self.client[0], dst_ip=self.server[0],
                           src_port=self.client[1], dst_port=self.server[1], truncated=truncated)


def frames(path: Path) -> Iterator[tuple[float, str, int, bytes]]:
    """(ts, src_mac, ethertype or SNAP PID, bytes after the ethertype / LLC-SNAP) of non-IP frames."""
    for ts, _linktype, buf in packets(path):
        eth = dpkt.ethernet.Ethernet(buf)
        src = mac_text(eth.src)
        ethertype = int.from_bytes(buf[12:14], "big")
        if ethertype <= 1500:  # 802.3 length field: LLC follows
            llc = buf[14:]
            if llc[:3] == b"\xaa\xaa\x03":
                yield ts, src, int.from_bytes(llc[6:8], "big"), llc[8 : 8 + ethertype - 8]
        elif ethertype not in (0x0800, 0x86DD):
            yield ts, src, ethertype, buf[14:]


def tcp_streams(path: Path) -> list[Stream]:
    """Every TCP connection of a capture (Ethernet / Linux cooked / raw IP), reassembled simply.

    The list is in order of each connection's first packet, like tshark's ``tcp.stream`` numbers.
    """
    streams: dict[tuple[object, ...], Stream] = {}
    for ts, linktype, buf in packets(path):
        smac = dmac = ""
        if linktype == dpkt.pcap.DLT_EN10MB:
            eth = dpkt.ethernet.Ethernet(buf)
            smac, dmac, ip = mac_text(eth.src), mac_text(eth.dst), eth.data
        elif linktype == dpkt.pcap.DLT_LINUX_SLL:
            ip = dpkt.sll.SLL(buf).data
        else:
            ip = dpkt.ip.IP(buf) if buf[:1] and buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
        if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        a = (ip_text(ip.src), tcp.sport, smac)
        b = (ip_text(ip.dst), tcp.dport, dmac)
        key = tuple(sorted([a[:2], b[:2]]))
        syn = bool(tcp.flags & dpkt.tcp.TH_SYN)
        stream = streams.get(key)
        if stream is None:
            if syn and tcp.flags & dpkt.tcp.TH_ACK:
                stream = Stream(ts, client=b, server=a)
            else:
                stream = Stream(ts, client=a, server=b)
            streams[key] = stream
        direction = stream.c2s if a[:2] == stream.client[:2] else stream.s2c
        direction.add(tcp.seq, bytes(tcp.data), syn)
    return list(streams.values())


def write_tcp_pcap(path: Path, exchange: Iterable[tuple[bool, bytes]], *,
                   client: tuple[str, int] = ("10.0.0.1", 40000),
                   server: tuple[str, int] = ("10.0.0.2", 80), mss: int = 1400) -> None:
    """Write one TCP connection (handshake, then ``(from_client, bytes)`` segments) as an Ethernet pcap."""
    cmac, smac = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
    seq = {True: 1000, False: 5000}
    ts = 1_700_000_000.0

    def packet(from_client: bool, flags: int, payload: bytes = b"") -> bytes:
        src, dst = (client, server) if from_client else (server, client)
        tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq[from_client], ack=seq[not from_client],
                           flags=flags, win=65535, data=payload)
        ip = dpkt.ip.IP(src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]), p=dpkt.ip.IP_PROTO_TCP,
                        ttl=64, data=tcp)
        ip.len = len(ip)
        eth = dpkt.ethernet.Ethernet(src=cmac if from_client else smac, dst=smac if from_client else cmac,
                                     type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
        return bytes(eth)

    with path.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        writer.writepkt(packet(True, dpkt.tcp.TH_SYN), ts)
        seq[True] += 1
        writer.writepkt(packet(False, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK), ts + 0.001)
        seq[False] += 1
        writer.writepkt(packet(True, dpkt.tcp.TH_ACK), ts + 0.002)
        for i, (from_client, data) in enumerate(exchange):
            for off in range(0, len(data), mss):
                chunk = data[off : off + mss]
                writer.writepkt(packet(from_client, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, chunk),
                                ts + 0.01 * (i + 1) + off * 1e-7)
                seq[from_client] += len(chunk)


def write_frames(path: Path, frames_: Iterable[bytes]) -> None:
    """Write whole Ethernet frames as a pcap."""
    with path.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        for i, frame in enumerate(frames_):
            writer.writepkt(frame, 1_700_000_000.0 + i)

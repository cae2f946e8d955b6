"""The packet clock and emitters for UDP datagrams and whole TCP conversations.

A TCP conversation has the three-way handshake, data segmented at the MSS with cumulative ACKs, and
an orderly FIN/ACK close (RFC 9293 §3.5, §3.6), so tshark reassembles the streams.
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.demo.wire.frames import (
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    syn_options,
    tcp_frame,
    udp_frame,
)
from wardwatch.demo.wire.pcapng import PcapngWriter


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a conversation as it appears on the capture's VLAN."""

    mac: bytes
    ip: bytes
    vlan: int | None
    ttl: int = 64


class Emitter:
    """Stamps frames with a monotonic clock (µs) and writes them."""

    def __init__(self, writer: PcapngWriter, start_us: int) -> None:
        self.writer = writer
        self.now = start_us
        self._ident = 1

    def at(self, ts_us: int) -> None:
        """Move the clock forward to ``ts_us`` (never backwards: timestamps stay monotonic)."""
        if ts_us > self.now:
            self.now = ts_us

    def ident(self) -> int:
        """The next IPv4 identification value."""
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    def frame(self, frame: bytes, gap_us: int = 0) -> None:
        """Write a ready frame ``gap_us`` after the previous packet."""
        self.now += gap_us
        self.writer.write(self.now, frame)

    def udp(self, src: Endpoint, dst: Endpoint, sport: int, dport: int, payload: bytes,
            gap_us: int = 50, *, dst_mac: bytes | None = None, dst_vlan_of_src: bool = True) -> None:
        """One UDP datagram from ``src`` to ``dst`` on the sender's VLAN."""
        vlan = src.vlan if dst_vlan_of_src else dst.vlan
        self.frame(udp_frame(src.mac, dst_mac or dst.mac, vlan, src.ip, dst.ip, sport, dport, payload,
                             ident=self.ident(), ttl=src.ttl), gap_us)


class TcpConversation:
    """A TCP connection between ``client`` and ``server``; the server's frames use the client's VLAN.

    ``server.mac`` is the next-hop MAC as seen on the client's VLAN (the router for routed peers).
    """

    def __init__(self, em: Emitter, client: Endpoint, server: Endpoint, sport: int, dport: int,
                 isn_client: int, isn_server: int, *, rtt_us: int = 400, mss: int = 1460) -> None:
        self.em = em
        self.c = client
        self.s = server
        self.sport = sport
        self.dport = dport
        self.cseq = isn_client & 0xFFFFFFFF
        self.sseq = isn_server & 0xFFFFFFFF
        self.rtt = max(rtt_us, 20)
        self.mss = mss

    def _send(self, from_client: bool, flags: int, payload: bytes = b"", options: bytes = b"",
              gap: int = 0) -> None:
        if from_client:
            frame = tcp_frame(self.c.mac, self.s.mac, self.c.vlan, self.c.ip, self.s.ip, self.sport,
                              self.dport, self.cseq, self.sseq, flags, payload, options=options,
                              ident=self.em.ident(), ttl=self.c.ttl)
        else:
            frame = tcp_frame(self.s.mac, self.c.mac, self.c.vlan, self.s.ip, self.c.ip, self.dport,
                              self.sport, self.sseq, self.cseq, flags, payload, options=options,
                              ident=self.em.ident(), ttl=self.s.ttl, window=65160)
        self.em.frame(frame, gap)

    def open(self) -> None:
        """SYN, SYN-ACK, ACK."""
        self._send(True, TCP_SYN, options=syn_options(), gap=self.rtt)
        self.cseq += 1
        self._send(False, TCP_SYN | TCP_ACK, options=syn_options(), gap=self.rtt // 2)
        self.sseq += 1
        self._send(True, TCP_ACK, gap=self.rtt // 2)

    def syn_probe(self, open_port: bool) -> None:
        """A half-open scan probe: SYN, then SYN-ACK + RST (open) or RST-ACK (closed)."""
        self._send(True, TCP_SYN, options=struct_mss_only(), gap=self.rtt)
        self.cseq += 1
        if open_port:
            self._send(False, TCP_SYN | TCP_ACK, options=syn_options(), gap=self.rtt // 2)
            self.sseq += 1
            self._send(True, TCP_RST, gap=20)
        else:
            self._send(False, TCP_RST | TCP_ACK, gap=self.rtt // 2)

    def send(self, from_client: bool, data: bytes) -> None:
        """Send ``data`` in MSS-sized segments, the peer ACKing every second segment and the last."""
        self.send_chunks(from_client, [data[off:off + self.mss] for off in range(0, len(data), self.mss)])

    def send_chunks(self, from_client: bool, chunks: list[bytes]) -> None:
        """Send pre-cut segments (each at most one MSS; reusing the same objects keeps checksums cached)."""
        unacked = 0
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            self._send(from_client, TCP_ACK | (TCP_PSH if last else 0), chunk, gap=30 if i else self.rtt)
            if from_client:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)
            unacked += 1
            if unacked == 2 or last:
                self._send(not from_client, TCP_ACK, gap=self.rtt // 2)
                unacked = 0

    def exchange(self, request: bytes, response: bytes | None) -> None:
        """A request from the client and (optionally) the server's response."""
        self.send(True, request)
        if response:
            self.send(False, response)

    def close(self, client_first: bool = True) -> None:
        """FIN/ACK from one side, FIN/ACK back, final ACK (RFC 9293 §3.6)."""
        self._send(client_first, TCP_FIN | TCP_ACK, gap=self.rtt)
        if client_first:
            self.cseq += 1
        else:
            self.sseq += 1
        self._send(not client_first, TCP_FIN | TCP_ACK, gap=self.rtt // 2)
        if client_first:
            self.sseq += 1
        else:
            self.cseq += 1
        self._send(client_first, TCP_ACK, gap=self.rtt // 2)


def struct_mss_only() -> bytes:
    """The lone MSS option nmap-style scanners put in SYN probes."""
    return syn_options(1460, 0, False)[:4]

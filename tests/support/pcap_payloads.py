"""Test-only helper: UDP payloads of a capture with their FlowContext, read with dpkt.

The capture engine is not used here on purpose: dissector tests should not depend on it. Handles
pcap and pcapng with Ethernet (incl. 802.1Q), Linux cooked v1, and raw IP link types.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dpkt
from hypothesis import strategies as st

from tests.support import pcapfile
from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import MAX_VALUE, Observation


@dataclass(frozen=True)
class Datagram:
    """One UDP payload, its frame number (1-based, as tshark counts) and its context."""

    frame: int
    ctx: FlowContext
    payload: bytes


def udp_datagrams(capture: Path, sensor: str = "test") -> Iterator[Datagram]:
    """Every UDP payload of ``capture`` (IP fragments are skipped), in file order."""
    for frame, (ts, linktype, buf) in enumerate(pcapfile.packets(capture), start=1):
        src_mac = dst_mac = None
        vlan = None
        try:
            if linktype == dpkt.pcap.DLT_EN10MB:
                eth = dpkt.ethernet.Ethernet(buf)
                src_mac, dst_mac = pcapfile.mac_text(eth.src), pcapfile.mac_text(eth.dst)
                ip = eth.data
                if getattr(eth, "vlan_tags", None):
                    vlan = eth.vlan_tags[-1].id
            elif linktype == dpkt.pcap.DLT_LINUX_SLL:
                ip = dpkt.sll.SLL(buf).data
            elif linktype in (dpkt.pcap.DLT_RAW, 101, 228, 229):
                ip = dpkt.ip.IP(buf) if buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
            else:
                continue
        except (dpkt.UnpackError, IndexError):
            continue
        if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
            continue
        udp = ip.data
        if not isinstance(udp, dpkt.udp.UDP):
            continue
        src_ip, dst_ip = pcapfile.ip_text(ip.src), pcapfile.ip_text(ip.dst)
        ctx = FlowContext(ts=float(ts), sensor=sensor, proto=17, src_mac=src_mac, dst_mac=dst_mac,
                          src_ip=src_ip, dst_ip=dst_ip, src_port=udp.sport, dst_port=udp.dport,
                          vlan=vlan)
        yield Datagram(frame, ctx, bytes(udp.data))


def write_udp_pcap(path: Path, packets: list[tuple[str, str, int, int, bytes]]) -> Path:
    """Write a small Ethernet/IPv4/UDP pcap of (src_ip, dst_ip, sport, dport, payload) for tshark."""
    with path.open("wb") as fh:
        writer = dpkt.pcap.Writer(fh)
        for n, (src, dst, sport, dport, payload) in enumerate(packets):
            udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
            udp.ulen = len(udp)
            ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=17, data=udp)
            ip.len = len(ip)
            eth = dpkt.ethernet.Ethernet(src=bytes([2, 0, 0, 0, 0, n % 250 + 1]), dst=b"\xff" * 6,
                                         type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
            writer.writepkt(bytes(eth), ts=1_700_000_000 + n)
    return path


# --- helpers shared by the dissector tests: contexts, fuzzing --------------------------------------

def context(src_ip: str = "192.0.2.10", dst_ip: str = "192.0.2.1", sport: int = 40000, dport: int = 0,
            src_mac: str | None = "02:00:00:00:00:0a", dst_mac: str | None = "02:00:00:00:00:01",
            ) -> FlowContext:
    """A FlowContext for crafted datagrams."""
    return FlowContext(ts=1_700_000_000.0, sensor="test", proto=17, src_mac=src_mac, dst_mac=dst_mac,
                       src_ip=src_ip, dst_ip=dst_ip, src_port=sport, dst_port=dport)


def mutations(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Seeds with random byte overwrites, insertions and truncations (hypothesis strategy)."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 8))):
            if not data:
                break
            pos = draw(st.integers(0, len(data) - 1))
            action = draw(st.sampled_from(["set", "insert", "delete"]))
            byte = draw(st.sampled_from([0x00, 0x01, 0x3F, 0x7F, 0x80, 0xC0, 0xFF]) | st.integers(0, 255))
            if action == "set":
                data[pos] = byte
            elif action == "insert":
                data.insert(pos, byte)
            else:
                del data[pos]
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)

    return build()


def run_guarded(dissector: object, data: bytes, ctx: FlowContext) -> list[Observation]:
    """Run detect and dissect the way the registry does; only ParseError may escape dissect."""
    from wardwatch.errors import ParseError

    dissector.detect(data, ctx)  # type: ignore[attr-defined]  # must not raise
    try:
        found = list(dissector.dissect(ctx, data, b""))  # type: ignore[attr-defined]
    except ParseError:
        return []
    for obs in found:
        assert isinstance(obs, Observation)
        assert obs.mac is not None or obs.ip is not None
        assert len(obs.value) <= MAX_VALUE and obs.value
        assert not any(ord(c) < 0x20 for c in obs.value)
    return found

"""Test-only helper: UDP payloads of a capture with their FlowContext, read with dpkt.

The capture engine is not used here on purpose: dissector tests should not depend on it. Handles
pcap and pcapng with Ethernet (incl. 802.1Q), Linux cooked v1, and raw IP link types.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dpkt
from hypothesis import strategies as st

from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.observation import MAX_VALUE, Observation


@dataclass(frozen=True)
class Datagram:
    """One UDP payload, its frame number (1-based, as tshark counts) and its context."""

    frame: int
    ctx: FlowContext
    payload: bytes


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _ip_text(ip: dpkt.ip.IP | dpkt.ip6.IP6) -> tuple[str, str]:
    family = socket.AF_INET if isinstance(ip, dpkt.ip.IP) else socket.AF_INET6
    return socket.inet_ntop(family, ip.src), socket.inet_ntop(family, ip.dst)


def _reader(fh: Any) -> Any:
    try:
        return dpkt.pcap.Reader(fh)
    except ValueError:
        fh.seek(0)
        return dpkt.pcapng.Reader(fh)


def udp_datagrams(capture: Path, sensor: str = "test") -> Iterator[Datagram]:
    """Every UDP payload of ``capture`` (IP fragments are skipped), in file order."""
    with capture.open("rb") as fh:
        reader = _reader(fh)
        linktype = reader.datalink()
        for frame, (ts, buf) in enumerate(reader, start=1):
            src_mac = dst_mac = None
            vlan = None
            try:
                if linktype == dpkt.pcap.DLT_EN10MB:
                    eth = dpkt.ethernet.Ethernet(buf)
                    src_mac, dst_mac = _mac(eth.src), _mac(eth.dst)
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
            src_ip, dst_ip = _ip_text(ip)
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


# --- tshark's full tree, for fields that -T fields cannot correlate --------------------------------

Pairs = list[tuple[str, Any]]


def tshark_tree(tshark: str, capture: Path, display_filter: str, protocol: str) -> list[tuple[int, Pairs]]:
    """(frame number, ``protocol`` layer) of each matching packet from ``tshark -T json``.

    JSON objects are kept as lists of (key, value) pairs because tshark repeats keys (two records
    with the same summary line, several ``dns.txt`` strings).
    """
    import json
    import subprocess

    cmd = [tshark, "-n", "-r", str(capture), "-Y", display_filter, "-T", "json", "-J", f"frame {protocol}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    packets = json.loads(out or "[]", object_pairs_hook=list)
    result: list[tuple[int, Pairs]] = []
    for packet in packets:
        layers = dict(dict(packet)["_source"])["layers"]
        layer_dict = dict(layers)
        frame = int(dict(layer_dict["frame"])["frame.number"])
        result.append((frame, layer_dict.get(protocol, [])))
    return result


def pairs_get(pairs: Pairs, key: str) -> list[Any]:
    """Every value stored under ``key`` in one object."""
    return [v for k, v in pairs if k == key]

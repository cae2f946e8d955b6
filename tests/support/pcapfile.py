"""Test-only: the packets of a pcap or pcapng file (dpkt), and address text as the dissectors write it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import dpkt

#: Section Header Block type (pcapng, draft-ietf-opsawg-pcapng §4.1): a pcapng file starts with it.
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def packets(path: Path) -> Iterator[tuple[float, int, bytes]]:
    """(timestamp, link type, frame bytes) of every packet of a pcap or pcapng file, in file order."""
    with path.open("rb") as fh:
        magic = fh.read(4)
        fh.seek(0)
        reader = dpkt.pcapng.Reader(fh) if magic == _PCAPNG_MAGIC else dpkt.pcap.Reader(fh)
        linktype = reader.datalink()
        for ts, buf in reader:
            yield float(ts), linktype, bytes(buf)


def mac_text(raw: bytes) -> str:
    """Lower-case colon-separated MAC text (``00:1b:63:84:45:e6``)."""
    return ":".join(f"{b:02x}" for b in raw)


def ip_text(raw: bytes) -> str:
    """A packed IPv4 (4 bytes) or IPv6 (16 bytes) address as text."""
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)

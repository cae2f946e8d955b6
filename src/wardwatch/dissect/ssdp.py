"""SSDP / UPnP discovery dissector (UPnP Device Architecture 2.0 §1, HTTP over UDP on port 1900).

A ``NOTIFY * HTTP/1.1`` announcement (§1.2.2) and an ``HTTP/1.1 200 OK`` answer to a search (§1.3.3) are
about their *sender*, the announcing device:

* ``ssdp.server`` (SERVER: ``OS/version UPnP/2.0 product/version``), ``ssdp.location`` (URL of the device
  description), ``ssdp.usn`` (unique service name), ``ssdp.nt`` (NOTIFY's notification type),
  ``ssdp.st`` (a search answer's search target).

An ``M-SEARCH * HTTP/1.1`` request (§1.3.2) is about the *searcher*: ``ssdp.user_agent`` (USER-AGENT)
and ``ssdp.search_target`` (its ST). At most :data:`MAX_HEADERS` header lines of at most
:data:`MAX_BYTES` bytes in all are read; values are cleaned of control characters and clipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._wire.text import safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

SSDP_PORT = 1900
MAX_HEADERS = 64
MAX_BYTES = 8192
_STARTS = (b"NOTIFY * HTTP/1.", b"M-SEARCH * HTTP/1.", b"HTTP/1.1 200", b"HTTP/1.0 200")
ANNOUNCE_HEADERS = {"server": "ssdp.server", "location": "ssdp.location", "usn": "ssdp.usn"}
SEARCH_HEADERS = {"user-agent": "ssdp.user_agent", "st": "ssdp.search_target"}


def parse_headers(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """The start line and the headers (lower-case names; the first of repeated names wins)."""
    head = data[:MAX_BYTES].split(b"\r\n\r\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    if len(lines) > MAX_HEADERS + 1:
        lines = lines[: MAX_HEADERS + 1]
    start = lines[0].strip()
    headers: dict[str, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        key = name.strip().lower().decode("ascii", errors="replace")
        headers.setdefault(key, value.strip())
    return start, headers


class SsdpDissector:
    """SSDP NOTIFY, M-SEARCH and search answers."""

    name: ClassVar[str] = "ssdp"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({SSDP_PORT})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """A NOTIFY or M-SEARCH start line anywhere; a 200 answer only from or to port 1900."""
        if data.startswith(_STARTS[:2]):
            return True
        return data.startswith(_STARTS[2:]) and SSDP_PORT in (ctx.src_port, ctx.dst_port)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one SSDP message."""
        if not client.startswith(_STARTS):
            raise ParseError("not an SSDP start line")
        start, headers = parse_headers(client)
        if start.startswith(b"M-SEARCH"):
            wanted = dict(SEARCH_HEADERS)
        else:
            wanted = dict(ANNOUNCE_HEADERS)
            wanted["nt" if start.startswith(b"NOTIFY") else "st"] = (
                "ssdp.nt" if start.startswith(b"NOTIFY") else "ssdp.st"
            )
        for header, kind in wanted.items():
            value = safe_text(headers.get(header, b""))
            if value:
                yield ctx.observation(kind, value, excerpt=f"{header.upper()}: {value}")


DISSECTOR = SsdpDissector()

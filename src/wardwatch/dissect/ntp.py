"""NTP dissector (RFC 5905 §7.3 packet header; control messages of RFC 1305 appendix B / RFC 9327).

About the *sender*: ``ntp.mode`` (``client``, ``server``, ``broadcast``, ``symmetric active`` ...),
``ntp.version``; for a server, broadcast or symmetric peer also ``ntp.stratum`` and its reference:
``ntp.refid`` as text for stratum 0 (a kiss code such as ``RATE``, RFC 5905 §7.4) and stratum 1 (the
reference clock, ``GPS``, ``PPS``), ``ntp.upstream`` (the upstream server's IPv4 address) for stratum 2..15
carried over IPv4 (over IPv6 the field is a hash, RFC 5905 §7.3, and says nothing usable).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._wire.text import ipv4_text, safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

NTP_PORT = 123
HEADER = 48
MODES = {  # RFC 5905 Figure 10
    0: "reserved", 1: "symmetric active", 2: "symmetric passive", 3: "client", 4: "server",
    5: "broadcast", 6: "control", 7: "private",
}
SERVING_MODES = frozenset({1, 2, 4, 5})


class NtpDissector:
    """NTP clients and servers: mode, version, stratum and reference."""

    name: ClassVar[str] = "ntp"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({NTP_PORT})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """Port 123 and a version 1..4 header (no magic exists; the port is part of the signature)."""
        if NTP_PORT not in (ctx.src_port, ctx.dst_port) or not data:
            return False
        version, mode = (data[0] >> 3) & 7, data[0] & 7
        return 1 <= version <= 4 and (len(data) >= HEADER or mode in (6, 7))

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one NTP packet."""
        data = client
        if not data:
            raise ParseError("NTP: empty datagram")
        version, mode = (data[0] >> 3) & 7, data[0] & 7
        if not 1 <= version <= 4:
            raise ParseError(f"NTP: version {version}")
        if mode not in (6, 7) and len(data) < HEADER:
            raise ParseError("NTP: header shorter than 48 octets")
        facts = [("ntp.mode", MODES[mode]), ("ntp.version", str(version))]
        if mode in SERVING_MODES:
            stratum, refid = data[1], data[12:16]
            facts.append(("ntp.stratum", str(stratum)))
            if stratum <= 1:
                facts.append(("ntp.refid", safe_text(refid.rstrip(b"\0"), 8)))
            elif stratum < 16 and ctx.src_ip is not None and ":" not in ctx.src_ip and any(refid):
                facts.append(("ntp.upstream", ipv4_text(refid)))
        for kind, value in facts:
            if value:
                yield ctx.observation(kind, value, excerpt=f"{kind} {value}")


DISSECTOR = NtpDissector()

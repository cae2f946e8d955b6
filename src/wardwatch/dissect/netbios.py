"""NetBIOS name service (RFC 1002 §4.2, UDP 137) and browser announcements (UDP 138) dissector.

About the name's owner (the sender unless an answer names another address):

* ``netbios.name``: a unique name as ``NAME<xx>`` (suffix: ``<00>`` workstation, ``<20>`` file server,
  ``<1c>`` domain controllers ...), from registrations, refreshes, releases (RFC 1002 §4.2.2-4.2.9),
  positive query answers and node status answers (§4.2.18); from the source name of a datagram
  (§4.4.1);
* ``netbios.workgroup``: the bare name of a group name with suffix ``<00>``, ``<1c>``, ``<1d>`` or
  ``<1e>`` (workgroup / domain), and of a browser's workgroup announcement;
* ``netbios.mac``: the unit id (MAC) of a node status answer;
* from a browser host or local-master announcement (MS-BRWS §2.2.1, in an SMB mailslot transaction
  ``\\MAILSLOT\\BROWSE``): ``netbios.hostname``, ``netbios.os_version`` (``major.minor``),
  ``netbios.server_type`` (hex of the MS-BRWS §2.2.1.2 bit field) and ``netbios.comment``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._wire import dnsmsg
from wardwatch.dissect._wire.netbios_names import decode_first_level, display, split_name
from wardwatch.dissect._wire.reader import Reader
from wardwatch.dissect._wire.text import ipv4_text, mac_text, safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

NS_PORT, DGM_PORT = 137, 138
GROUP_BIT = 0x8000  # NB_FLAGS G (RFC 1002 §4.2.1.3)
WORKGROUP_SUFFIXES = frozenset({0x00, 0x1C, 0x1D, 0x1E})
QUERY, REGISTRATION, RELEASE, REFRESH, REFRESH_ALT, MULTIHOMED = 0, 5, 6, 8, 9, 15
OWN_NAME_OPCODES = frozenset({REGISTRATION, RELEASE, REFRESH, REFRESH_ALT, MULTIHOMED})
DGM_TYPES = frozenset({0x10, 0x11, 0x12})  # direct unique, direct group, broadcast (RFC 1002 §4.4.1)
BROWSE_OPCODES = {1: "host", 0x0C: "workgroup", 0x0F: "local master"}  # MS-BRWS §2.2
SMB_MAGIC = b"\xffSMB"
MAILSLOT_BROWSE = b"\\MAILSLOT\\BROWSE"

Fact = tuple[str, str, str | None]  # kind, value, owner IP (None: the sender)


def _nb_name(labels: tuple[bytes, ...]) -> tuple[str, int]:
    if not labels:
        raise ParseError("NetBIOS: empty name")
    return split_name(decode_first_level(labels[0]))


def _name_facts(name: str, suffix: int, group: bool, owner: str | None) -> list[Fact]:
    if group:
        return [("netbios.workgroup", name, owner)] if suffix in WORKGROUP_SUFFIXES and name else []
    return [("netbios.name", display(name, suffix), owner)] if name and name != "*" else []


class NetbiosDissector:
    """NetBIOS-NS names and browser announcements."""

    name: ClassVar[str] = "netbios"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({NS_PORT, DGM_PORT})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """Port 137 with an encoded 32-character name, or port 138 with a datagram header."""
        if NS_PORT in (ctx.src_port, ctx.dst_port):
            return len(data) > 13 and data[12] == 0x20
        if DGM_PORT in (ctx.src_port, ctx.dst_port):
            return len(data) > 14 and data[0] in DGM_TYPES and data[14] == 0x20
        return False

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one name-service packet or datagram."""
        if DGM_PORT in (ctx.src_port, ctx.dst_port) and client[:1] and client[0] in DGM_TYPES:
            facts = self._datagram(client)
        else:
            facts = self._name_service(client)
        seen: set[tuple[str, str, str | None]] = set()
        for kind, value, owner in facts:
            if not value or (kind, value, owner) in seen:
                continue
            seen.add((kind, value, owner))
            if owner is None or owner == ctx.src_ip:
                yield ctx.observation(kind, value, excerpt=f"{kind} {value}")
            else:
                yield Observation(ts=ctx.ts, sensor=ctx.sensor, kind=kind, value=value, ip=owner,
                                  excerpt=f"{kind} {value} (answered by {ctx.src_ip})", peer_ip=ctx.src_ip)

    @staticmethod
    def _name_service(data: bytes) -> list[Fact]:
        msg = dnsmsg.parse_message(data)
        facts: list[Fact] = []
        if not msg.is_response and msg.opcode in OWN_NAME_OPCODES:
            for question in msg.questions:
                name, suffix = _nb_name(question.labels)
                group = any(
                    r.rtype == dnsmsg.NB and r.rdata_end - r.rdata_start >= 2
                    and int.from_bytes(data[r.rdata_start : r.rdata_start + 2], "big") & GROUP_BIT
                    for r in msg.records
                )
                facts += _name_facts(name, suffix, group, None)
            return facts
        if not msg.is_response or msg.flags & 0xF:  # answers with RCODE 0 only
            return facts
        for rec in msg.records:
            if rec.section != dnsmsg.ANSWER:
                continue
            if rec.rtype == dnsmsg.NB:  # positive query response (RFC 1002 §4.2.13)
                name, suffix = _nb_name(rec.labels)
                rd = Reader(data, rec.rdata_start, rec.rdata_end)
                while rd.remaining >= 6:
                    flags, addr = rd.u16(), ipv4_text(rd.take(4))
                    facts += _name_facts(name, suffix, bool(flags & GROUP_BIT), addr)
            elif rec.rtype == dnsmsg.NBSTAT:  # node status response (RFC 1002 §4.2.18)
                rd = Reader(data, rec.rdata_start, rec.rdata_end)
                for _ in range(rd.u8()):
                    name, suffix = split_name(rd.take(16))
                    facts += _name_facts(name, suffix, bool(rd.u16() & GROUP_BIT), None)
                if rd.remaining >= 6:
                    unit = rd.take(6)
                    if any(unit):
                        facts.append(("netbios.mac", mac_text(unit), None))
        return facts

    @staticmethod
    def _datagram(data: bytes) -> list[Fact]:
        """RFC 1002 §4.4.1 DIRECT_UNIQUE / DIRECT_GROUP / BROADCAST datagram and its browser payload."""
        rd = Reader(data)
        rd.skip(4)  # msg type, flags, datagram id
        source_ip = ipv4_text(rd.take(4))
        rd.skip(6)  # source port, datagram length, packet offset
        src_labels, pos = dnsmsg.read_name(data, rd.pos)
        dst_labels, pos = dnsmsg.read_name(data, pos)
        name, suffix = _nb_name(src_labels)
        facts = _name_facts(name, suffix, False, source_ip)
        if data[0] in (0x11, 0x12):
            dst_name, dst_suffix = _nb_name(dst_labels)
            if dst_suffix in (0x1D, 0x1E):  # browser announcements go to WORKGROUP<1d>/<1e>
                facts += _name_facts(dst_name, dst_suffix, True, source_ip)
        return facts + _browser(data[pos:], source_ip)


def _browser(smb: bytes, owner: str) -> list[Fact]:
    """A browser announcement in an SMB_COM_TRANSACTION to ``\\MAILSLOT\\BROWSE`` (MS-BRWS §2.2)."""
    # SMB header (MS-CIFS §2.2.3.1): 32 octets, command 0x25; then WordCount 17 and the words, of which
    # DataOffset is at word octet 24 (MS-CIFS §2.2.4.33.1); everything little-endian.
    if len(smb) < 33 + 34 or not smb.startswith(SMB_MAGIC) or smb[4] != 0x25 or smb[32] != 17:
        return []
    if MAILSLOT_BROWSE not in smb[33 + 34 : 33 + 34 + 64]:
        return []
    offset = int.from_bytes(smb[33 + 24 : 33 + 26], "little")
    body = smb[offset:]
    if len(body) < 32 or body[0] not in BROWSE_OPCODES:
        return []
    server, _ = split_name(body[6:22].ljust(16, b"\0")[:15] + b"\0")
    major, minor = body[22], body[23]
    server_type = int.from_bytes(body[24:28], "little")
    comment = safe_text(body[32:].split(b"\0", 1)[0], 64)
    if body[0] == 0x0C:  # workgroup announcement: the server name field holds the workgroup
        return [("netbios.workgroup", server, owner)]
    return [("netbios.hostname", server, owner), ("netbios.os_version", f"{major}.{minor}", owner),
            ("netbios.server_type", f"0x{server_type:08x}", owner), ("netbios.comment", comment, owner)]


DISSECTOR = NetbiosDissector()

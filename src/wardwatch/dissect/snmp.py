"""SNMP identity dissector: v1 (RFC 1157), v2c (RFC 1901, PDUs RFC 3416) and the v3 header (RFC 3412).

The *agent* is the subject: the sender of a Response, Trap, InformRequest or Report; the receiver of a
Get/GetNext/GetBulk/Set request. Observation kinds:

* ``snmp.version`` (``1``, ``2c``, ``3``) and ``snmp.community`` (see :func:`mask_community`);
* from the variable bindings of a Response, Trap or Inform: ``snmp.sysdescr`` (1.3.6.1.2.1.1.1.0),
  ``snmp.sysobjectid`` (1.3.6.1.2.1.1.2.0, dotted), ``snmp.syscontact`` (…1.4.0), ``snmp.sysname``
  (…1.5.0), ``snmp.syslocation`` (…1.6.0) (RFC 3418 §2, the "system" group);
* from a v1 Trap-PDU (RFC 1157 §4.1.6): ``snmp.enterprise`` (dotted OID) and ``snmp.agent_addr``;
* from v3: ``snmp.engine_id`` (msgAuthoritativeEngineID in hex, RFC 3414 §2.4); scoped PDUs are not read.

Community strings travel in clear text; wardwatch needs to know that one was seen (a hygiene finding),
and whether it is a well-known default, but must not turn its inventory into a password list. So a
community is stored in full only when it is one of :data:`DEFAULT_COMMUNITIES`; any other value is
masked to its first and last character (``s******t``; ``**`` for two characters or fewer).

Hostile BER (zeek's ``snmp-crash-62790`` and ``oid-subidentifier-too-long`` traces) is bounded by
:mod:`wardwatch.dissect._wire.ber`: definite lengths inside their parents, short OIDs, a fixed walk depth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._wire import ber
from wardwatch.dissect._wire.text import hex_bytes, ipv4_text, safe_text
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

AGENT_PORT, TRAP_PORT = 161, 162
VERSIONS = {0: "1", 1: "2c", 3: "3"}
# PDU tags, context class constructed (RFC 1157 §4.1, RFC 3416 §3)
GET, GETNEXT, RESPONSE, SET, TRAP_V1, GETBULK, INFORM, TRAP_V2, REPORT = range(0xA0, 0xA9)
REQUESTS = frozenset({GET, GETNEXT, SET, GETBULK})
FROM_AGENT = frozenset({RESPONSE, TRAP_V1, INFORM, TRAP_V2, REPORT})
SYSTEM = {  # RFC 3418 §2
    "1.3.6.1.2.1.1.1.0": "snmp.sysdescr",
    "1.3.6.1.2.1.1.2.0": "snmp.sysobjectid",
    "1.3.6.1.2.1.1.4.0": "snmp.syscontact",
    "1.3.6.1.2.1.1.5.0": "snmp.sysname",
    "1.3.6.1.2.1.1.6.0": "snmp.syslocation",
}
DEFAULT_COMMUNITIES = frozenset({
    "public", "private", "community", "admin", "manager", "monitor", "secret", "snmp", "snmpd", "default",
    "cisco", "read", "write", "all", "ilmi", "test", "guest", "system", "internal", "security",
})
IPADDRESS = 0x40  # [APPLICATION 0] IMPLICIT OCTET STRING (SIZE (4)), RFC 2578 §7.1.5


def mask_community(raw: bytes) -> str:
    """The community in full if it is a well-known default, else only its first and last character."""
    text = safe_text(raw, 64)
    if text.lower() in DEFAULT_COMMUNITIES:
        return text
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


class SnmpDissector:
    """SNMP agents: version, community, the system group and trap origins."""

    name: ClassVar[str] = "snmp"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({AGENT_PORT, TRAP_PORT})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """A BER SEQUENCE of INTEGER version 0, 1 or 3 and a community or v3 header (RFC 3417 §8)."""
        try:
            outer = ber.expect(data, 0, len(data), ber.SEQUENCE)
            version = ber.expect(data, outer.start, outer.end, ber.INTEGER)
            if version.end - version.start != 1 or data[version.start] not in (0, 1, 3):
                return False
            # then a community (v1/v2c) or msgGlobalData (v3): tells SNMP from CLDAP and other BER
            second = ber.read_tlv(data, version.end, outer.end)
            return second.ident == (ber.SEQUENCE if data[version.start] == 3 else ber.OCTET_STRING)
        except ParseError:
            return False

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of one SNMP message."""
        data = client
        outer = ber.expect(data, 0, len(data), ber.SEQUENCE)
        parts = ber.children(data, outer, limit=8)
        if len(parts) < 3 or parts[0].ident != ber.INTEGER:
            raise ParseError("SNMP: message needs version, community/header and data")
        version = ber.decode_int(data, parts[0])
        if version not in VERSIONS:
            raise ParseError(f"SNMP: unknown version {version}")
        if version == 3:
            yield from self._v3(ctx, data, parts)
            return
        if parts[1].ident != ber.OCTET_STRING:
            raise ParseError("SNMP: community is not an OCTET STRING")
        pdu = parts[2]
        if pdu.cls != ber.CONTEXT or not pdu.constructed or pdu.ident > REPORT:
            raise ParseError("SNMP: unknown PDU")
        about_server = pdu.ident in REQUESTS
        facts = [("snmp.version", VERSIONS[version])]
        community = parts[1].content(data)
        if community:
            facts.append(("snmp.community", mask_community(community)))
        if pdu.ident in FROM_AGENT:
            facts += self._pdu_facts(data, pdu)
        for kind, value in facts:
            if value:
                yield ctx.observation(kind, value, about_server=about_server, excerpt=f"{kind} {value}")

    @staticmethod
    def _pdu_facts(data: bytes, pdu: ber.Tlv) -> list[tuple[str, str]]:
        """System-group values of the variable bindings; enterprise and agent address of a v1 trap."""
        fields = ber.children(data, pdu, limit=8)
        facts: list[tuple[str, str]] = []
        if pdu.ident == TRAP_V1:  # enterprise, agent-addr, generic, specific, time-stamp, varbinds
            if len(fields) != 6:
                raise ParseError("SNMP: Trap-PDU needs six fields")
            if fields[0].ident == ber.OID:
                facts.append(("snmp.enterprise", ber.decode_oid(data, fields[0])))
            if fields[1].ident == IPADDRESS and fields[1].end - fields[1].start == 4:
                facts.append(("snmp.agent_addr", ipv4_text(fields[1].content(data))))
        elif len(fields) != 4:  # request-id, error-status, error-index, varbinds
            raise ParseError("SNMP: PDU needs four fields")
        varbinds = fields[-1]
        if varbinds.ident != ber.SEQUENCE:
            raise ParseError("SNMP: variable bindings are not a SEQUENCE")
        for varbind in ber.children(data, varbinds):
            if varbind.ident != ber.SEQUENCE:
                raise ParseError("SNMP: variable binding is not a SEQUENCE")
            pair = ber.children(data, varbind, limit=2)
            if len(pair) != 2 or pair[0].ident != ber.OID:
                raise ParseError("SNMP: variable binding needs a name and a value")
            try:
                kind = SYSTEM.get(ber.decode_oid(data, pair[0]))
            except ParseError:
                continue  # an undecodable name (overlong arc) is skipped, the others still count
            value = pair[1]
            if kind == "snmp.sysobjectid" and value.ident == ber.OID:
                facts.append((kind, ber.decode_oid(data, value)))
            elif kind and kind != "snmp.sysobjectid" and value.ident == ber.OCTET_STRING:
                facts.append((kind, safe_text(value.content(data))))
        return facts

    @staticmethod
    def _v3(ctx: FlowContext, data: bytes, parts: list[ber.Tlv]) -> Iterator[Observation]:
        """RFC 3412 §6: version, msgGlobalData, msgSecurityParameters (USM, RFC 3414 §2.4), msgData."""
        about_server = ctx.dst_port == AGENT_PORT
        yield ctx.observation("snmp.version", "3", about_server=about_server, excerpt="snmp.version 3")
        params = parts[2]
        if params.ident != ber.OCTET_STRING or params.end == params.start:
            return
        usm = ber.expect(data, params.start, params.end, ber.SEQUENCE)
        engine = ber.expect(data, usm.start, usm.end, ber.OCTET_STRING)
        if engine.end > engine.start:
            value = hex_bytes(engine.content(data), sep="", limit=32)
            yield ctx.observation("snmp.engine_id", value, about_server=about_server,
                                  excerpt=f"msgAuthoritativeEngineID {value}")


DISSECTOR = SnmpDissector()

"""A small, bounded BER decoder for SNMP (ITU-T X.690 §8; RFC 3416 uses a BER subset).

Only what SNMP needs: definite lengths (X.690 §8.1.3, the indefinite form is refused, RFC 3417 §8),
low and short high tag numbers, INTEGER, OCTET STRING, OBJECT IDENTIFIER. Every element must lie
inside its parent; the length octets are at most four; an OID has at most :data:`MAX_OID_ARCS` arcs of
at most :data:`MAX_ARC_OCTETS` octets each. The decoder walks a known structure, so nesting depth is
bounded by the caller (SNMP needs five levels); :func:`children` refuses more than ``limit`` elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.errors import ParseError

#: X.690 §8.1.2 identifier octet: class (2 bits), constructed (1 bit), number (5 bits).
UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3
INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
MAX_OID_ARCS = 128
MAX_ARC_OCTETS = 10  # 70 bits: more than any real arc; zeek's "subidentifier too long" trace exceeds it
MAX_CHILDREN = 1024


@dataclass(frozen=True, slots=True)
class Tlv:
    """One BER element: the first identifier octet, the tag class and number, and its content span."""

    ident: int
    cls: int
    constructed: bool
    number: int
    start: int  # first content octet
    end: int  # one past the last content octet

    def content(self, data: bytes) -> bytes:
        """The content octets."""
        return data[self.start : self.end]


def read_tlv(data: bytes, pos: int, end: int) -> Tlv:
    """Decode the element at ``data[pos]`` that must end at or before ``end`` (X.690 §8.1)."""
    if pos >= end:
        raise ParseError("BER: element expected")
    ident = data[pos]
    pos += 1
    number = ident & 0x1F
    if number == 0x1F:  # §8.1.2.4 high tag number: base-128, at most 4 octets here
        number = 0
        for count in range(5):
            if pos >= end or count == 4:
                raise ParseError("BER: bad high tag number")
            octet = data[pos]
            pos += 1
            number = (number << 7) | (octet & 0x7F)
            if not octet & 0x80:
                break
    if pos >= end:
        raise ParseError("BER: length expected")
    first = data[pos]
    pos += 1
    if first < 0x80:  # §8.1.3.4 short form
        length = first
    elif first == 0x80:  # §8.1.3.6 indefinite form: not allowed in SNMP
        raise ParseError("BER: indefinite length")
    else:  # §8.1.3.5 long form
        count = first & 0x7F
        if count > 4 or pos + count > end:
            raise ParseError("BER: bad long-form length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if length > end - pos:
        raise ParseError("BER: element longer than its container")
    return Tlv(ident, ident >> 6, bool(ident & 0x20), number, pos, pos + length)


def expect(data: bytes, pos: int, end: int, ident: int) -> Tlv:
    """Like :func:`read_tlv`, but the identifier octet must be ``ident``."""
    tlv = read_tlv(data, pos, end)
    if tlv.ident != ident:
        raise ParseError(f"BER: expected tag 0x{ident:02x}, got 0x{tlv.ident:02x}")
    return tlv


def children(data: bytes, parent: Tlv, limit: int = MAX_CHILDREN) -> list[Tlv]:
    """The elements inside a constructed ``parent`` (at most ``limit``)."""
    if not parent.constructed:
        raise ParseError("BER: primitive element has no children")
    out: list[Tlv] = []
    pos = parent.start
    while pos < parent.end:
        if len(out) >= limit:
            raise ParseError("BER: too many elements")
        tlv = read_tlv(data, pos, parent.end)
        out.append(tlv)
        pos = tlv.end
    return out


def decode_int(data: bytes, tlv: Tlv) -> int:
    """A two's-complement INTEGER (X.690 §8.3) of at most 9 content octets."""
    size = tlv.end - tlv.start
    if not 1 <= size <= 9:
        raise ParseError("BER: bad INTEGER length")
    return int.from_bytes(data[tlv.start : tlv.end], "big", signed=True)


def decode_oid(data: bytes, tlv: Tlv) -> str:
    """An OBJECT IDENTIFIER in dotted form (X.690 §8.19): the first octet(s) carry two arcs."""
    arcs: list[int] = []
    value = 0
    octets = 0
    if tlv.end == tlv.start:
        raise ParseError("BER: empty OID")
    for pos in range(tlv.start, tlv.end):
        octet = data[pos]
        if octets == 0 and octet == 0x80:  # §8.19.2: leading 0x80 is not minimal
            raise ParseError("BER: OID arc not minimally encoded")
        value = (value << 7) | (octet & 0x7F)
        octets += 1
        if octets > MAX_ARC_OCTETS:
            raise ParseError("BER: OID arc too long")
        if not octet & 0x80:
            arcs.append(value)
            value, octets = 0, 0
            if len(arcs) > MAX_OID_ARCS:
                raise ParseError("BER: OID has too many arcs")
    if octets:
        raise ParseError("BER: OID ends inside an arc")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]  # §8.19.4
    return ".".join(str(a) for a in head + arcs[1:])

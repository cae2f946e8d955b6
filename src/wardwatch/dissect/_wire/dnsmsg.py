"""DNS message parsing (RFC 1035 §4.1), shared by DNS, mDNS (RFC 6762) and NetBIOS-NS (RFC 1002 §4.2).

Names follow RFC 1035 §4.1.4 compression with guards: at most :data:`MAX_JUMPS` pointers per name, at
most 255 octets of labels (RFC 1035 §3.1), no extended label types (RFC 6891 §5 reserves 0x40/0x80).
A message holds at most :data:`MAX_RECORDS` questions and records; the counts in the header are not
trusted beyond what the bytes hold.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from wardwatch.dissect._wire.reader import Reader
from wardwatch.dissect._wire.text import clean
from wardwatch.domain.observation import MAX_VALUE
from wardwatch.errors import ParseError
from wardwatch.native import extension

MAX_JUMPS = 32
MAX_NAME = 255
MAX_RECORDS = 256
HEADER = 12

# RR types (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 1002 §4.2.1.3)
A, NS, CNAME, PTR, HINFO, TXT, AAAA, SRV, NB, NBSTAT = 1, 2, 5, 12, 13, 16, 28, 33, 0x20, 0x21
ANSWER, AUTHORITY, ADDITIONAL = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Question:
    """One entry of the question section (RFC 1035 §4.1.2)."""

    labels: tuple[bytes, ...]
    qtype: int
    qclass: int


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record (RFC 1035 §4.1.3); ``rdata`` is a span into the message."""

    section: int
    labels: tuple[bytes, ...]
    rtype: int
    rclass: int
    ttl: int
    rdata_start: int
    rdata_end: int


@dataclass(slots=True)
class Message:
    """A parsed DNS-format message."""

    data: bytes
    ident: int
    flags: int
    questions: list[Question] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def is_response(self) -> bool:
        """The QR bit (RFC 1035 §4.1.1)."""
        return bool(self.flags & 0x8000)

    @property
    def opcode(self) -> int:
        """The four-bit OPCODE."""
        return (self.flags >> 11) & 0xF


def read_name(data: bytes, pos: int, end: int | None = None) -> tuple[tuple[bytes, ...], int]:
    """Decode the (possibly compressed) name at ``pos``; return its labels and the offset after it."""
    limit = len(data) if end is None else end
    labels: list[bytes] = []
    total = 0
    jumps = 0
    after: int | None = None
    while True:
        if pos >= limit:
            raise ParseError("DNS name runs past the message")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0 == 0xC0:  # RFC 1035 §4.1.4 pointer
            if pos + 1 >= limit:
                raise ParseError("DNS pointer truncated")
            jumps += 1
            if jumps > MAX_JUMPS:
                raise ParseError("DNS name has too many pointers (loop?)")
            if after is None:
                after = pos + 2
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            limit = len(data)  # a pointer may lead anywhere in the message
            continue
        if length & 0xC0:
            raise ParseError("DNS extended label type")
        total += length + 1
        if total > MAX_NAME:
            raise ParseError("DNS name longer than 255 octets")
        if pos + 1 + length > limit:
            raise ParseError("DNS label runs past the message")
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return tuple(labels), (pos if after is None else after)


def name_text(labels: tuple[bytes, ...]) -> str:
    """Labels joined with dots, each decoded as UTF-8 with replacement and cleaned of controls.

    Blanks are kept: an instance name may begin with a space, and it is part of the name.
    """
    joined = b".".join(labels)
    if joined.isascii():  # the common case: printable ASCII needs neither replacement nor cleaning
        text = joined.decode("ascii")
        if text.isprintable():  # for ASCII: no C0 control and no DEL
            return text[:MAX_VALUE]
    return clean(".".join(label.decode("utf-8", errors="replace") for label in labels), strip=False)


_HEADER = struct.Struct("!6H").unpack_from
_QUESTION = struct.Struct("!HH").unpack_from  # QTYPE, QCLASS (RFC 1035 §4.1.2)
_RECORD = struct.Struct("!HHIH").unpack_from  # TYPE, CLASS, TTL, RDLENGTH (RFC 1035 §4.1.3)


def header_counts(data: bytes) -> tuple[int, int, int, int, int, int]:
    """ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT of a message of at least :data:`HEADER` bytes."""
    if len(data) < HEADER:
        raise ParseError("DNS message shorter than its header")
    return _HEADER(data, 0)


def parse_message(data: bytes) -> Message:
    """Parse the header, questions and records of a DNS-format message (RFC 1035 §4.1)."""
    ident, flags, qd, an, ns, ar = header_counts(data)
    if qd + an + ns + ar > MAX_RECORDS:
        raise ParseError("DNS message claims too many records")
    msg = Message(data=data, ident=ident, flags=flags)
    size = len(data)
    pos = HEADER
    questions, records = msg.questions, msg.records
    for _ in range(qd):
        labels, pos = read_name(data, pos)
        if pos + 4 > size:
            raise ParseError(f"truncated: question fields at offset {pos}")
        qtype, qclass = _QUESTION(data, pos)
        pos += 4
        questions.append(Question(labels, qtype, qclass))
    for section, count in ((ANSWER, an), (AUTHORITY, ns), (ADDITIONAL, ar)):
        for _ in range(count):
            labels, pos = read_name(data, pos)
            if pos + 10 > size:
                raise ParseError(f"truncated: record fields at offset {pos}")
            rtype, rclass, ttl, rdlength = _RECORD(data, pos)
            start = pos + 10
            pos = start + rdlength
            if pos > size:
                raise ParseError(f"truncated: RDATA of {rdlength} bytes at offset {start}")
            records.append(Record(section, labels, rtype, rclass, ttl, start, pos))
    return msg


def plain_query_name(data: bytes) -> tuple[bytes, ...] | None:
    """The name of a plain query (QR 0, OPCODE 0, one question, no records), else ``None``.

    Raises ParseError exactly where :func:`parse_message` would for such a message.
    """
    _ident, flags, qd, an, ns, ar = header_counts(data)
    if flags & 0xF800 or qd != 1 or an or ns or ar:
        return None
    labels, pos = read_name(data, HEADER)
    if pos + 4 > len(data):
        raise ParseError(f"truncated: question fields at offset {pos}")
    return labels


def _compiled_query_text() -> Callable[[bytes], str | None] | None:
    """The C fast path of :func:`plain_query_name` + :func:`name_text`, when it was built."""
    module = extension("wardwatch.dissect._wire._dnsfast")
    if module is None:
        return None
    found: Callable[[bytes], str | None] = module.plain_query_text
    return found


#: ``fast_query_text(data)``: the name of a plain query of printable ASCII labels without compression, or
#: ``None`` for anything else (then :func:`plain_query_name` decides, and raises where it must). ``None``
#: itself when the C extension is not built.
fast_query_text = _compiled_query_text()


def rdata_name(msg: Message, rec: Record, offset: int = 0) -> tuple[bytes, ...]:
    """A domain name inside RDATA (PTR, CNAME, SRV target ...), which may point back into the message."""
    if rec.rdata_start + offset >= rec.rdata_end:
        raise ParseError("RDATA too short for a name")
    labels, _ = read_name(msg.data, rec.rdata_start + offset)
    return labels


def txt_strings(msg: Message, rec: Record) -> list[bytes]:
    """The character-strings of a TXT record (RFC 1035 §3.3.14)."""
    rd = Reader(msg.data, rec.rdata_start, rec.rdata_end)
    out: list[bytes] = []
    while rd.remaining:
        out.append(rd.take(rd.u8()))
    return out

"""DICOM upper-layer PDU codec, decode only, sans-I/O (PS3.8 §9.3).

Every PDU starts with a 6-byte header: PDU-type (1), reserved (1), PDU-length (4, big endian) counted
from the byte after the length field (PS3.8 §9.3.1). :func:`iter_pdus` walks one direction of a
connection; the ``decode_*`` functions read the PDUs that carry identity. Nothing here touches a data
set: P-DATA-TF is only split into PDVs, and the caller keeps command fragments alone.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from wardwatch.errors import ParseError

# PDU types, PS3.8 Table 9-1 ... 9-26.
A_ASSOCIATE_RQ = 0x01
A_ASSOCIATE_AC = 0x02
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_RELEASE_RQ = 0x05
A_RELEASE_RP = 0x06
A_ABORT = 0x07
PDU_NAMES = {
    A_ASSOCIATE_RQ: "A-ASSOCIATE-RQ", A_ASSOCIATE_AC: "A-ASSOCIATE-AC", A_ASSOCIATE_RJ: "A-ASSOCIATE-RJ",
    P_DATA_TF: "P-DATA-TF", A_RELEASE_RQ: "A-RELEASE-RQ", A_RELEASE_RP: "A-RELEASE-RP", A_ABORT: "A-ABORT",
}

#: An A-ASSOCIATE PDU is at least the 68-byte fixed part (PS3.8 Table 9-11, bytes 7-74).
ASSOC_FIXED = 68
#: Most items read in one PDU: 128 presentation contexts are the protocol's own limit (odd IDs 1-255).
MAX_ITEMS = 300

# Variable item types, PS3.8 §9.3.2.1-9.3.2.3 and PS3.7 Annex D.3.3.
ITEM_APP_CONTEXT = 0x10
ITEM_PCTX_RQ = 0x20
ITEM_PCTX_AC = 0x21
ITEM_ABSTRACT = 0x30
ITEM_TRANSFER = 0x40
ITEM_USER_INFO = 0x50
SUB_MAX_LENGTH = 0x51
SUB_IMPL_UID = 0x52
SUB_IMPL_VERSION = 0x55

#: A-ASSOCIATE-RJ result/source/reason texts, PS3.8 Table 9-21.
REJECT_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
REJECT_REASON = {
    (1, 1): "no-reason-given",
    (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized",
    (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}
REJECT_SOURCE = {1: "service-user", 2: "service-provider-acse", 3: "service-provider-presentation"}
#: A-ABORT source and reason, PS3.8 Table 9-26.
ABORT_SOURCE = {0: "service-user", 2: "service-provider"}
ABORT_REASON = {
    0: "reason-not-specified", 1: "unrecognized-pdu", 2: "unexpected-pdu", 4: "unrecognized-pdu-parameter",
    5: "unexpected-pdu-parameter", 6: "invalid-pdu-parameter-value",
}


class Pdu(NamedTuple):
    """One PDU: its type and body (the bytes after the 6-byte header; short when ``complete`` is false).

    A named tuple rather than a frozen dataclass: every PDU of a connection makes one, and a frozen
    dataclass costs two to three times as much to build.
    """

    type: int
    body: bytes
    complete: bool


@dataclass(slots=True)
class Associate:
    """The identity carried by an A-ASSOCIATE-RQ or -AC (PS3.8 Tables 9-11 and 9-17)."""

    kind: int
    version: int
    called_ae: str
    calling_ae: str
    app_context: str = ""
    #: RQ: presentation context ID → abstract syntax UID (PS3.8 §9.3.2.2).
    proposed: dict[int, str] = field(default_factory=dict)
    #: AC: presentation context ID → result (0 acceptance, PS3.8 Table 9-18).
    results: dict[int, int] = field(default_factory=dict)
    max_pdu: int | None = None
    implementation_uid: str = ""
    implementation_version: str = ""


class Pdv(NamedTuple):
    """One presentation data value item of a P-DATA-TF (PS3.8 §9.3.5.1 and Annex E.2); a named tuple
    for the reason :class:`Pdu` is one."""

    context_id: int
    is_command: bool
    is_last: bool
    data: bytes


_U32 = struct.Struct(">L").unpack_from  # PDU and PDV item lengths (PS3.8 §9.3.1, Table 9-23)


def iter_pdus(data: bytes) -> Iterator[Pdu]:
    """Split one direction of an association into PDUs; the last may be cut by the byte budget.

    Raises ParseError on an unknown PDU type (the stream is not, or no longer, DICOM).
    """
    off = 0
    while off + 6 <= len(data):
        kind = data[off]
        if kind not in PDU_NAMES:
            raise ParseError(f"unknown DICOM PDU type 0x{kind:02x} at offset {off}")
        (length,) = _U32(data, off + 2)
        body = data[off + 6 : off + 6 + length]
        yield Pdu(kind, body, len(body) == length)
        off += 6 + length


_new_pdu = tuple.__new__  # Pdu(...) without the named tuple's Python-level __new__ (same object)


def split_pdus(data: bytes) -> list[Pdu]:
    """The PDUs of one direction as a list, up to the first bytes that are not DICOM.

    What :func:`iter_pdus` yields until it raises (a list, in one loop, no generator): an unknown PDU
    type after some PDUs ends the list, one at the start raises the same :class:`ParseError`.
    """
    out: list[Pdu] = []
    off = 0
    size = len(data)
    while off + 6 <= size:
        kind = data[off]
        if kind not in PDU_NAMES:
            if out:
                break
            raise ParseError(f"unknown DICOM PDU type 0x{kind:02x} at offset {off}")
        (length,) = _U32(data, off + 2)
        start = off + 6
        off = start + length
        body = data[start:off]
        out.append(_new_pdu(Pdu, (kind, body, len(body) == length)))
    return out


def _ascii(raw: bytes) -> str:
    """Text of a UID, AE title or name field: ASCII, NUL and space padding stripped (PS3.5 §6.2)."""
    return raw.decode("ascii", "replace").strip("\x00 ")


def _items(body: bytes, limit: int = MAX_ITEMS) -> Iterator[tuple[int, bytes]]:
    """(item type, item value) of a run of items with 1-byte type, reserved, 2-byte length (§9.3.2)."""
    off = 0
    count = 0
    while off + 4 <= len(body) and count < limit:
        kind = body[off]
        length = body[off + 2] << 8 | body[off + 3]
        value = body[off + 4 : off + 4 + length]
        if len(value) < length:
            return  # cut by the budget: keep what came before
        yield kind, value
        off += 4 + length
        count += 1


def decode_associate(pdu: Pdu) -> Associate:
    """Decode an A-ASSOCIATE-RQ/AC body (PS3.8 Tables 9-11/9-17); items cut by the budget are skipped.

    The variable items (and the user information sub-items) are walked in place, as :func:`_items`
    walks them: at most :data:`MAX_ITEMS` whole items, stopping at the first one cut by the budget.
    """
    body = pdu.body
    if len(body) < ASSOC_FIXED:
        raise ParseError("A-ASSOCIATE PDU shorter than its fixed part")
    assoc = Associate(
        kind=pdu.type,
        version=body[0] << 8 | body[1],
        # Bytes 11-26 called AE, 27-42 calling AE (PS3.8 Table 9-11); the AC echoes them (Table 9-17).
        called_ae=_ascii(body[4:20]),
        calling_ae=_ascii(body[20:36]),
    )
    proposed = assoc.proposed
    results = assoc.results
    off = ASSOC_FIXED
    size = len(body)
    count = 0
    while off + 4 <= size and count < MAX_ITEMS:
        kind = body[off]
        start = off + 4
        off = start + (body[off + 2] << 8 | body[off + 3])
        if off > size:
            break  # cut by the budget: keep what came before
        count += 1
        if kind == ITEM_PCTX_RQ:
            if off - start >= 4:
                # PS3.8 Table 9-13: the abstract syntax sub-item first (Table 9-14), as encoders put it;
                # any other order through _abstract_syntax (same result).
                end = start + 8 + (body[start + 6] << 8 | body[start + 7]) if off - start >= 8 else off + 1
                if end <= off and body[start + 4] == ITEM_ABSTRACT:
                    proposed[body[start]] = _ascii(body[start + 8 : end])
                else:
                    abstract = _abstract_syntax(body[start:off])
                    if abstract is not None:
                        proposed[body[start]] = _ascii(abstract)
        elif kind == ITEM_PCTX_AC:
            if off - start >= 4:
                # PS3.8 Table 9-18: ID (1), reserved (1), result/reason (1), reserved (1), transfer syntax.
                results[body[start]] = body[start + 2]
        elif kind == ITEM_APP_CONTEXT:
            assoc.app_context = _ascii(body[start:off])
        elif kind == ITEM_USER_INFO:
            _user_info(assoc, body[start:off])
    return assoc


def _abstract_syntax(pctx: bytes) -> bytes | None:
    """The abstract syntax of a presentation context item value, ``None`` when it has none.

    PS3.8 Table 9-13: ID (1), reserved (3), then one abstract syntax sub-item and the transfer syntaxes.
    Encoders put the abstract syntax first (Table 9-14); that case is read directly, any other order
    through :func:`_items` (same result).
    """
    if len(pctx) >= 8 and pctx[4] == ITEM_ABSTRACT:
        end = 8 + (pctx[6] << 8 | pctx[7])
        if end <= len(pctx):
            return pctx[8:end]
    for sub, sub_value in _items(pctx[4:]):
        if sub == ITEM_ABSTRACT:
            return sub_value
    return None


def _user_info(assoc: Associate, value: bytes) -> None:
    """User information sub-items (PS3.8 §D.1, PS3.7 Annex D.3.3). User identity (0x58) is never read.

    The sub-items are walked in place, as :func:`_items` walks them.
    """
    off = 0
    size = len(value)
    count = 0
    while off + 4 <= size and count < MAX_ITEMS:
        sub = value[off]
        start = off + 4
        off = start + (value[off + 2] << 8 | value[off + 3])
        if off > size:
            return  # cut by the budget: keep what came before
        count += 1
        if sub == SUB_MAX_LENGTH:
            if off - start == 4:
                (assoc.max_pdu,) = _U32(value, start)
        elif sub == SUB_IMPL_UID:
            assoc.implementation_uid = _ascii(value[start:off])
        elif sub == SUB_IMPL_VERSION:
            assoc.implementation_version = _ascii(value[start:off])


@dataclass(frozen=True, slots=True)
class Reject:
    """An A-ASSOCIATE-RJ (PS3.8 Table 9-21)."""

    result: int
    source: int
    reason: int

    def text(self) -> str:
        """``rejected-permanent: service-user: called-AE-title-not-recognized``."""
        reason = REJECT_REASON.get((self.source, self.reason), f"reason-{self.reason}")
        result = REJECT_RESULT.get(self.result, f"result-{self.result}")
        return f"{result}: {REJECT_SOURCE.get(self.source, f'source-{self.source}')}: {reason}"


def decode_reject(pdu: Pdu) -> Reject:
    """Decode an A-ASSOCIATE-RJ body: reserved, result, source, reason/diag (PS3.8 Table 9-21)."""
    if len(pdu.body) < 4:
        raise ParseError("A-ASSOCIATE-RJ PDU too short")
    return Reject(pdu.body[1], pdu.body[2], pdu.body[3])


def decode_abort(pdu: Pdu) -> str:
    """``source: reason`` of an A-ABORT (PS3.8 Table 9-26)."""
    if len(pdu.body) < 4:
        raise ParseError("A-ABORT PDU too short")
    source, reason = pdu.body[2], pdu.body[3]
    reason_text = ABORT_REASON.get(reason, f"reason-{reason}") if source == 2 else "reason-not-specified"
    return f"{ABORT_SOURCE.get(source, f'source-{source}')}: {reason_text}"


def iter_pdvs(pdu: Pdu, *, commands_only: bool = False) -> Iterator[Pdv]:
    """PDV items of a P-DATA-TF (PS3.8 Table 9-23): length (4), context ID (1), then the message
    control header (Annex E.2: bit 0 set = command, bit 1 set = last fragment) and the fragment.

    With ``commands_only`` the data set fragments are skipped without being copied out.
    """
    body = pdu.body
    off = 0
    while off + 6 <= len(body):
        (length,) = _U32(body, off)
        if length < 2:
            raise ParseError("PDV item shorter than its header")
        header = body[off + 5]
        if header & 0x01 or not commands_only:
            end = min(off + 4 + length, len(body))
            yield Pdv(body[off + 4], bool(header & 0x01), bool(header & 0x02), body[off + 6 : end])
        off += 4 + length

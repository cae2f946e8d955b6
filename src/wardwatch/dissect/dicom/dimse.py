"""DIMSE command sets out of P-DATA-TF fragments (PS3.7 §9.3 and §10.3, PS3.8 Annex E.2).

Only *command* fragments (message control header bit 0 set) are gathered and decoded as the group 0000
command set they are (always Implicit VR Little Endian, PS3.7 §6.3.1). Data set fragments are never kept
nor decoded: they carry the patient (PHI).

A command set is a run of defined-length elements (PS3.5 §7.1.3: tag, 4-byte length, value); such a run
is read here directly, element by element exactly as pydicom's reader walks it. Anything else (an
undefined length, a first element that looks like Explicit VR) goes to pydicom's ``read_dataset``,
imported only then: pydicom stays off the hot path.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Iterator
from io import BytesIO
from typing import Any, NamedTuple

from wardwatch.dissect.dicom.pdu import _U32, P_DATA_TF, Pdu, iter_pdvs
from wardwatch.errors import ParseError

log = logging.getLogger(__name__)

#: A command set is a handful of short elements; a longer one is hostile and not decoded.
MAX_COMMAND = 16 * 1024
#: Most commands decoded per direction (a C-STORE burst of thousands of images says nothing new).
MAX_COMMANDS = 64

#: Command Field (0000,0100) values, PS3.7 Annex E; responses add 0x8000.
COMMAND_NAMES = {
    0x0001: "C-STORE", 0x0010: "C-GET", 0x0020: "C-FIND", 0x0021: "C-MOVE", 0x0030: "C-ECHO",
    0x0100: "N-EVENT-REPORT", 0x0110: "N-GET", 0x0120: "N-SET", 0x0130: "N-ACTION", 0x0140: "N-CREATE",
    0x0150: "N-DELETE", 0x0FFF: "C-CANCEL",
}
#: Command Field value → command name (``C-STORE-RQ``, ``C-STORE-RSP`` ...): the 0x8000 bit marks a response.
_FULL_NAMES = {field | rsp: f"{base}-{'RSP' if rsp else 'RQ'}"
               for field, base in COMMAND_NAMES.items() for rsp in (0, 0x8000)}
_TAG_COMMAND_FIELD = 0x00000100
_TAG_AFFECTED_SOP = 0x00000002
_TAG_REQUESTED_SOP = 0x00000003
#: The elements :func:`decode_command` reads (all of group 0000: their tags are their element numbers).
_WANTED = frozenset({_TAG_COMMAND_FIELD, _TAG_AFFECTED_SOP, _TAG_REQUESTED_SOP})


class Command(NamedTuple):
    """One decoded DIMSE command: ``C-STORE-RQ`` and the SOP class it is about (a named tuple, as
    :class:`~wardwatch.dissect.dicom.pdu.Pdu` is)."""

    name: str
    field: int
    sop_class: str
    context_id: int

    @property
    def is_request(self) -> bool:
        """True for -RQ commands (Command Field without the 0x8000 response bit)."""
        return not self.field & 0x8000


_new_command = tuple.__new__  # Command(...) without the named tuple's Python-level __new__ (same object)


def _group_0000(tag: Any, vr: str | None, length: int) -> bool:
    """``stop_when`` for pydicom: stop at the first element outside the command group."""
    return bool(tag.group != 0x0000)


def _raw_value(element: object) -> bytes:
    """The undecoded value bytes of a pydicom raw element (``b""`` when absent or not raw)."""
    value = getattr(element, "value", None)
    return value if isinstance(value, bytes) else b""


_ELEMENT = struct.Struct("<HHL").unpack_from  # Implicit VR LE element header (PS3.5 §7.1.3)
_UNDEFINED = 0xFFFFFFFF


def _implicit_elements(raw: bytes) -> dict[int, bytes] | None:
    """The wanted group 0000 elements of an Implicit VR LE command set, last copy of a tag winning.

    ``None`` when the bytes need pydicom's full reader: a first element whose VR position holds two
    capital letters (pydicom then reads Explicit VR) or an undefined length anywhere.
    """
    if len(raw) >= 6 and 0x40 < raw[4] < 0x5B and 0x40 < raw[5] < 0x5B:
        return None
    out: dict[int, bytes] = {}
    element, wanted = _ELEMENT, _WANTED
    pos, size = 0, len(raw)
    while pos + 8 <= size:
        group, elem, length = element(raw, pos)
        if group != 0x0000:  # also the item delimitation tag (FFFE,E00D), which ends the set too
            break
        if length == _UNDEFINED:
            return None
        start = pos + 8
        pos = start + length
        if elem in wanted:
            out[elem] = raw[start:pos]  # a value cut by the end is kept short, as pydicom does
    return out


def _pydicom_elements(raw: bytes) -> dict[int, bytes]:
    """The same through pydicom's reader (unusual encodings only)."""
    from pydicom.filereader import read_dataset

    ds = read_dataset(BytesIO(raw), True, True, stop_when=_group_0000)
    # Raw elements only (get_item does not convert): no value validation, so pydicom never warns or
    # logs a value.
    return {tag: _raw_value(ds.get_item(tag)) for tag in (_TAG_COMMAND_FIELD, _TAG_AFFECTED_SOP,
                                                         _TAG_REQUESTED_SOP)}


def decode_command(raw: bytes, context_id: int) -> Command | None:
    """Decode one reassembled command set; ``None`` when it is not a readable command."""
    if not raw or len(raw) > MAX_COMMAND:
        return None
    try:
        elements = _implicit_elements(raw)
        if elements is None:
            elements = _pydicom_elements(raw)
        # We decode the two values we need ourselves (US and UI, PS3.5 §6.2).
        field_raw = elements.get(_TAG_COMMAND_FIELD, b"")
        if len(field_raw) != 2:
            return None
        field = int.from_bytes(field_raw, "little")
        sop_raw = elements.get(_TAG_AFFECTED_SOP, b"") or elements.get(_TAG_REQUESTED_SOP, b"")
        sop_class = sop_raw.decode("ascii", "replace")
    except Exception as exc:  # pydicom raises many types on hostile bytes; a command is only skipped
        log.debug("DIMSE command set not decodable: %s", type(exc).__name__)
        return None
    name = _FULL_NAMES.get(field)
    if name is None:
        return None
    return _new_command(Command, (name, field, sop_class.strip("\x00 ")[:64], context_id))


def iter_commands(pdus: Iterable[Pdu]) -> Iterator[Command]:
    """Commands of one direction: command fragments joined per context until the last-fragment bit."""
    pending: dict[int, bytearray] = {}
    count = 0
    for pdu in pdus:
        if pdu.type != P_DATA_TF:
            continue
        for pdv in iter_pdvs(pdu, commands_only=True):  # data set fragments carry PHI: never read
            if pdv.is_last and pdv.context_id not in pending:  # the usual single-fragment command set
                raw = pdv.data
            else:
                buf = pending.setdefault(pdv.context_id, bytearray())
                if len(buf) + len(pdv.data) > MAX_COMMAND:
                    pending.pop(pdv.context_id, None)
                    continue
                buf += pdv.data
                if not pdv.is_last:
                    continue
                raw = bytes(pending.pop(pdv.context_id))
            command = decode_command(raw, pdv.context_id)  # None for one longer than MAX_COMMAND
            if command is not None:
                yield command
                count += 1
                if count >= MAX_COMMANDS:
                    return


def commands(pdus: Iterable[Pdu]) -> list[Command]:
    """:func:`iter_commands` as a list, with the PDV walk of :func:`~wardwatch.dissect.dicom.pdu.iter_pdvs`
    (``commands_only``) done in place: the same commands, the same :class:`ParseError` on a PDV item
    shorter than its header (none once :data:`MAX_COMMANDS` were decoded: the walk stops there)."""
    out: list[Command] = []
    pending: dict[int, bytearray] = {}
    for pdu in pdus:
        if pdu.type != P_DATA_TF:
            continue
        body = pdu.body
        size = len(body)
        off = 0
        while off + 6 <= size:
            (length,) = _U32(body, off)  # PS3.8 Table 9-23: item length, context ID, control header
            if length < 2:
                raise ParseError("PDV item shorter than its header")
            header = body[off + 5]
            start = off + 6
            off += 4 + length
            if not header & 0x01:
                continue  # a data set fragment (PHI): never read
            context_id = body[start - 2]
            if header & 0x02 and context_id not in pending:  # the usual single-fragment command set
                raw = body[start:off]
            else:
                fragment = body[start:off]
                buf = pending.setdefault(context_id, bytearray())
                if len(buf) + len(fragment) > MAX_COMMAND:
                    pending.pop(context_id, None)
                    continue
                buf += fragment
                if not header & 0x02:
                    continue
                raw = bytes(pending.pop(context_id))
            command = decode_command(raw, context_id)  # None for one longer than MAX_COMMAND
            if command is not None:
                out.append(command)
                if len(out) >= MAX_COMMANDS:
                    return out
    return out

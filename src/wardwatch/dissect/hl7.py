"""HL7 v2 over MLLP, sans-I/O: header and device identity only, never a patient field.

MLLP (HL7 v2.5.1 Appendix C, "Minimal Lower Layer Protocol"): each message is framed as
``<VT 0x0B> message <FS 0x1C><CR 0x0D>``; a connection carries several messages, and the server answers
each with an ACK in the other direction. Shape STREAM, detected by content on any port (0x0B then
``MSH``), with 2575 (IANA "hl7") and 6661 as port fallbacks.

**No PHI.** Before anything is parsed, every segment outside an allow-list is dropped (PID, NK1, PV1,
NTE, ORC, OBR ... never reach the parser) and every field outside the allow-list of the kept segments is
blanked (OBX-5 values, PRT-5 person, PRT-9 location ...). Only then does python-hl7 parse the remainder.
Errors never quote the message.

Kinds (about the sender of the message unless marked *receiver*):

* ``hl7.sending_application`` (MSH-3), ``hl7.sending_facility`` (MSH-4).
* ``hl7.receiving_application`` (MSH-5), ``hl7.receiving_facility`` (MSH-6): *receiver*.
* ``hl7.message_type`` (MSH-9.1^MSH-9.2, ``ORU^R01``), ``hl7.version`` (MSH-12).
* ``hl7.device_id``: PRT-10 Device (EI, v2.7+) of a PRT whose PRT-4 role is ``EQUIP``.
* ``hl7.udi``: PRT-16 UDI Device Identifier (v2.8.2+) or DEV-2/DEV-9 (v2.9).
* ``hl7.serial``: PRT-20 Device Serial Number or DEV-11; ``hl7.device_type``: PRT-22 or DEV-3 (CNE).
* ``hl7.manufacturer`` (DEV-5), ``hl7.model`` (DEV-7), ``hl7.software_version`` (DEV-16).
* ``hl7.equipment_id``: OBX-18 Equipment Instance Identifier (EI, repeating; IHE PCD-01).
* ``hl7.eui64``: an EUI-64 found in MSH-3/4, PRT-10 or OBX-18 (IHE PCD TF-2: EI/HD with type
  ``EUI-64``), as ``00:11:22:33:44:55:66:77``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import hl7 as python_hl7

from wardwatch.dissect._medical.emit import Emitter
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
#: Most messages read per direction; the first few say who talks.
MAX_MESSAGES = 64
#: Most segments of one message kept after filtering (a monitor's ORU has a few hundred OBX).
MAX_SEGMENTS = 512
#: Device confidence: a gateway (IHE PCD DOR) may report devices behind it, so less than its own header.
CONF_DEVICE = 0.6

#: Segment → the field numbers kept (HL7 numbering; MSH is kept whole up to MSH-12).
ALLOWED: dict[str, frozenset[int]] = {
    # MSH-1..12: separators, applications, facilities, time, security, type, control id, processing, version.
    "MSH": frozenset(range(1, 13)),
    # PRT-4 role, -10 device, -16 UDI, -20 serial, -22 device type (v2.8.2+ Ch. 7 PRT).
    "PRT": frozenset({4, 10, 16, 20, 22}),
    # DEV (v2.9 Ch. 17.8.1): -2 UDI, -3 type, -5 manufacturer, -7 model, -9 UDI DI, -11 serial, -16 software.
    "DEV": frozenset({2, 3, 5, 7, 9, 11, 16}),
    # OBX-18 equipment instance identifier only (OBX-5 is the patient's value: never kept).
    "OBX": frozenset({18}),
}
#: Most fields each kept segment has in v2.9; more means a lost segment terminator merged two
#: segments (and the next one may be a PID): the whole message is then dropped.
MAX_FIELDS = {"MSH": 25, "PRT": 24, "DEV": 17, "OBX": 33}
#: Most components of the data types read: HD (MSH-3..6) 3, EI 4, CNE 22 (HL7 v2.9 Ch. 2A).
MAX_COMPONENTS = {"HD": 3, "EI": 4, "CNE": 22, "ST": 1, "XON": 10}
#: Segments that carry patient data. One of these names inside a kept segment (a whole field, or the tail
#: of one) means two segments ran together: the message is dropped rather than risk reading PHI.
_PATIENT_SEGMENTS = re.compile(r"(PID|PD1|NK1|PV1|PV2|NTE|MRG|GT1|IN1|IN2|AL1|DG1|OBX|OBR|ORC|SPM)$")
_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
#: MSH-9 message code and trigger event (HL7 Tables 0076/0003: three letters/digits each) and MSH-12
#: version ID (2.1 ... 2.9.1). A message whose MSH does not fit is dropped whole: a lost segment
#: terminator shifts fields, and then MSH-3..6 could hold a patient's PID fields.
_MSG_TYPE = re.compile(r"^[A-Z][A-Z0-9]{2}(\^[A-Z0-9]{3})?(\^[A-Z0-9_]{3,7})?$")
_VERSION = re.compile(r"^2\.[1-9](\.[0-9]{1,2})?$")


def looks_like_mllp(data: bytes) -> bool:
    """An MLLP start block followed by an MSH segment (optionally after line breaks)."""
    return data[:1] == START_BLOCK and data[1:10].lstrip(b"\r\n").startswith(b"MSH")


def iter_frames(data: bytes, *, truncated: bool) -> Iterator[bytes]:
    """Message bodies between start and end blocks; the last unterminated one only if ``truncated``."""
    off = 0
    count = 0
    while count < MAX_MESSAGES:
        start = data.find(START_BLOCK, off)
        if start < 0:
            return
        end = data.find(END_BLOCK, start + 1)
        if end < 0:
            if truncated or len(data) - start > 1:
                yield data[start + 1 :]
            return
        yield data[start + 1 : end]
        off = end + len(END_BLOCK)
        count += 1


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ISO 8859-1, the usual MSH-18 character set


def reduce_message(text: str) -> str | None:
    """The message with only allow-listed segments and fields (PHI removed before any parsing)."""
    segments = [s for s in re.split(r"[\r\n]+", text) if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return None
    sep = segments[0][3]
    if sep.isalnum() or sep.isspace():
        return None
    kept: list[str] = []
    for segment in segments[: MAX_SEGMENTS * 8]:
        name = segment[:3]
        allowed = ALLOWED.get(name)
        if allowed is None:
            continue
        fields = segment.split(sep)
        if len(fields) - 1 > MAX_FIELDS[name] or any(_PATIENT_SEGMENTS.search(f) for f in fields[1:]):
            return None
        if name == "MSH":
            # fields[1] is MSH-2 (MSH-1 is the separator itself): keep MSH-2..MSH-12.
            kept.append(sep.join(fields[:12]))
        else:
            kept.append(_blank(fields, allowed, sep))
        if len(kept) >= MAX_SEGMENTS:
            break
    return "\r".join(kept)


def _blank(fields: list[str], allowed: frozenset[int], sep: str) -> str:
    """The segment with every field outside ``allowed`` emptied (fields past 22 dropped)."""
    out = [fields[0]] + [f if i in allowed else "" for i, f in enumerate(fields[1:23], start=1)]
    return sep.join(out).rstrip(sep)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _field(segment: Any, n: int) -> Any:
    """Field ``n`` of a python-hl7 segment, or ``None`` when absent."""
    return segment[n] if len(segment) > n else None


def _components(field: Any) -> Iterator[list[str]]:
    """Each repetition of a field as its list of component strings (python-hl7 containers)."""
    if field is None or isinstance(field, str):
        if field:
            yield [str(field)]
        return
    for rep in field:
        if isinstance(rep, str):
            yield [rep]
        else:
            yield [str(c) for c in rep]


def eui64_of(parts: list[str]) -> str:
    """An EUI-64 in an EI/HD value (IHE PCD TF-2: type component ``EUI-64``), colon-separated."""
    if any(p.upper() == "EUI-64" for p in parts[1:]) or len(parts) == 1:
        for part in parts:
            if _HEX16.match(part):
                return ":".join(part[i : i + 2] for i in range(0, 16, 2)).lower()
    return ""


def _join(parts: list[str]) -> str:
    return "^".join(parts).rstrip("^")


class Hl7Dissector:
    """HL7 v2 messages framed by MLLP, both directions."""

    name: ClassVar[str] = "hl7"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset({2575, 6661})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """0x0B then ``MSH`` at the start of the client direction."""
        return looks_like_mllp(data)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Header and device fields of every message, about its sender (or receiver for MSH-5/6)."""
        if not looks_like_mllp(client) and not looks_like_mllp(server):
            raise ParseError("not HL7 over MLLP: no start block followed by MSH")
        em = Emitter(ctx)
        parsed = 0
        for about_server, data in ((False, client), (True, server)):
            for frame in iter_frames(data, truncated=True):
                parsed += self._message(em, frame, about_server)
        if not parsed:
            raise ParseError("no readable HL7 message in the MLLP stream")
        return iter(em.out)

    def _message(self, em: Emitter, frame: bytes, sender_is_server: bool) -> int:
        reduced = reduce_message(_decode(frame.lstrip(b"\r\n")))
        if reduced is None:
            return 0
        try:
            msg = python_hl7.parse(reduced)
            msh = msg.segment("MSH")
        except Exception as exc:  # python-hl7 raises several types; the message is skipped, not quoted
            log.debug("HL7 message not parsable: %s", type(exc).__name__)
            return 0
        mine, theirs = sender_is_server, not sender_is_server
        msg_type = _text(_field(msh, 9))
        version = _text(_field(msh, 12)).split("^")[0]
        if not _MSG_TYPE.match(msg_type) or not _VERSION.match(version):
            log.debug("HL7 message skipped: MSH-9 or MSH-12 malformed")
            return 0
        type_parts = msg_type.split("^")
        kind_text = "^".join(p for p in type_parts[:2] if p)
        why = f"MSH {kind_text} v{version}"
        for n, kind, about in ((3, "hl7.sending_application", mine), (4, "hl7.sending_facility", mine),
                               (5, "hl7.receiving_application", theirs),
                               (6, "hl7.receiving_facility", theirs)):
            for parts in _components(_field(msh, n)):
                if len(parts) > MAX_COMPONENTS["HD"]:
                    continue
                em.emit(kind, _join(parts), about_server=about, excerpt=f"{why} MSH-{n}")
                em.emit("hl7.eui64", eui64_of(parts) if len(parts) > 1 else "", about_server=about,
                        excerpt=f"{why} MSH-{n}", confidence=CONF_DEVICE)
        em.emit("hl7.message_type", kind_text, about_server=mine, excerpt=why)
        em.emit("hl7.version", version, about_server=mine, excerpt=why)
        self._devices(em, msg, mine, why)
        return 1

    @staticmethod
    def _devices(em: Emitter, msg: Any, about: bool, why: str) -> None:
        """PRT (EQUIP), DEV and OBX-18 device identity."""
        def emit_ei(kind: str, field: Any, label: str, data_type: str = "EI") -> None:
            for parts in _components(field):
                if len(parts) > MAX_COMPONENTS[data_type] or (data_type == "EI" and " " in _join(parts)):
                    continue  # not the declared type: a shifted field, maybe a patient's
                em.emit(kind, _join(parts), about_server=about, excerpt=f"{why} {label}",
                        confidence=CONF_DEVICE)
                em.emit("hl7.eui64", eui64_of(parts), about_server=about, excerpt=f"{why} {label}",
                        confidence=CONF_DEVICE)

        for segment in _segments(msg, "PRT"):
            if "EQUIP" not in _text(_field(segment, 4)).upper():
                continue
            emit_ei("hl7.device_id", _field(segment, 10), "PRT-10")
            emit_ei("hl7.udi", _field(segment, 16), "PRT-16")
            emit_ei("hl7.serial", _field(segment, 20), "PRT-20", "ST")
            emit_ei("hl7.device_type", _field(segment, 22), "PRT-22", "CNE")
        for segment in _segments(msg, "DEV"):
            for n, kind, data_type in ((2, "hl7.udi", "EI"), (9, "hl7.udi", "EI"), (3, "hl7.device_type", "CNE"),
                                       (5, "hl7.manufacturer", "XON"), (7, "hl7.model", "ST"),
                                       (11, "hl7.serial", "ST"), (16, "hl7.software_version", "ST")):
                emit_ei(kind, _field(segment, n), f"DEV-{n}", data_type)
        for segment in _segments(msg, "OBX"):
            emit_ei("hl7.equipment_id", _field(segment, 18), "OBX-18")


def _segments(msg: Any, name: str) -> list[Any]:
    try:
        return list(msg.segments(name))
    except KeyError:
        return []


#: The entry point ``wardwatch.dissect.hl7:DISSECTOR``.
DISSECTOR = Hl7Dissector()

"""ASTM E1381 / E1394 (CLSI LIS1-A / LIS2-A2) lab-analyzer dissector: shape STREAM.

Two layers:

* **Low level (E1381 / LIS1-A §6):** the sender bids with ENQ (0x05), the receiver answers ACK (0x06);
  each frame is ``STX FN text ETB|ETX C1 C2 CR LF``: FN is the frame number ``0``-``7``, ETB ends an
  intermediate frame of a record split over several frames, ETX the last one, and C1 C2 are the
  checksum, the sum modulo 256 of the bytes from FN through ETB/ETX inclusive written as two upper-case
  hex digits (§6.3.3). EOT (0x04) ends the transmission. :func:`deframe` verifies every checksum and
  counts bad frames (they would be retransmitted; their text is dropped). Serial captures often drop
  the CR or the LF of the trailer, so both are optional here. A stream without STX is read as bare
  records (a serial log or the "text" layer only).
* **Records (E1394 / LIS2-A2 §6-§7):** CR-terminated, record type in the first character: H header,
  P patient, O order, R result, C comment, Q query, M manufacturer, S scientific, L terminator. The
  header defines the delimiters in H-2 (field ``|``, repeat ``\\``, component ``^``, escape ``&``).

Kinds emitted, about the side that sent the header (usually the analyzer):

* ``astm.sender``: H-5 sender name or ID, whole (its components are vendor specific: the DCA Vantage
  sends ``model^version^serial``, Ortho VISION ``manufacturer^model^version^...``);
* ``astm.vendor``, ``astm.model``, ``astm.software_version``, ``astm.serial``: read from the H-5
  components by shape (a known manufacturer token, a dotted version, a serial-like token);
* ``astm.version``: H-13 version of the specification (``LIS2-A2``, ``E1394-97``);
* ``astm.processing_id``: H-12 (P production, T training, D debugging, Q quality control).

No PHI: only H-5, H-12 and H-13 of the header are read. P, O, R, C, Q, M and S records are never parsed
(patient names, IDs, birth dates, specimen IDs and results stay in the bytes); H-4 (access password)
is never read either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

ENQ, ACK, NAK, EOT, STX, ETX, ETB = 0x05, 0x06, 0x15, 0x04, 0x02, 0x03, 0x17
CR, LF = 0x0D, 0x0A
FRAME_NUMBERS = b"01234567"
MAX_RECORDS = 20000
#: E1381 §6.3.1: at most 247 characters per frame (240 text); a lenient bound for bad senders.
MAX_FRAME = 64 * 1024
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_VERSION = re.compile(r"^v?\d+(?:[.\-]\d+)+[a-z]?$", re.IGNORECASE)
_SERIAL = re.compile(r"^[A-Z]{0,4}\d{4,}[A-Z0-9]*$", re.IGNORECASE)
#: Manufacturer tokens seen in H-5 sender fields, and their usual company name.
MANUFACTURERS: dict[str, str] = {
    "abbott": "Abbott", "abx": "HORIBA ABX", "horiba": "HORIBA", "arkray": "ARKRAY",
    "beckman": "Beckman Coulter", "biomerieux": "bioMérieux", "bio-rad": "Bio-Rad", "biorad": "Bio-Rad",
    "cepheid": "Cepheid", "diasorin": "DiaSorin", "mindray": "Mindray", "ocd": "Ortho Clinical Diagnostics",
    "ortho": "Ortho Clinical Diagnostics", "radiometer": "Radiometer", "roche": "Roche",
    "siemens": "Siemens Healthineers", "siem": "Siemens Healthineers", "snibe": "Snibe",
    "stago": "Stago", "sysmex": "Sysmex", "thermo": "Thermo Fisher Scientific", "tosoh": "Tosoh",
}


@dataclass
class Deframed:
    """The text of the valid frames (records CR-separated) and counters of the low-level layer."""

    text: bytearray = field(default_factory=bytearray)
    frames: int = 0
    bad_frames: int = 0
    incomplete: bool = False
    framed: bool = False


def checksum(body: bytes) -> bytes:
    """E1381 §6.3.3 checksum of ``FN text ETB|ETX``: two upper-case hex digits."""
    return f"{sum(body) & 0xFF:02X}".encode()


def deframe(data: bytes) -> Deframed:
    """Strip the E1381 framing of one direction; bare records pass through when there is no STX."""
    out = Deframed()
    if STX not in data:
        out.text += data
        return out
    out.framed = True
    pos, n = 0, len(data)
    while pos < n:
        if data[pos] != STX:
            pos += 1  # ENQ, ACK, NAK, EOT, line noise between frames
            continue
        end = -1
        for j in range(pos + 1, min(n, pos + 1 + MAX_FRAME)):
            if data[j] in (ETX, ETB):
                end = j
                break
            if data[j] == STX:
                break  # a new frame before this one ended: this one is broken
        if end < 0:
            if n - pos - 1 < MAX_FRAME and STX not in data[pos + 1 :]:
                out.incomplete = True  # cut by the byte budget (or the capture)
                break
            out.bad_frames += 1
            pos += 1
            continue
        body = data[pos + 1 : end + 1]  # FN .. ETB/ETX inclusive
        given = data[end + 1 : end + 3]
        pos = end + 3
        while pos < n and data[pos] in (CR, LF):
            pos += 1
        if len(given) < 2:
            out.incomplete = True
            break
        if len(body) < 2 or body[0] not in FRAME_NUMBERS or given.upper() != checksum(body):
            out.bad_frames += 1
            continue
        out.frames += 1
        out.text += body[1:-1]
        if body[-1] == ETX and not out.text.endswith(b"\r"):
            out.text += b"\r"
    return out


def records(text: bytes) -> Iterator[bytes]:
    """Records of the text layer: CR (or LF, as in serial logs) separated, blanks dropped."""
    for count, line in enumerate(re.split(rb"[\r\n]+", text)):
        if count >= MAX_RECORDS:
            return
        line = line.strip(b" \t\x00")
        if line:
            yield line


@dataclass(frozen=True)
class Header:
    """The allow-listed fields of an H record."""

    sender: str
    components: tuple[str, ...]
    processing_id: str
    version: str


def _text(raw: str) -> str:
    return _CONTROL.sub("", raw).strip()[:512]


def parse_header(record: bytes) -> Header:
    """Parse the H record (E1394 §7): delimiters from H-2, then H-5, H-12 and H-13 only."""
    if len(record) < 5 or record[:1] != b"H":
        raise ParseError("not an ASTM header record")
    rec = record.decode("utf-8", errors="replace")
    fdelim = rec[1]
    fields = rec.split(fdelim, 14)
    delims = fields[1] if len(fields) > 1 else ""
    comp = delims[1] if len(delims) >= 3 and len(set(delims[:3] + fdelim)) == 4 else "^"
    if fdelim.isalnum() or fdelim.isspace():
        raise ParseError("ASTM header with an alphanumeric field delimiter")

    def field_at(idx: int) -> str:  # H-n is fields[n - 1]
        return _text(fields[idx - 1]) if len(fields) >= idx else ""

    sender = field_at(5)
    comps = tuple(_text(c) for c in sender.split(comp))
    return Header(sender=sender, components=comps, processing_id=field_at(12)[:8], version=field_at(13))


def sender_identity(components: tuple[str, ...]) -> dict[str, str]:
    """vendor / model / software_version / serial read from the H-5 components by their shape."""
    comps = [(i, c) for i, c in enumerate(components) if c]
    out: dict[str, str] = {}
    vendor_idx = next((i for i, c in comps if c.lower() in MANUFACTURERS), None)
    if vendor_idx is not None:
        out["vendor"] = MANUFACTURERS[components[vendor_idx].lower()]
    version = next(((i, c) for i, c in comps if _VERSION.match(c)), None)
    if version:
        out["software_version"] = version[1]

    def plain(i: int, c: str) -> bool:
        return i != vendor_idx and not _VERSION.match(c)

    after = [(i, c) for i, c in comps if plain(i, c) and (vendor_idx is None or i > vendor_idx)]
    model = after[0] if after else next(((i, c) for i, c in comps if plain(i, c)), None)
    if model:
        out["model"] = model[1]
        serials = [c for i, c in comps if i > model[0] and plain(i, c) and _SERIAL.match(c)]
        if serials:
            out["serial"] = serials[-1]
    return out


class AstmDissector:
    """ASTM E1381/E1394 (LIS1-A/LIS2-A2) over TCP."""

    name: ClassVar[str] = "astm"
    shape: ClassVar[InputShape] = InputShape.STREAM
    #: no IANA port; vendors' LIS interfaces pick one
    ports: ClassVar[frozenset[int]] = frozenset()

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """ENQ (alone or before a frame), ``STX FN H|`` or a bare ``H|\\^&`` header."""
        if not data:
            return False
        if data[0] == ENQ:
            return len(data) == 1 or data[1] in (STX, EOT)
        if data[0] == STX:
            return len(data) >= 4 and data[1] in FRAME_NUMBERS and data[2:3].isalpha() and data[3:4] == b"|"
        return data.startswith(b"H|\\^&")

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Facts from the header record of each direction."""
        out: list[Observation] = []
        astm_like = False
        for data, about_server in ((client, False), (server, True)):
            if not data:
                continue
            frames = deframe(data)
            # valid frames, or only link-control bytes (the receiver's ACKs), are ASTM already
            astm_like = astm_like or frames.frames > 0 or set(data) <= {ENQ, ACK, NAK, EOT}
            for record in records(bytes(frames.text)):
                if record[:1] != b"H" or len(record) < 5:
                    continue  # P/O/R/C/Q/M/S/L: never parsed (PHI)
                try:
                    header = parse_header(record)
                except ParseError:
                    continue
                astm_like = True
                out.extend(self._header(ctx, header, about_server))
                break  # one header per transmission direction is the identity
        if not astm_like:
            raise ParseError("no valid ASTM frame or header in this flow")
        yield from out

    @staticmethod
    def _header(ctx: FlowContext, header: Header, about_server: bool) -> Iterator[Observation]:
        excerpt = f"H|…|{header.sender}|…"
        if header.sender:
            yield ctx.observation("astm.sender", header.sender, about_server=about_server, excerpt=excerpt)
        for key, value in sender_identity(header.components).items():
            yield ctx.observation(f"astm.{key}", value, about_server=about_server, excerpt=excerpt)
        if header.version:
            yield ctx.observation("astm.version", header.version, about_server=about_server,
                                  excerpt=f"H-13 {header.version}")
        if header.processing_id:
            yield ctx.observation("astm.processing_id", header.processing_id, about_server=about_server,
                                  excerpt=f"H-12 {header.processing_id}")


DISSECTOR = AstmDissector()

"""POCT1-A dissector (CLSI POCT1-A2, device messaging layer: XML messages over TCP): shape STREAM.

A point-of-care device opens a TCP connection to its data manager (the "observation reviewer") and
exchanges XML documents, each one message: ``HEL.R01`` (hello, with the ``DEV`` device segment),
``DST.R01`` (device status), ``OBS.R01`` (observations), ``EOT.R01`` (end of topic), ``ACK.R01``,
``REQ.R01``/``DTV.R01`` (data manager requests and directives), ``OPL.R01``/``PTL.R01`` (operator and
patient lists), ``END.R01`` ... (POCT1-A2 §5, Device Messaging Layer). Each element carries its value
in a ``V`` attribute (``<DEV.model_id V="DCA Vantage"/>``).

Kinds emitted, about the side that sent the message (usually the client):

* ``poct1a.message_type``: the root element (``HEL.R01``), one observation per distinct type;
* from the ``DEV`` segment of a hello: ``poct1a.vendor`` (``DEV.vendor_id``), ``poct1a.manufacturer``
  (``DEV.manufacturer_name``), ``poct1a.model`` (``DEV.model_id``), ``poct1a.serial``
  (``DEV.serial_id``), ``poct1a.software_version`` (``DEV.sw_version``), ``poct1a.hardware_version``
  (``DEV.hw_version``);
* ``poct1a.role``: ``device`` for the side that says hello, ``data_manager`` for the side that
  acknowledges or directs it.

No PHI: only the allow-listed ``HDR.message_type`` and ``DEV.*`` fields are read. Observation, patient,
operator and reagent segments (``SVC``, ``PT``, ``OBS``, ``OPR``, ``RGT``, ``NTE``) are never looked at
beyond their element names.

Safety: documents are split on ``<?xml``; a document that declares a DTD or entity (``<!DOCTYPE``,
``<!ENTITY``) is refused before parsing (no entity expansion, no external resources), and each
document is bounded to :data:`MAX_DOCUMENT` bytes. A document cut by the byte budget is skipped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

#: POCT1-A2 max_message_sz is negotiated by the device (DCA Vantage: 16000); a little headroom.
MAX_DOCUMENT = 64 * 1024
MAX_DOCUMENTS = 256
#: Root element names of the device messaging layer: three letters, ".R0" and a digit.
_ROOT = re.compile(rb"<\s*([A-Z_]{3,5}\.R0\d)[\s/>]")
_DECL = b"<?xml"
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DEVICE_MESSAGES = frozenset({"HEL.R01", "DST.R01", "OBS.R01", "EOT.R01", "OBS.R02", "EVS.R01"})
_MANAGER_MESSAGES = frozenset({"REQ.R01", "DTV.R01", "DTV.R02", "OPL.R01", "PTL.R01", "END.R01"})
#: DEV.* element -> observation kind (POCT1-A2 DEV segment); nothing else is read.
DEV_FIELDS: dict[str, str] = {
    "DEV.vendor_id": "poct1a.vendor",
    "DEV.manufacturer_name": "poct1a.manufacturer",
    "DEV.model_id": "poct1a.model",
    "DEV.serial_id": "poct1a.serial",
    "DEV.sw_version": "poct1a.software_version",
    "DEV.hw_version": "poct1a.hardware_version",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def split_documents(data: bytes) -> list[bytes]:
    """The XML documents of one direction, split on each ``<?xml`` (or a bare POCT1 root)."""
    starts = [m.start() for m in re.finditer(re.escape(_DECL), data)]
    if not starts:
        m = _ROOT.search(data[:512])
        starts = [m.start()] if m else []
    docs = []
    for i, start in enumerate(starts[:MAX_DOCUMENTS]):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        docs.append(data[start:end])
    return docs


def parse_document(doc: bytes) -> ET.Element:
    """One POCT1-A document as an element tree; ParseError when unsafe, too big or not XML."""
    if len(doc) > MAX_DOCUMENT:
        raise ParseError("POCT1-A document larger than the bound")
    if _FORBIDDEN.search(doc):
        raise ParseError("POCT1-A document declares a DTD or entity (refused)")
    try:
        root = ET.fromstring(doc.strip())
    except (ET.ParseError, LookupError, ValueError) as exc:  # LookupError: unknown declared encoding
        raise ParseError(f"POCT1-A document is not well-formed XML: {exc}") from None
    if not _ROOT.match(b"<" + root.tag.encode("utf-8", "replace") + b">"):
        raise ParseError(f"not a POCT1-A message root: {root.tag[:40]!r}")
    return root


def _value(elem: ET.Element) -> str:
    return _CONTROL.sub("", elem.get("V", "")).strip()


class Poct1aDissector:
    """POCT1-A device messaging (XML over TCP)."""

    name: ClassVar[str] = "poct1a"
    shape: ClassVar[InputShape] = InputShape.STREAM
    #: no IANA port; vendors and data managers pick one (the DCA sample: 3001)
    ports: ClassVar[frozenset[int]] = frozenset()

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """``<?xml`` (after optional blanks/BOM) followed by a POCT1 root, or a bare POCT1 root."""
        head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(_DECL):
            return _ROOT.search(head) is not None
        return _ROOT.match(head) is not None

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Facts from both directions; ParseError when neither holds one POCT1-A message."""
        out: list[Observation] = []
        parsed = 0
        for data, about_server in ((client, False), (server, True)):
            types: list[str] = []
            for doc in split_documents(data):
                try:
                    root = parse_document(doc)
                except ParseError:
                    continue  # a cut or hostile document is skipped; the others still count
                parsed += 1
                mtype = root.tag
                if mtype not in types:
                    types.append(mtype)
                    out.append(ctx.observation("poct1a.message_type", mtype, about_server=about_server,
                                               excerpt=f"<{mtype}>"))
                if mtype == "HEL.R01":
                    out.extend(self._device(ctx, root, about_server))
            role = _role(types)
            if role:
                out.append(ctx.observation("poct1a.role", role, about_server=about_server,
                                           excerpt=",".join(types)[:160]))
        if not parsed:
            raise ParseError("no POCT1-A message in this flow")
        yield from out

    @staticmethod
    def _device(ctx: FlowContext, root: ET.Element, about_server: bool) -> Iterator[Observation]:
        dev = root.find("DEV")
        if dev is None:
            return
        for child in dev:  # direct children only: DCP/DSC sub-segments are not device identity
            kind = DEV_FIELDS.get(child.tag)
            value = _value(child)
            if kind and value:
                yield ctx.observation(kind, value, about_server=about_server,
                                      excerpt=f'<{child.tag} V="{value}"/>')


def _role(types: list[str]) -> str | None:
    if any(t in _DEVICE_MESSAGES for t in types):
        return "device"
    if any(t in _MANAGER_MESSAGES for t in types):
        return "data_manager"
    return None


DISSECTOR = Poct1aDissector()

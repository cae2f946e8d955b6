"""Bounded HTTP/1.1 message splitting and safe, truncation-tolerant XML reading for SOAP (SDC).

HTTP (RFC 9112): each message is a start line and headers up to an empty line, then a body delimited by
``Content-Length`` or ``Transfer-Encoding: chunked`` (§6-7); ``Content-Encoding: gzip/deflate``
(RFC 9110 §8.4) is undone with a hard cap on the inflated size (no decompression bomb).

XML: parsed with defusedxml (no DTD, no entity expansion, no external resource), incrementally, so a
body cut by the capture budget still yields every element that was complete before the cut.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError as XmlParseError
from defusedxml.ElementTree import iterparse

#: Most bytes one inflated body may take (an MDIB is tens of kB; a bomb stops here).
MAX_INFLATED = 2 * 1024 * 1024
#: Most HTTP messages read per direction.
MAX_MESSAGES = 32
#: Most XML elements visited per document.
MAX_ELEMENTS = 200_000


@dataclass(frozen=True, slots=True)
class HttpMessage:
    """One HTTP message: start line, lower-case header names, and the decoded body (maybe cut)."""

    start: str
    headers: dict[str, str]
    body: bytes


def _dechunk(data: bytes) -> bytes:
    """Undo chunked transfer coding (RFC 9112 §7.1); stops quietly where the data ends."""
    out = bytearray()
    off = 0
    while off < len(data):
        eol = data.find(b"\r\n", off)
        if eol < 0:
            break
        try:
            size = int(data[off:eol].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out += data[eol + 2 : eol + 2 + size]
        off = eol + 2 + size + 2
    return bytes(out)


def _inflate(body: bytes, coding: str) -> bytes:
    """gzip/deflate with an output cap; a cut or corrupt stream yields what inflated so far."""
    if coding not in ("gzip", "x-gzip", "deflate"):
        return body
    inflater = zlib.decompressobj(wbits=47 if "gzip" in coding else 15)
    try:
        return inflater.decompress(body, MAX_INFLATED)
    except zlib.error:
        return b""


def iter_http(data: bytes) -> Iterator[HttpMessage]:
    """HTTP messages of one direction; the last body may be cut by the budget."""
    off = 0
    for _ in range(MAX_MESSAGES):
        end = data.find(b"\r\n\r\n", off)
        if end < 0 or end - off > 64 * 1024:
            return
        lines = data[off:end].decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:100]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body_start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            terminator = data.find(b"\r\n0\r\n\r\n", body_start)
            stop = len(data) if terminator < 0 else terminator + 7
            body = _dechunk(data[body_start:stop])
        else:
            try:
                length = max(0, int(headers.get("content-length", "0")))
            except ValueError:
                length = 0
            stop = body_start + length
            body = data[body_start:stop]
        body = _inflate(body, headers.get("content-encoding", "").lower().strip())
        yield HttpMessage(lines[0], headers, body)
        if stop >= len(data):
            return
        off = stop


def local(tag: str) -> str:
    """The local name of a Clark-notation tag (``{ns}Name`` → ``Name``)."""
    return tag.rsplit("}", 1)[-1]


def iter_elements(xml: bytes) -> Iterator[tuple[Element, str, dict[str, str]]]:
    """Completed elements in document order, each with its parent's local name and the namespace
    prefixes declared so far (for QName values such as WS-Discovery ``Types``).

    Stops quietly at a truncation or a syntax error; never resolves DTDs or entities (defusedxml
    raises, and we stop). Memory is bounded by the input, itself capped at :data:`MAX_INFLATED`.
    """
    prefixes: dict[str, str] = {}
    stack: list[str] = []
    count = 0
    try:
        for event, item in iterparse(BytesIO(xml), events=("start-ns", "start", "end"), forbid_dtd=True):
            if event == "start-ns":
                prefix, uri = item
                prefixes[str(prefix)] = str(uri)
            elif event == "start":
                stack.append(local(item.tag))
            else:
                stack.pop()
                count += 1
                if count > MAX_ELEMENTS:
                    return
                yield item, (stack[-1] if stack else ""), prefixes
    except (XmlParseError, DefusedXmlException, ValueError, LookupError, IndexError):
        return  # truncated, malformed, or forbidden construct: keep what was complete

"""HTTP/1.x message framing (RFC 9112): start lines, header fields and where each message ends.

A direction of a connection is read as a sequence of messages (pipelined requests and their responses):
start line, header fields (obs-fold continuation lines joined, RFC 9112 §5.2), then the body skipped by
``Content-Length`` or ``Transfer-Encoding: chunked`` (RFC 9112 §6.3, §7.1) as far as the bytes go. Bare
LF line ends are tolerated (RFC 9112 §2.2); an incomplete last line (a stream cut by the byte budget) is
dropped rather than reported half. :func:`messages` is the general walk; :func:`_heads` the same walk
keeping only the fields the HTTP dissector reports, with a one-pass reading of simple heads (its hot path;
tests hold it equal to :func:`messages`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

#: RFC 9110 §9 methods plus WebDAV (RFC 4918) and UPnP GENA (over TCP) methods.
METHODS = frozenset(
    b"GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH PROPFIND PROPPATCH MKCOL COPY MOVE LOCK "
    b"UNLOCK SEARCH REPORT SUBSCRIBE UNSUBSCRIBE NOTIFY CCM_POST RPC_IN_DATA RPC_OUT_DATA".split()
)
#: Most messages read per direction, and most header lines per message (hostile peers).
MAX_MESSAGES = 256
MAX_HEADERS = 200


@dataclass
class Message:
    """One parsed start line and its header fields (names lower-cased, values raw bytes)."""

    start: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def get(self, name: bytes) -> bytes | None:
        """The first value of a header field, or ``None``."""
        return _first(self.headers, name)


_GENERIC_REQUEST = re.compile(rb"[A-Z][A-Z0-9_-]{0,31} [^ ]+ HTTP/1\.[019]$")


def is_request_line(line: bytes) -> bool:
    """True for a known method token and a space, or any upper-case token in a full request line.

    Vendor methods exist, so a complete ``TOKEN SP target SP HTTP/1.x`` line counts too (RFC 9112 §3:
    method is a token). A known method alone on its line is a (malformed) request, as tshark sees it.
    """
    method, sep, _ = line.partition(b" ")
    if method in METHODS:
        return bool(sep) or line == method
    return _GENERIC_REQUEST.match(line) is not None


def _line(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The line at ``pos`` without its CRLF/LF, and the next position; ``None`` if incomplete."""
    end = data.find(b"\n", pos)
    if end < 0:
        return None
    return data[pos:end].rstrip(b"\r"), end + 1


def _skip_chunked(data: bytes, pos: int) -> int | None:
    """Position after a chunked body (RFC 9112 §7.1), or ``None`` when the bytes end first."""
    while True:
        got = _line(data, pos)
        if got is None:
            return None
        size_text, pos = got
        try:
            size = int(size_text.split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            return None
        if size == 0:
            while True:  # trailer section, up to its empty line
                got = _line(data, pos)
                if got is None:
                    return None
                trailer, pos = got
                if not trailer:
                    return pos
        pos += size
        if pos > len(data):
            return None
        got = _line(data, pos)
        if got is None:
            return None
        pos = got[1]


def _first(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header field ``name`` (lower-case) in ``headers``, or ``None``."""
    for n, v in headers:
        if n == name:
            return v
    return None


def _body_end(start: bytes, encoding: bytes | None, length_text: bytes | None, data: bytes, pos: int, *,
              request: bool, method: bytes | None) -> int | None:
    """Where the next message starts (RFC 9112 §6.3), or ``None`` when unknown or beyond the bytes.

    ``start`` is the message's start line, ``encoding`` and ``length_text`` the values of its first
    ``Transfer-Encoding`` and ``Content-Length`` fields (``None`` when absent).
    """
    if not request:
        parts = start.split(b" ", 2)
        status = parts[1] if len(parts) > 1 else b""
        if method == b"HEAD" or status[:1] == b"1" or status in (b"204", b"304"):
            return pos
    if encoding is not None and b"chunked" in encoding.lower():
        return _skip_chunked(data, pos)
    if length_text is not None:
        try:
            length = int(length_text.split(b",", 1)[0].strip())
        except ValueError:
            return None
        end = pos + length
        return end if length >= 0 and end <= len(data) else None
    return pos if request else None  # a response without length runs to the end of the connection


def _add_headers(headers: list[tuple[bytes, bytes]], lines: Iterable[bytes]) -> None:
    """Header field lines into ``headers``: ``name: value`` (name lower-cased, both trimmed), obs-fold
    continuation lines joined to the previous field (RFC 9112 §5.2), lines without a colon ignored."""
    for line in lines:
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))


def _plain_head(data: bytes, pos: int) -> tuple[list[bytes], int] | None:
    """The lines of a message head at ``pos`` (start line first) and the position after its empty line.

    The fast path for the common head: every line ends with CRLF, none with an extra CR, and it has fewer
    than :data:`MAX_HEADERS` lines after the start line. It then reads exactly the lines the
    line-by-line walk of :func:`messages` would read. ``None`` when the head is anything else (bare LF,
    cut by the byte budget, too many lines): the caller takes the line-by-line walk.
    """
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        return None
    head = data[pos:end]
    lines = head.split(b"\r\n")
    if (
        len(lines) > MAX_HEADERS
        or head.count(b"\n") != len(lines) - 1  # a bare LF ends a line too (RFC 9112 §2.2)
        or b"\r\r\n" in head
        or head.endswith(b"\r")  # a line with an extra CR is read without it
        or not lines[0]
    ):
        return None
    return lines, end + 4


def _head(data: bytes, pos: int, *, request: bool) -> tuple[bytes, list[tuple[bytes, bytes]], int, bool] | None:
    """The message head at ``pos``: start line, header fields, the position after it, and whether its
    empty line was read (``False``: cut by the bytes or by :data:`MAX_HEADERS`). ``None`` when no start
    line of the right kind (request or status line) is there."""
    plain = _plain_head(data, pos)
    if plain is not None:
        start = plain[0][0]
    else:
        got = _line(data, pos)
        if got is None:
            return None
        start, pos = got
    if not (is_request_line(start) if request else start.startswith(b"HTTP/")):
        return None
    headers: list[tuple[bytes, bytes]] = []
    if plain is not None:
        _add_headers(headers, plain[0][1:])
        return start, headers, plain[1], True
    while len(headers) < MAX_HEADERS:
        got = _line(data, pos)
        if got is None:
            break
        line, pos = got
        if not line:
            return start, headers, pos, True
        _add_headers(headers, (line,))
    return start, headers, pos, False


def messages(data: bytes, *, request: bool, methods: list[bytes] | None = None) -> Iterator[Message]:
    """Parse successive messages of one direction; stops quietly where the bytes stop making sense.

    For responses, ``methods`` (the request methods in order) tells which answer a HEAD (no body).
    """
    pos = 0
    for index in range(MAX_MESSAGES):
        while data[pos : pos + 2] == b"\r\n" or data[pos : pos + 1] == b"\n":
            pos += 2 if data[pos : pos + 1] == b"\r" else 1
        if pos >= len(data):
            return
        got = _head(data, pos, request=request)
        if got is None:
            return
        start, headers, pos, complete = got
        if request and methods is not None:
            methods.append(start.partition(b" ")[0])
        yield Message(start, headers)
        if not complete:
            return
        method = methods[index] if (not request and methods and index < len(methods)) else None
        end = _body_end(start, _first(headers, b"transfer-encoding"), _first(headers, b"content-length"),
                        data, pos, request=request, method=method)
        if end is None:
            return
        pos = end


#: The header fields the dissector reports (see :meth:`HttpDissector._request` and ``_response``).
REPORTED_FIELDS = frozenset({b"user-agent", b"host", b"authorization", b"server", b"x-powered-by",
                             b"www-authenticate"})
#: The fields that find the end of a body (:func:`_body_end`), and the reported ones: all that is read.
_READ_FIELDS = REPORTED_FIELDS | {b"transfer-encoding", b"content-length"}

#: One message head as the dissector reads it: start line, the reported fields (name lower-cased, value
#: trimmed, in order), the first ``Transfer-Encoding`` and ``Content-Length`` values, the position after
#: it, and whether its empty line was read.
_Head = tuple[bytes, list[tuple[bytes, bytes]], bytes | None, bytes | None, int, bool]


def _simple_head(data: bytes, pos: int) -> _Head | None:
    """A simple message head at ``pos`` read in one pass, as :func:`_read_head` reads it; ``None`` for
    any other head (the caller takes :func:`_head`). The start line is not checked here.

    Simple: every line ends with CRLF and holds no other CR or LF, it has fewer than :data:`MAX_HEADERS`
    lines after the start line (so :func:`_plain_head` takes it), and no line starts with a byte below
    ``!`` (none is empty, and none is an obs-fold continuation line, RFC 9112 §5.2, which would join the
    field before it, read or not). Each line is then one field on its own: only the read ones are
    trimmed and kept (the work of :func:`_add_headers`, for those alone).
    """
    end = data.find(b"\r\n\r\n", pos)
    if end < 0:
        return None
    head = data[pos:end]
    lines = head.split(b"\r\n")
    breaks = len(lines) - 1
    if (
        breaks >= MAX_HEADERS
        or head.count(b"\n") != breaks  # no bare LF
        or head.count(b"\r") != breaks  # no CR but in CRLF
        or min(lines) < b"!"  # the least line is empty or starts with SP, HTAB or a control byte
    ):
        return None
    fields: list[tuple[bytes, bytes]] = []
    encoding = length = None
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            name = name.strip().lower()
            if name in _READ_FIELDS:
                if name == b"content-length":
                    if length is None:
                        length = value.strip()
                elif name == b"transfer-encoding":
                    if encoding is None:
                        encoding = value.strip()
                else:
                    fields.append((name, value.strip()))
    return lines[0], fields, encoding, length, end + 4, True


def _read_head(data: bytes, pos: int, *, request: bool) -> _Head | None:
    """The head at ``pos`` as :func:`_head` reads it, with only the fields the dissector reads;
    ``None`` when no start line of the right kind is there."""
    simple = _simple_head(data, pos)
    if simple is None:
        got = _head(data, pos, request=request)
        if got is None:
            return None
        start, headers, end, complete = got
        return (start, [(n, v) for n, v in headers if n in REPORTED_FIELDS], _first(headers, b"transfer-encoding"),
                _first(headers, b"content-length"), end, complete)
    start = simple[0]
    if request:
        # is_request_line: a known method (with a space or alone on its line) or a generic request line.
        if start.partition(b" ")[0] not in METHODS and _GENERIC_REQUEST.match(start) is None:
            return None
    elif not start.startswith(b"HTTP/"):
        return None
    return simple


def _heads(data: bytes, *, request: bool, methods: list[bytes]) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """:func:`messages` as the dissector needs it: each message's start line and only its
    :data:`REPORTED_FIELDS`, as a list (``methods`` filled as :func:`messages` fills it)."""
    found: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []
    pos = 0
    size = len(data)
    for index in range(MAX_MESSAGES):
        while True:  # empty lines before a message, skipped as messages skips them
            first = data[pos : pos + 1]
            if first == b"\n":
                pos += 1
            elif first == b"\r" and data[pos + 1 : pos + 2] == b"\n":
                pos += 2
            else:
                break
        if pos >= size:
            break
        head = _read_head(data, pos, request=request)
        if head is None:
            break
        start, fields, encoding, length, pos, complete = head
        found.append((start, fields))
        if request:
            methods.append(start.partition(b" ")[0])
        if not complete:
            break
        if request and encoding is None and length is None:
            continue  # _body_end: a request without a body
        method = methods[index] if (not request and index < len(methods)) else None
        end = _body_end(start, encoding, length, data, pos, request=request, method=method)
        if end is None:
            break
        pos = end
    return found

"""HTTP/1.x identity dissector (RFC 9112 message syntax, RFC 9110 semantics): shape STREAM.

Both directions of one connection are read as a sequence of messages (pipelined requests and their
responses) by :mod:`wardwatch.dissect._wire.http1` (RFC 9112 framing: header fields, bodies skipped,
bare LF tolerated, an incomplete last line dropped rather than reported half).

Kinds emitted:

* client (``ctx.src``; ``peer_ip`` the server): ``http.user_agent``, ``http.host`` (the Host header: the
  name the client talks to), ``http.basic_auth`` (the **user name only** of an ``Authorization: Basic``
  header; the password is never decoded into a value or an excerpt)
* server (``about_server``): ``http.server``, ``http.x_powered_by``, ``http.www_authenticate`` (the
  realm of a challenge), ``http.auth_scheme`` (the challenge scheme: Basic, Digest, NTLM ...)
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.text import Emitter, clean, clean_keep_space
from wardwatch.dissect._wire.http1 import _heads, is_request_line
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

_REALM = re.compile(rb'realm\s*=\s*(?:"([^"]*)"|([^\s,]+))', re.IGNORECASE)


def basic_auth_user(value: bytes) -> str | None:
    """The user name of an ``Authorization: Basic`` value (RFC 7617 §2); the password is discarded."""
    scheme, _, token = value.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = binascii.a2b_base64(token.strip())
    except (binascii.Error, ValueError):
        return None
    user, _, _password = decoded.partition(b":")
    return clean(user)


class HttpDissector:
    """HTTP/1.x requests and responses → client and server identity Observations."""

    name: ClassVar[str] = "http"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset({80, 8000, 8008, 8080, 8081, 8888, 3128})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """True when the first bytes are a request line (method token and a space) or a status line."""
        head = data[:256].split(b"\n", 1)[0].rstrip(b"\r")
        return is_request_line(head) or head.startswith((b"HTTP/1.0 ", b"HTTP/1.1 "))

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield the facts of every request and response found; ParseError if neither side is HTTP."""
        methods: list[bytes] = []
        requests = _heads(client, request=True, methods=methods)
        responses = _heads(server, request=False, methods=methods)
        if not requests and not responses and (client or server):
            raise ParseError("no HTTP/1.x request or status line")
        out = Emitter(ctx)
        for _start, fields in requests:
            self._request(out, fields)
        for _start, fields in responses:
            self._response(out, fields)
        yield from out.out

    @staticmethod
    def _request(out: Emitter, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            if name == b"user-agent":
                out.emit("http.user_agent", clean_keep_space(value))
            elif name == b"host":
                out.emit("http.host", clean_keep_space(value))
            elif name == b"authorization":
                user = basic_auth_user(value)
                if user is not None:
                    out.emit("http.basic_auth", user, excerpt=f"Authorization: Basic (user {user!r})")

    @staticmethod
    def _response(out: Emitter, headers: list[tuple[bytes, bytes]]) -> None:
        for name, value in headers:
            if name == b"server":
                out.emit("http.server", clean_keep_space(value), about_server=True)
            elif name == b"x-powered-by":
                out.emit("http.x_powered_by", clean_keep_space(value), about_server=True)
            elif name == b"www-authenticate":
                scheme = clean(value.split(b" ", 1)[0])
                out.emit("http.auth_scheme", scheme, about_server=True)
                match = _REALM.search(value)
                if match:
                    realm = match.group(1) if match.group(1) is not None else match.group(2)
                    out.emit("http.www_authenticate", clean_keep_space(realm), about_server=True,
                             excerpt=clean(value))


DISSECTOR = HttpDissector()

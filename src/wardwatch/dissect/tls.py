"""TLS identity dissector (RFC 5246, RFC 8446; SSL 3.0 RFC 6101): shape STREAM.

Each direction's records are read up to the first encrypted one; handshake messages are reassembled
across records (``_tls.records``). Facts:

* ClientHello (about the client; ``peer_ip`` is the server): ``tls.sni``, ``tls.alpn`` (comma-joined
  protocol names), ``tls.client_version`` (highest supported_versions entry, else the legacy version),
  ``tls.ja3`` and ``tls.ja3_string`` (salesforce/ja3), ``tls.ja4`` (FoxIO JA4).
* ServerHello (about the server): ``tls.version`` (negotiated: supported_versions if present, else the
  ServerHello version), ``tls.cipher`` (``0x002f``), ``tls.ja3s``, ``tls.ja3s_string``.
* Certificate, in clear only with TLS ≤ 1.2 (about whoever sent it, so a client certificate describes
  the client): ``tls.cert_subject``, ``tls.cert_issuer`` (RFC 4514), ``tls.cert_not_before``,
  ``tls.cert_not_after`` (ISO 8601 UTC ``2023-01-04T16:14:07Z``), ``tls.cert_sha256`` (of the DER),
  ``tls.cert_self_signed`` (``true``/``false``), ``tls.cert_san`` (one per DNS name).

Version names are ``SSL 2.0``, ``SSL 3.0``, ``TLS 1.0`` ... ``TLS 1.3`` (the wording tshark uses).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.text import Emitter, clean
from wardwatch.dissect._tls.certs import certificate_facts
from wardwatch.dissect._tls.fingerprints import (
    client_max_version,
    ja3_string,
    ja3s_string,
    ja4,
    md5_hex,
    version_name,
)
from wardwatch.dissect._tls.records import (
    CERTIFICATE,
    CLIENT_HELLO,
    SERVER_HELLO,
    first_certificate,
    handshake_bytes,
    handshake_messages,
    looks_like_record,
    parse_client_hello,
    parse_server_hello,
)
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError


class TlsDissector:
    """TLS handshakes in clear → client fingerprints, negotiated version, certificate identity."""

    name: ClassVar[str] = "tls"
    shape: ClassVar[InputShape] = InputShape.STREAM
    #: HTTPS, SMTPS/submission, LDAPS, FTPS, IMAPS, POP3S, SIP-TLS, DICOM-TLS (PS3.15 B.1), syslog-TLS.
    ports: ClassVar[frozenset[int]] = frozenset({443, 465, 636, 990, 993, 995, 2762, 5061, 6514, 8443})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """True for a handshake record header ``16 03 0x``."""
        return looks_like_record(data) and data[0] == 22

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield handshake facts of both directions; ParseError when neither starts with a TLS record."""
        out = Emitter(ctx)
        parsed = False
        for from_server, data in ((False, client), (True, server)):
            try:
                messages = list(handshake_messages(handshake_bytes(data)))
            except ParseError:
                continue  # e.g. an SSLv2-format ClientHello: the server side may still be TLS
            parsed = True
            for msg_type, body in messages:
                try:
                    self._message(out, msg_type, body, from_server)
                except ParseError:
                    continue  # one malformed message does not hide the others
        if not parsed:
            raise ParseError("neither direction starts with a TLS record")
        yield from out

    def _message(self, out: Emitter, msg_type: int, body: bytes, from_server: bool) -> None:
        if msg_type == CLIENT_HELLO and not from_server:
            hello = parse_client_hello(body)
            if hello.sni is not None:
                out.emit("tls.sni", clean(hello.sni.encode()))
            if hello.alpn:
                out.emit("tls.alpn", ",".join(clean(p) for p in hello.alpn))
            out.emit("tls.client_version", version_name(client_max_version(hello)))
            text = ja3_string(hello)
            out.emit("tls.ja3", md5_hex(text), excerpt=text)
            out.emit("tls.ja3_string", text)
            out.emit("tls.ja4", ja4(hello))
        elif msg_type == SERVER_HELLO and from_server:
            shello = parse_server_hello(body)
            negotiated = shello.selected_version or shello.version
            out.emit("tls.version", version_name(negotiated), about_server=True)
            out.emit("tls.cipher", f"0x{shello.cipher:04x}", about_server=True)
            text = ja3s_string(shello)
            out.emit("tls.ja3s", md5_hex(text), about_server=True, excerpt=text)
            out.emit("tls.ja3s_string", text, about_server=True)
        elif msg_type == CERTIFICATE:
            der = first_certificate(body)
            if der:
                for kind, value in certificate_facts(der):
                    out.emit(kind, value, about_server=from_server)


DISSECTOR = TlsDissector()

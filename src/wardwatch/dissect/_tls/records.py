"""TLS record layer and handshake parsing (RFC 5246 §6.2, §7.4; RFC 8446 §4, §5.1; SSL 3.0 RFC 6101).

Works on the in-order bytes of one direction: records may span TCP segments (the caller hands us the
reassembled stream) and handshake messages may span records, so the fragments of consecutive
handshake records are concatenated before messages are cut out. Reading stops at ChangeCipherSpec or
application data: what follows is encrypted (Finished in TLS ≤ 1.2, everything after ServerHello in
TLS 1.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from wardwatch.dissect._wire.reader import Reader
from wardwatch.errors import ParseError

# ContentType (RFC 5246 §6.2.1; heartbeat RFC 6520).
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA, HEARTBEAT = 20, 21, 22, 23, 24
# HandshakeType (RFC 5246 §7.4, RFC 8446 §4).
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE = 1, 2, 11
# ExtensionType (IANA TLS ExtensionType Values).
EXT_SNI, EXT_GROUPS, EXT_POINT_FORMATS, EXT_SIG_ALGS, EXT_ALPN, EXT_SUPPORTED_VERSIONS = 0, 10, 11, 13, 16, 43

#: Largest record fragment allowed (RFC 5246 §6.2.3: 2^14 + 2048) and the most handshake bytes kept.
MAX_FRAGMENT = 2**14 + 2048
MAX_HANDSHAKE = 256 * 1024


def looks_like_record(data: bytes) -> bool:
    """True when ``data`` starts with a TLS/SSLv3 record header (type 20–24, version 3.x, sane length)."""
    return (
        len(data) >= 5
        and CHANGE_CIPHER_SPEC <= data[0] <= HEARTBEAT
        and data[1] == 3
        and data[2] <= 4
        and int.from_bytes(data[3:5], "big") <= MAX_FRAGMENT
    )


def handshake_bytes(data: bytes) -> bytes:
    """Concatenated plaintext handshake fragments of one direction, up to the first encrypted record.

    Raises ParseError when ``data`` does not start with a TLS record.
    """
    if not looks_like_record(data):
        raise ParseError("not a TLS record header")
    out = bytearray()
    pos = 0
    while pos + 5 <= len(data) and len(out) < MAX_HANDSHAKE:
        if not looks_like_record(data[pos : pos + 5]):
            break  # lost framing (or garbage after the handshake): keep what we have
        content_type, length = data[pos], int.from_bytes(data[pos + 3 : pos + 5], "big")
        if content_type in (CHANGE_CIPHER_SPEC, APPLICATION_DATA):
            break
        if content_type == HANDSHAKE:
            out += data[pos + 5 : pos + 5 + length]  # may be short when the stream was cut
        pos += 5 + length
    return bytes(out)


def handshake_messages(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(msg_type, body) of each *complete* handshake message (RFC 5246 §7.4: type, uint24 length)."""
    pos = 0
    while pos + 4 <= len(data):
        msg_type, length = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        body = data[pos + 4 : pos + 4 + length]
        if len(body) < length:
            return  # cut by the byte budget
        yield msg_type, body
        pos += 4 + length


def u16_list(data: bytes) -> list[int]:
    """A vector body of uint16 values."""
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]


def _extensions(reader: Reader) -> list[tuple[int, bytes]]:
    if reader.remaining < 2:
        return []  # extensions are optional (RFC 5246 §7.4.1.2)
    block = Reader(reader.vector(2))
    out = []
    while block.remaining >= 4:
        ext_type = block.uint(2)
        out.append((ext_type, block.vector(2)))
    return out


@dataclass
class ClientHello:
    """The fields of a ClientHello that the fingerprints and identity facts use."""

    version: int
    ciphers: list[int]
    extensions: list[tuple[int, bytes]]
    sni: str | None = None
    alpn: list[bytes] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    point_formats: list[int] = field(default_factory=list)
    sig_algs: list[int] = field(default_factory=list)
    supported_versions: list[int] = field(default_factory=list)


@dataclass
class ServerHello:
    """The fields of a ServerHello used for the negotiated version and JA3S."""

    version: int
    cipher: int
    extensions: list[tuple[int, bytes]]
    selected_version: int | None = None


def parse_client_hello(body: bytes) -> ClientHello:
    """Parse a ClientHello body (RFC 8446 §4.1.2); ParseError on a malformed one."""
    r = Reader(body)
    version = r.uint(2)
    r.take(32)  # random
    r.vector(1)  # legacy_session_id
    ciphers = u16_list(r.vector(2))
    r.vector(1)  # compression methods
    hello = ClientHello(version, ciphers, _extensions(r))
    for ext_type, data in hello.extensions:
        ext = Reader(data)
        if ext_type == EXT_SNI and len(data) >= 5:
            names = Reader(ext.vector(2))
            while names.remaining >= 3:  # RFC 6066 §3: name_type, HostName<1..2^16-1>
                name_type, name = names.uint(1), names.vector(2)
                if name_type == 0:
                    hello.sni = name.decode("ascii", errors="replace")
                    break
        elif ext_type == EXT_ALPN and len(data) >= 2:
            protocols = Reader(ext.vector(2))  # RFC 7301 §3.1
            while protocols.remaining >= 1:
                hello.alpn.append(protocols.vector(1))
        elif ext_type == EXT_GROUPS and len(data) >= 2:
            hello.groups = u16_list(ext.vector(2))
        elif ext_type == EXT_POINT_FORMATS and len(data) >= 1:
            hello.point_formats = list(ext.vector(1))
        elif ext_type == EXT_SIG_ALGS and len(data) >= 2:
            hello.sig_algs = u16_list(ext.vector(2))
        elif ext_type == EXT_SUPPORTED_VERSIONS and len(data) >= 1:
            hello.supported_versions = u16_list(ext.vector(1))  # RFC 8446 §4.2.1
    return hello


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello body (RFC 8446 §4.1.3); ParseError on a malformed one."""
    r = Reader(body)
    version = r.uint(2)
    r.take(32)  # random
    r.vector(1)  # session id
    cipher = r.uint(2)
    r.uint(1)  # compression method
    hello = ServerHello(version, cipher, _extensions(r))
    for ext_type, data in hello.extensions:
        if ext_type == EXT_SUPPORTED_VERSIONS and len(data) == 2:
            hello.selected_version = int.from_bytes(data, "big")
    return hello


def first_certificate(body: bytes) -> bytes | None:
    """DER of the first certificate of a TLS ≤ 1.2 Certificate message (RFC 5246 §7.4.2), if whole."""
    r = Reader(body)
    chain = Reader(r.vector(3))
    if chain.remaining < 3:
        return None
    return chain.vector(3)

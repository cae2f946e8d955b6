"""Real local receivers for the delivery tests: syslog over UDP, TCP and TLS; an HTTP webhook endpoint.

Each runs in a thread on 127.0.0.1 with a kernel-chosen port and hands received messages to a queue.
The TLS certificate is self-signed, made with ``cryptography`` for ``localhost``/127.0.0.1.
"""

from __future__ import annotations

import datetime
import ipaddress
import queue
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files for CN=localhost with SANs localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def read_octet_counted(stream: socket.socket) -> Iterator[bytes]:
    """Split an RFC 6587 §3.4.1 octet-counted stream into messages."""
    buffer = b""
    while True:
        while b" " not in buffer:
            chunk = stream.recv(65536)
            if not chunk:
                return
            buffer += chunk
        length_text, _, rest = buffer.partition(b" ")
        length = int(length_text)
        while len(rest) < length:
            chunk = stream.recv(65536)
            if not chunk:
                return
            rest += chunk
        yield rest[:length]
        buffer = rest[length:]


@contextmanager
def syslog_receiver(transport: str, tls: tuple[Path, Path] | None = None) -> Iterator[tuple[int, queue.Queue[bytes]]]:
    """A syslog listener; yields (port, queue of received messages)."""
    received: queue.Queue[bytes] = queue.Queue()
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    server = socket.socket(socket.AF_INET, kind)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    if transport != "udp":
        server.listen()  # before the client may connect
    stop = threading.Event()

    def serve() -> None:
        if transport == "udp":
            while not stop.is_set():
                try:
                    data, _ = server.recvfrom(65536)
                except OSError:
                    return
                received.put(data)
            return
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if tls is not None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(str(tls[0]), str(tls[1]))
                try:
                    conn = context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    continue
            threading.Thread(target=lambda c=conn: [received.put(m) for m in read_octet_counted(c)],
                             daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, received
    finally:
        stop.set()
        server.close()


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    """An HTTP server; yields (URL, queue of (headers, raw body))."""
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.put(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()

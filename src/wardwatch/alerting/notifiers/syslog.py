"""Syslog delivery of CEF alerts over UDP (RFC 5426), TCP (RFC 6587 octet counting) and TLS (RFC 5425).

UDP: one message per datagram. TCP and TLS: octet-counting framing ``MSG-LEN SP SYSLOG-MSG`` (RFC 5425
§4.3, RFC 6587 §3.4.1), so a message may contain line breaks. The stream connection is kept open
between alerts and re-opened once if the peer closed it.
"""

from __future__ import annotations

import socket
import ssl
import threading

from wardwatch.alerting.notifiers.cef import FACILITY_LOCAL0, rfc5424
from wardwatch.alerting.notifiers.interface import NotifyError
from wardwatch.domain.alert import Alert

TRANSPORTS = ("udp", "tcp", "tls")


def frame(message: str) -> bytes:
    """Octet-counted frame of one message."""
    data = message.encode("utf-8")
    return str(len(data)).encode() + b" " + data


class SyslogNotifier:
    """Notifier ``syslog``."""

    name = "syslog"

    def __init__(self, host: str, port: int = 514, *, transport: str = "udp", ca_file: str | None = None,
                 server_name: str | None = None, facility: int = FACILITY_LOCAL0, hostname: str | None = None,
                 timeout: float = 5.0) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}")
        self.host, self.port, self.transport = host, port, transport
        self.ca_file, self.server_name = ca_file, server_name
        self.facility, self.hostname, self.timeout = facility, hostname, timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        if self.transport == "tls":
            context = ssl.create_default_context(cafile=self.ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 5425 §4.2 asks for TLS; 1.2 at least
            sock = context.wrap_socket(sock, server_hostname=self.server_name or self.host)
        return sock

    def send(self, alert: Alert) -> None:
        """Deliver one alert."""
        message = rfc5424(alert, facility=self.facility, hostname=self.hostname)
        try:
            if self.transport == "udp":
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                with socket.socket(family, socket.SOCK_DGRAM) as sock:
                    sock.sendto(message.encode("utf-8")[:65000], (self.host, self.port))
                return
            with self._lock:
                for attempt in (1, 2):
                    try:
                        if self._sock is None:
                            self._sock = self._connect()
                        self._sock.sendall(frame(message))
                        return
                    except OSError:
                        self.close()
                        if attempt == 2:
                            raise
        except (OSError, ssl.SSLError) as exc:
            raise NotifyError(f"syslog {self.transport}://{self.host}:{self.port}: {exc}") from None

    def close(self) -> None:
        """Close the stream connection."""
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

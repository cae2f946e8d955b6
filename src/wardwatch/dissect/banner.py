"""Cleartext service banners: SSH, FTP, Telnet, SMTP. Shape STREAM.

* SSH (RFC 4253 §4.2): the identification string ``SSH-protoversion-softwareversion SP comments`` of
  each side → ``ssh.banner`` about the side that sent it (a server may send other lines first).
* FTP (RFC 959 §4.2): the 220 greeting → ``ftp.banner`` (about the server; multi-line replies joined);
  ``USER name`` → ``ftp.user`` (about the client); a ``PASS`` command in clear →
  ``ftp.cleartext_password`` = ``true`` (about the client). The password itself is never read.
* SMTP (RFC 5321 §4.2, §4.1.1.1): the 220 greeting → ``smtp.banner`` (server); ``EHLO``/``HELO`` name →
  ``smtp.ehlo`` (client).
* Telnet (RFC 854): IAC option negotiation (``FF FB..FE xx``) → ``telnet.seen`` = ``true`` (server), and
  the printable text the server sends with the IAC sequences removed (a login prompt) →
  ``telnet.banner``.

FTP and SMTP both greet with 220; the client's commands decide, then the port, then the greeting text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from wardwatch.dissect._ident.text import Emitter, clean
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

IAC = 0xFF
#: Telnet negotiation verbs WILL, WONT, DO, DONT (RFC 854) and sub-negotiation SB ... SE.
NEGOTIATION = frozenset({0xFB, 0xFC, 0xFD, 0xFE})
SB, SE = 0xFA, 0xF0
#: Lines read per direction (hostile peers send endless lines).
MAX_LINES = 64
FTP_PORTS = frozenset({21, 2121})
SMTP_PORTS = frozenset({25, 465, 587, 2525})
TELNET_PORTS = frozenset({23, 2323})
_FTP_COMMANDS = (b"USER ", b"PASS ", b"SYST", b"FEAT", b"PASV", b"EPSV", b"TYPE ", b"PWD", b"CWD ")
_SMTP_COMMANDS = (b"EHLO ", b"HELO ", b"MAIL FROM", b"RCPT TO", b"STARTTLS")
_TELNET_NEGOTIATION = re.compile(rb"\xff[\xfb-\xfe]")


def lines(data: bytes) -> list[bytes]:
    """Complete CRLF/LF-terminated lines (without terminators), at most ``MAX_LINES``."""
    out = data.split(b"\n")[:-1][:MAX_LINES]
    return [line.rstrip(b"\r") for line in out]


def ssh_banner(data: bytes) -> str | None:
    """The SSH identification string among the first lines (RFC 4253 §4.2), if any."""
    for line in lines(data[:8192])[:16]:
        if line.startswith(b"SSH-"):
            return clean(line[:255])
    return None


def greeting(data: bytes) -> str | None:
    """Text of a 220 greeting, multi-line continuation lines (``220-``) joined by spaces."""
    parts: list[str] = []
    for line in lines(data[:8192]):
        if line[:4] == b"220-":
            parts.append(clean(line[4:]))
        elif line[:3] == b"220" and line[3:4] in (b" ", b""):
            parts.append(clean(line[4:]))
            return " ".join(p for p in parts if p)
        elif parts:
            parts.append(clean(line))  # RFC 959 §4.2: inner lines of a multi-line reply need no code
        else:
            return None
    return None


def strip_telnet(data: bytes) -> bytes:
    """Data with IAC commands, negotiations and sub-negotiations removed (RFC 854, RFC 855)."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte != IAC:
            out.append(byte)
            i += 1
        elif i + 1 < len(data) and data[i + 1] == IAC:  # escaped 0xFF data byte
            out.append(IAC)
            i += 2
        elif i + 1 < len(data) and data[i + 1] in NEGOTIATION:
            i += 3
        elif i + 1 < len(data) and data[i + 1] == SB:
            end = data.find(bytes([IAC, SE]), i + 2)
            i = len(data) if end < 0 else end + 2
        else:
            i += 2
    return bytes(out)


class BannerDissector:
    """Greeting and identification lines of SSH, FTP, SMTP and Telnet."""

    name: ClassVar[str] = "banner"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset({21, 22, 23, 25, 587, 2222, 2323})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """SSH identification, a 220 greeting, an FTP/SMTP opening command, or Telnet negotiation."""
        head = data[:16]
        if head.startswith((b"SSH-1.", b"SSH-2.", b"220 ", b"220-")):
            return True
        if head.upper().startswith((b"EHLO ", b"HELO ")):
            return True
        if head.upper().startswith(b"USER ") and ctx.dst_port in FTP_PORTS:
            return True
        return _TELNET_NEGOTIATION.match(head) is not None

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Yield banner facts; ParseError when neither side looks like any of the four protocols."""
        out = Emitter(ctx)
        client_ssh, server_ssh = ssh_banner(client), ssh_banner(server)
        if client_ssh or server_ssh:
            out.emit("ssh.banner", client_ssh or "")
            out.emit("ssh.banner", server_ssh or "", about_server=True)
            yield from out
            return
        text = greeting(server)
        if text is not None:
            protocol = self._ftp_or_smtp(ctx, client, text)
            if protocol == "ftp":
                self._ftp(out, client, text)
            elif protocol == "smtp":
                self._smtp(out, client, text)
            yield from out
            return
        if self._telnet(out, ctx, client, server):
            yield from out
            return
        raise ParseError("no SSH identification, 220 greeting or Telnet negotiation")

    @staticmethod
    def _ftp_or_smtp(ctx: FlowContext, client: bytes, text: str) -> str | None:
        first = client[:16].upper()
        if first.startswith(_SMTP_COMMANDS):
            return "smtp"
        if first.startswith(_FTP_COMMANDS):
            return "ftp"
        if ctx.dst_port in SMTP_PORTS:
            return "smtp"
        if ctx.dst_port in FTP_PORTS:
            return "ftp"
        upper = text.upper()
        if "SMTP" in upper:
            return "smtp"
        if "FTP" in upper:
            return "ftp"
        return None

    @staticmethod
    def _ftp(out: Emitter, client: bytes, text: str) -> None:
        out.emit("ftp.banner", text, about_server=True)
        for line in lines(client):
            command, _, argument = line.partition(b" ")
            if command.upper() == b"USER":
                out.emit("ftp.user", clean(argument))
            elif command.upper() == b"PASS":
                out.emit("ftp.cleartext_password", "true", excerpt="PASS (redacted)")

    @staticmethod
    def _smtp(out: Emitter, client: bytes, text: str) -> None:
        out.emit("smtp.banner", text, about_server=True)
        for line in lines(client):
            command, _, argument = line.partition(b" ")
            if command.upper() in (b"EHLO", b"HELO"):
                out.emit("smtp.ehlo", clean(argument))

    @staticmethod
    def _telnet(out: Emitter, ctx: FlowContext, client: bytes, server: bytes) -> bool:
        negotiated = any(_TELNET_NEGOTIATION.search(side[:256]) for side in (client, server))
        if not negotiated and ctx.dst_port not in TELNET_PORTS:
            return False
        if negotiated:
            out.emit("telnet.seen", "true", about_server=True)
        prompt = clean(strip_telnet(server[:2048]), encoding="latin-1")
        if prompt and sum(ch.isprintable() for ch in prompt) == len(prompt):
            out.emit("telnet.banner", prompt, about_server=True)
        return negotiated or bool(prompt)


DISSECTOR = BannerDissector()

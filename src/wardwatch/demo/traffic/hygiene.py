"""Cleartext and legacy protocols that hygiene checks should flag: Telnet, FTP, HTTP Basic, SMBv1."""

from __future__ import annotations

import base64
import struct

IAC, DO, WILL = 255, 253, 251


def telnet_session(user: str, password: str, banner: str) -> list[tuple[bool, bytes]]:
    """A Telnet login (RFC 854/857/858): option negotiation, login and password in clear.

    Items are (from_client, bytes) in order.
    """
    return [
        (False, bytes((IAC, DO, 24, IAC, DO, 32, IAC, DO, 31))),          # terminal type, speed, NAWS
        (True, bytes((IAC, WILL, 24, IAC, WILL, 31))),
        (False, bytes((IAC, WILL, 1, IAC, WILL, 3)) + f"\r\n{banner}\r\nlogin: ".encode()),  # echo, SGA
        (True, user.encode() + b"\r\n"),
        (False, b"Password: "),
        (True, password.encode() + b"\r\n"),
        (False, b"\r\nBusyBox v1.22.1 built-in shell (ash)\r\n# "),
        (True, b"exit\r\n"),
    ]


def ftp_session(user: str, password: str, server_banner: str, filename: str) -> list[tuple[bool, bytes]]:
    """An FTP control connection (RFC 959 §4.2) with USER/PASS in clear, then QUIT."""
    return [
        (False, f"220 {server_banner}\r\n".encode()),
        (True, f"USER {user}\r\n".encode()),
        (False, b"331 Password required for user.\r\n"),
        (True, f"PASS {password}\r\n".encode()),
        (False, b"230 User logged in.\r\n"),
        (True, f"SIZE {filename}\r\n".encode()),
        (False, b"550 The system cannot find the file specified.\r\n"),
        (True, b"QUIT\r\n"),
        (False, b"221 Goodbye.\r\n"),
    ]


def http_basic(host: str, path: str, user: str, password: str, user_agent: str, server: str,
               realm: str) -> list[tuple[bool, bytes]]:
    """An HTTP/1.1 GET with Basic credentials (RFC 7617) and the 200 answer."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    body = f"<html><head><title>{realm}</title></head><body>Status: OK</body></html>".encode()
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
               f"Authorization: Basic {token}\r\nAccept: */*\r\nConnection: close\r\n\r\n").encode()
    response = (f"HTTP/1.1 200 OK\r\nServer: {server}\r\nContent-Type: text/html\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    return [(True, request), (False, response)]


def http_post(host: str, path: str, user_agent: str, body: bytes) -> list[tuple[bool, bytes]]:
    """A cleartext HTTP POST to an internet host and its 200 reply."""
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    reply = b'{"status":"ok"}'
    response = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(reply)}\r\n\r\n"
                ).encode() + reply
    return [(True, request), (False, response)]


_DIALECTS = ("PC NETWORK PROGRAM 1.0", "LANMAN1.0", "Windows for Workgroups 3.1a", "LM1.2X002",
             "LANMAN2.1", "NT LM 0.12")


def _nbss(payload: bytes) -> bytes:
    return struct.pack("!BBH", 0, 0, len(payload)) + payload  # RFC 1002 §4.3.1 session message


def _smb_header(flags: int, flags2: int, pid: int, mid: int) -> bytes:
    # [MS-CIFS] §2.2.3.1: protocol, command 0x72 (NEGOTIATE), status, flags, flags2, PIDHigh,
    # SecurityFeatures, reserved, TID, PIDLow, UID, MID.
    return (b"\xffSMB" + struct.pack("<BIBH", 0x72, 0, flags, flags2) + struct.pack("<H", 0) + b"\0" * 8
            + struct.pack("<HHHHH", 0, 0xFFFF, pid, 0, mid))


def smb1_negotiate(pid: int) -> bytes:
    """An SMB_COM_NEGOTIATE request offering only SMB1 dialects ([MS-CIFS] §2.2.4.52.1)."""
    dialects = b"".join(b"\x02" + d.encode() + b"\x00" for d in _DIALECTS)
    return _nbss(_smb_header(0x18, 0xC853, pid, 0) + b"\x00" + struct.pack("<H", len(dialects)) + dialects)


def smb1_negotiate_response(pid: int, domain: str, server: str, challenge: bytes) -> bytes:
    """The NT LM 0.12 negotiate response, non-extended security ([MS-CIFS] §2.2.4.52.2)."""
    words = struct.pack("<HBHHIIII", 5, 0x03, 50, 1, 16644, 65536, 0, 0x0000E3FD)
    words += struct.pack("<QhB", 0, 0, 8)
    data = challenge[:8] + (domain + "\0").encode("utf-16-le") + (server + "\0").encode("utf-16-le")
    return _nbss(_smb_header(0x98, 0xC853, pid, 0) + b"\x11" + words + struct.pack("<H", len(data)) + data)

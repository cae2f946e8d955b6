"""Banner dissector (SSH, FTP, SMTP, Telnet): golden exchanges, differential against tshark, real
clients (OpenSSH ``ssh``, ``curl``) on loopback, fuzz."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.dissect_fuzz import mutated, run_contract
from tests.support.streams import write_tcp_pcap
from tests.support.tshark import fields
from wardwatch.dissect.banner import DISSECTOR
from wardwatch.dissect.interface import FlowContext
from wardwatch.errors import ParseError


def ctx(port: int) -> FlowContext:
    return FlowContext(ts=1.0, sensor="t", proto=6, src_mac=None, dst_mac=None, src_ip="10.0.0.1",
                       dst_ip="10.0.0.2", src_port=40000, dst_port=port)


def facts(port: int, client: bytes, server: bytes) -> set[tuple[str, str, bool]]:
    return {(o.kind, o.value, o.ip == "10.0.0.2") for o in DISSECTOR.dissect(ctx(port), client, server)}


SSH_CLIENT = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n\x00\x00\x05\xdc\x06\x14"  # then binary KEXINIT
SSH_SERVER = b"SSH-2.0-dropbear_2020.81\r\n"
FTP_SERVER = (b"220-Welcome to the PACS archive\r\n220-Authorized use only\r\n220 ProFTPD 1.3.5 Server\r\n"
              b"331 Password required\r\n230 Logged in\r\n")
FTP_CLIENT = b"USER radiology\r\nPASS Secr3t!\r\nSYST\r\n"
SMTP_SERVER = b"220 mail.ward.local ESMTP Postfix (Debian/GNU)\r\n250-mail.ward.local\r\n250 8BITMIME\r\n"
SMTP_CLIENT = b"EHLO monitor-12.ward.local\r\nQUIT\r\n"
# IAC DO TERMINAL-TYPE (FF FD 18), IAC WILL ECHO (FF FB 01), then a login prompt.
TELNET_SERVER = b"\xff\xfd\x18\xff\xfb\x01\r\nAcme Ventilator V60 maintenance\r\nlogin: "
TELNET_CLIENT = b"\xff\xfc\x18\xff\xfd\x01"


def test_ssh_both_directions() -> None:
    assert facts(22, SSH_CLIENT, SSH_SERVER) == {
        ("ssh.banner", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3", False),
        ("ssh.banner", "SSH-2.0-dropbear_2020.81", True),
    }


def test_ssh_server_may_send_lines_before_its_identification() -> None:
    server = b"Hello from the gateway\r\nSSH-1.99-Cisco-1.25\r\n"
    assert ("ssh.banner", "SSH-1.99-Cisco-1.25", True) in facts(22, b"", server)


def test_ftp_greeting_user_and_cleartext_password() -> None:
    got = facts(21, FTP_CLIENT, FTP_SERVER)
    assert got == {
        ("ftp.banner", "Welcome to the PACS archive Authorized use only ProFTPD 1.3.5 Server", True),
        ("ftp.user", "radiology", False),
        ("ftp.cleartext_password", "true", False),
    }
    assert all("Secr3t" not in repr(o) for o in DISSECTOR.dissect(ctx(21), FTP_CLIENT, FTP_SERVER))


def test_smtp_greeting_and_ehlo_on_any_port() -> None:
    # The client's EHLO decides SMTP even on an unusual port.
    assert facts(10025, SMTP_CLIENT, SMTP_SERVER) == {
        ("smtp.banner", "mail.ward.local ESMTP Postfix (Debian/GNU)", True),
        ("smtp.ehlo", "monitor-12.ward.local", False),
    }


def test_telnet_negotiation_and_prompt() -> None:
    assert facts(23, TELNET_CLIENT, TELNET_SERVER) == {
        ("telnet.seen", "true", True),
        ("telnet.banner", "Acme Ventilator V60 maintenance login:", True),
    }


def test_detect_and_refuse() -> None:
    assert DISSECTOR.detect(SSH_CLIENT, ctx(2222))
    assert DISSECTOR.detect(SMTP_CLIENT, ctx(25))
    assert DISSECTOR.detect(FTP_SERVER, ctx(21))
    assert DISSECTOR.detect(TELNET_SERVER, ctx(23))
    assert not DISSECTOR.detect(b"GET / HTTP/1.1\r\n", ctx(80))
    with pytest.raises(ParseError):
        list(DISSECTOR.dissect(ctx(8080), b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n"))


# --- differential against tshark -----------------------------------------------------------------

def _pcap(tmp_path: Path, port: int, exchange: list[tuple[bool, bytes]]) -> Path:
    capture = tmp_path / f"banner{port}.pcap"
    write_tcp_pcap(capture, exchange, server=("10.0.0.2", port))
    return capture


def _values(tshark: str, capture: Path, display_filter: str, field: str) -> list[str]:
    return [v for row in fields(tshark, capture, display_filter, field) for v in row[0].split("|") if v]


def test_ssh_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = _pcap(tmp_path, 22, [(False, SSH_SERVER), (True, SSH_CLIENT[:32])])
    theirs = {(v, i == 0) for i, v in enumerate(_values(tshark, capture, "ssh.protocol", "ssh.protocol"))}
    assert facts(22, SSH_CLIENT[:32], SSH_SERVER) == {("ssh.banner", v, s) for v, s in theirs}


def test_ftp_equals_tshark(tshark: str, tmp_path: Path) -> None:
    greet_end = FTP_SERVER.index(b"331")
    pass_end = FTP_SERVER.index(b"230")
    exchange = [(False, FTP_SERVER[:greet_end]), (True, b"USER radiology\r\n"),
                (False, FTP_SERVER[greet_end:pass_end]), (True, b"PASS Secr3t!\r\n"),
                (False, FTP_SERVER[pass_end:])]
    capture = _pcap(tmp_path, 21, exchange)
    greeting = _values(tshark, capture, "ftp.response.code == 220", "ftp.response.arg")
    (user,) = _values(tshark, capture, 'ftp.request.command == "USER"', "ftp.request.arg")
    assert _values(tshark, capture, 'ftp.request.command == "PASS"', "ftp.request.command") == ["PASS"]
    got = facts(21, FTP_CLIENT, FTP_SERVER)
    # tshark gives the argument of the first line only; later lines of the multi-line reply are text.
    (banner,) = [v for k, v, _ in got if k == "ftp.banner"]
    assert greeting and banner.startswith(greeting[0])
    assert ("ftp.user", user, False) in got


def test_smtp_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = _pcap(tmp_path, 25, [(False, SMTP_SERVER[:49]), (True, SMTP_CLIENT[:28]),
                                   (False, SMTP_SERVER[49:])])
    (banner,) = _values(tshark, capture, "smtp.response.code == 220", "smtp.rsp.parameter")
    (ehlo,) = _values(tshark, capture, 'smtp.req.command == "EHLO"', "smtp.req.parameter")
    assert facts(25, SMTP_CLIENT, SMTP_SERVER) == {("smtp.banner", banner, True), ("smtp.ehlo", ehlo, False)}


def test_telnet_equals_tshark(tshark: str, tmp_path: Path) -> None:
    capture = _pcap(tmp_path, 23, [(False, TELNET_SERVER), (True, TELNET_CLIENT)])
    commands = _values(tshark, capture, "telnet", "telnet.cmd")
    assert commands  # tshark sees the negotiation that makes telnet.seen true
    data = " ".join(" ".join(_values(tshark, capture, "telnet.data", "telnet.data")).replace("\\r\\n", " ")
                    .split())
    assert ("telnet.banner", data, True) in facts(23, TELNET_CLIENT, TELNET_SERVER)


# --- real clients on loopback --------------------------------------------------------------------

def _serve_once(
    greeting: bytes, replies: dict[bytes, bytes], done: Callable[[bytes], bool]
) -> tuple[int, list[bytes], threading.Thread]:
    """A one-connection TCP server: sends ``greeting``, answers lines by prefix, records what came,
    and hangs up once ``done(all bytes received)`` is true."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    received: list[bytes] = []

    def run() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            conn.settimeout(10)
            conn.sendall(greeting)
            buffer = b""
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                buffer += chunk
                received.append(chunk)
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    reply = next((r for p, r in replies.items() if line.upper().startswith(p)), None)
                    if reply is not None:
                        conn.sendall(reply)
                if done(b"".join(received)):
                    break

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], received, thread


def test_real_openssh_client_banner() -> None:
    ssh = shutil.which("ssh")
    if ssh is None:
        pytest.skip("OpenSSH client not installed")
    port, received, thread = _serve_once(SSH_SERVER, {}, lambda got: b"\n" in got)
    subprocess.run([ssh, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=5",
                    "-o", "UserKnownHostsFile=/dev/null", "-p", str(port), "probe@127.0.0.1", "true"],
                   capture_output=True, timeout=30, check=False)
    thread.join(20)
    version = subprocess.run([ssh, "-V"], capture_output=True, text=True, check=True).stderr.split(",")[0]
    got = facts(22, b"".join(received), SSH_SERVER)
    client_banner = next(v for k, v, server in got if k == "ssh.banner" and not server)
    assert client_banner.startswith("SSH-2.0-" + version.strip())


def test_real_curl_ftp_client() -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not installed")
    port, received, thread = _serve_once(
        b"220 Acme PACS FTP ready\r\n",
        {b"USER": b"331 Password required\r\n", b"PASS": b"530 Login incorrect\r\n"},
        lambda got: b"PASS" in got and got.endswith(b"\n"),
    )
    subprocess.run([curl, "-s", "--max-time", "10", "-u", "tech:hunter2", f"ftp://127.0.0.1:{port}/"],
                   capture_output=True, timeout=30, check=False)
    thread.join(20)
    client = b"".join(received)
    got = facts(21, client, b"220 Acme PACS FTP ready\r\n")
    assert got == {("ftp.banner", "Acme PACS FTP ready", True), ("ftp.user", "tech", False),
                   ("ftp.cleartext_password", "true", False)}


# --- fuzz ----------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(port=st.sampled_from([21, 22, 23, 25, 8080]),
       client=st.one_of(st.binary(max_size=300), mutated(FTP_CLIENT), mutated(SMTP_CLIENT), mutated(SSH_CLIENT)),
       server=st.one_of(st.binary(max_size=300), mutated(FTP_SERVER), mutated(SMTP_SERVER),
                        mutated(TELNET_SERVER), mutated(SSH_SERVER)))
def test_fuzz(port: int, client: bytes, server: bytes) -> None:
    run_contract(DISSECTOR, ctx(port), client, server)

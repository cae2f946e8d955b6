"""Deterministic tcpdump captures for tests.

``capture(path, bpf)`` starts ``tcpdump -U --immediate-mode`` and returns once tcpdump printed its
"listening on" line (so nothing sent inside the block is missed). On exit it sends a sentinel UDP
datagram that the filter also admits, waits until that datagram is in the file (so every earlier packet
is written: tcpdump writes in order with ``-U``), then stops tcpdump with SIGINT and waits for it.
No sleeps: both waits are on conditions, with deadlines that fail the test.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SENTINEL = b"wardwatch-capture-sentinel"
#: Generous deadlines: a loaded CI machine with 2 cores.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel considers free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tcpdump_path() -> str | None:
    """The tcpdump binary, if installed."""
    return shutil.which("tcpdump")


def _wait_listening(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + START_TIMEOUT
    seen = b""
    fd = proc.stderr.fileno()
    while b"listening on" not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"tcpdump did not start: {seen.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                continue
            seen += chunk


def _wait_for_bytes(path: Path, needle: bytes, proc: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) until ``needle`` is in the capture file; tcpdump flushes each packet with -U."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and needle in path.read_bytes():
            return
        if proc.poll() is not None:
            break
        select.select([], [], [], 0.02)  # yield the CPU between polls of the condition
    raise RuntimeError("the capture sentinel never reached the pcap file")


@contextmanager
def capture(
    path: Path,
    bpf: str,
    *,
    iface: str = "lo",
    prefix: Sequence[str] = (),
    sentinel_port: int | None = None,
    send_sentinel: bool = True,
) -> Iterator[Path]:
    """Capture ``bpf`` on ``iface`` into ``path`` while the block runs.

    ``prefix`` runs tcpdump under another command (``["ip", "netns", "exec", NS]``). There this
    process cannot reach the namespace's loopback, so the caller passes ``send_sentinel=False`` and
    ``sentinel_port``, and the code inside the block sends :data:`SENTINEL` to 127.0.0.1 on that
    port from within the namespace as its last act.
    """
    tcpdump = tcpdump_path()
    if tcpdump is None:
        raise RuntimeError("tcpdump is not installed")
    port = sentinel_port or free_port(socket.SOCK_DGRAM)
    full_filter = f"({bpf}) or (udp and dst port {port})"
    cmd = [*prefix, tcpdump, "-i", iface, "-U", "--immediate-mode", "-n", "-s", "0", "-w", str(path),
           full_filter]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(proc)
        yield path
        if send_sentinel:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(SENTINEL, ("127.0.0.1", port))
        _wait_for_bytes(path, SENTINEL, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

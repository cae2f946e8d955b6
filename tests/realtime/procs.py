"""Subprocess helpers of the real-time tests: start wardwatch commands, poll with bounded loops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(args: Sequence[str], *, log: Path, prefix: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """Start ``python ARGS`` (optionally behind ``prefix``, e.g. ``ip netns exec NS``), output to ``log``."""
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{ROOT / 'src'}")
    handle = log.open("ab")
    return subprocess.Popen([*prefix, sys.executable, *args], stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=env)


def realtime(*args: str) -> list[str]:
    """Arguments running the real-time CLI module."""
    return ["-m", "wardwatch.cli.realtime_cmd", *args]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds (a bounded loop, not a sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal ``proc`` and wait; kill it if it does not end."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()

"""Time to dashboard: ``wardwatch demo`` from a cold start until the dashboard answers a logged-in admin.

Run it with the Python of a fresh virtual environment that installed wardwatch the README's way::

    python3 -m venv /tmp/v && /tmp/v/bin/pip install /work/main
    /tmp/v/bin/python bench/demo_time.py [--write]

Two figures: ``wardwatch demo --no-serve`` wall time (prepare only), and the wall time from starting
``wardwatch demo --port 0`` until ``GET /`` returns the dashboard after logging in. Each run uses a fresh
work folder and database (the capture is generated, not reused). ``--write`` replaces the
"## Demo: time to dashboard" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from results_md import replace_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Demo: time to dashboard"
PASSWORD = "bench-demo-password"


def demo_argv(*args: str) -> list[str]:
    """``wardwatch demo ARGS``."""
    return [sys.executable, "-m", "wardwatch.cli", "demo", *args]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDWATCH_")}
    env.update(XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"))
    return env


def time_prepare(devices: int) -> tuple[float, dict[str, float]]:
    """Wall time of ``wardwatch demo --no-serve --json`` and the seconds of each step."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run(demo_argv("--no-serve", "--json", "--devices", str(devices), "--demo-password",
                                       PASSWORD), capture_output=True, text=True, check=True,
                             env=_env(Path(tmp))).stdout
        wall = time.perf_counter() - t0
    summary = json.loads(out)
    return wall, {s["name"]: s["seconds"] for s in summary["steps"]}


def time_dashboard(devices: int) -> float:
    """Seconds from starting ``wardwatch demo`` until a logged-in ``GET /`` answers 200."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen(demo_argv("--json", "--port", "0", "--devices", str(devices), "--demo-password",
                                          PASSWORD), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=_env(Path(tmp)))
        try:
            assert proc.stderr is not None
            sel = selectors.DefaultSelector()
            sel.register(proc.stderr, selectors.EVENT_READ)
            base = None
            while base is None and sel.select(timeout=300):
                line = proc.stderr.readline()
                if not line:
                    break
                m = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
                base = m.group(1) if m else None
            if base is None:
                raise SystemExit("the demo never served")
            with httpx.Client(base_url=base, timeout=60) as client:
                form = client.get("/login").text
                token = re.search(r'name="csrf_token"\s+value="([^"]+)"', form)
                client.post("/login", data={"username": "demo-admin", "password": PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
                answer = client.get("/")
                answer.raise_for_status()
            return time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Measure and print (and with ``--write`` record)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=400)
    p.add_argument("--write", action="store_true")
    a = p.parse_args(argv)
    prepare, per_step = time_prepare(a.devices)
    dashboard = time_dashboard(a.devices)
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in per_step.items())
    lines = [
        HEADING, "",
        f"`bench/demo_time.py` with the Python of a fresh venv (`python3 -m venv /tmp/v && /tmp/v/bin/pip install "
        f"/work/main`), default demo ({a.devices} devices), cold: new work folder and database each run, 2 cores "
        "shared with other jobs.", "",
        "| measure | seconds |", "|---|---|",
        f"| `wardwatch demo --no-serve` (prepare only) | {prepare:.1f} |",
        f"| `wardwatch demo` until a logged-in `GET /` answers | {dashboard:.1f} |", "",
        f"Steps of the prepare run: {steps}.", "",
    ]
    print("\n".join(lines))
    if a.write:
        replace_section("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

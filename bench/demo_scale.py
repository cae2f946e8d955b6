"""The demo hospital at scale: generate a 100 000-device capture, analyze it, record time, size and memory.

Generation runs in its own process (skipped when the capture and its truth already exist), analysis in
another, so the peak RSS reported is the analyzer's alone (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of
that child). The inventory is a fresh SQLite file; its size is measured after the run.

    .venv/bin/python bench/demo_scale.py --devices 100000 [--workdir /work/bench-data/demo] [--write]

``--write`` replaces the "## Demo at scale" section of bench/RESULTS.md. Outputs never go into the repo.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from results_md import replace_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Demo at scale"


def _child(args: list[str]) -> tuple[dict[str, Any], float]:
    """Run this script in a child process; its JSON answer and its peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(out.splitlines()[-1]), max(after, before) / 1024


def generate(devices: int, seed: int, capture: Path) -> dict[str, Any]:
    """Child: generate the capture."""
    from wardwatch.demo import generate_hospital

    s = generate_hospital(devices, seed, capture)
    return {"packets": s.packets, "bytes": s.bytes, "seconds": s.elapsed_s}


def analyze(capture: Path, db: Path) -> dict[str, Any]:
    """Child: analyze the capture into a fresh SQLite inventory with the built-in rules."""
    from wardwatch.demo.run.steps import open_inventory
    from wardwatch.pipeline.analyze import analyze_captures

    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    inventory = open_inventory(f"sqlite:///{db}")
    report = analyze_captures([capture], inventory)
    seconds = time.perf_counter() - t0
    classified = inventory.count_devices()
    inventory.close()
    return {"seconds": seconds, "packets": report.packets, "devices": report.devices_total,
            "flows": sum(f.flows for f in report.files), "observations": sum(f.observations for f in report.files),
            "inventory_devices": classified}


def main(argv: list[str] | None = None) -> int:
    """Generate (if needed), analyze, report."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=Path("/work/bench-data/demo"))
    p.add_argument("--capture", type=Path, default=None, help="an existing demo capture (its truth beside it)")
    p.add_argument("--write", action="store_true")
    p.add_argument("--child", choices=("generate", "analyze"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    capture = a.capture or a.workdir / f"hospital-{a.devices // 1000}k.pcapng"
    db = capture.with_suffix(".db")
    if a.child == "generate":
        print(json.dumps(generate(a.devices, a.seed, capture)))
        return 0
    if a.child == "analyze":
        print(json.dumps(analyze(capture, db)))
        return 0
    a.workdir.mkdir(parents=True, exist_ok=True)
    common = ["--devices", str(a.devices), "--seed", str(a.seed), "--capture", str(capture)]
    if not (capture.is_file() and capture.with_suffix(".truth.json").is_file()):
        gen, _ = _child([*common, "--child", "generate"])
        print(f"generated {gen['packets']} packets in {gen['seconds']:.0f} s", file=sys.stderr)
    result, rss = _child([*common, "--child", "analyze"])
    size = sum(f.stat().st_size for f in db.parent.glob(db.name + "*"))
    lines = [
        HEADING, "",
        f"`bench/demo_scale.py --devices {a.devices}`: the demo generator's {a.devices:,}-device hospital "
        f"({capture.stat().st_size / 2**20:,.0f} MiB pcapng, {result['packets']:,} packets), analyzed by the full "
        "pipeline with the built-in rules into a fresh SQLite inventory on this machine (2 cores shared with other "
        "jobs, so wall times are upper bounds).", "",
        "| devices | packets | flows | observations | inventory devices | analyze s | packets/s | database MiB "
        "| peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {a.devices:,} | {result['packets']:,} | {result['flows']:,} | {result['observations']:,} "
        f"| {result['devices']:,} | {result['seconds']:.0f} | {result['packets'] / result['seconds']:,.0f} "
        f"| {size / 2**20:,.0f} | {rss:,.0f} |", "",
    ]
    print("\n".join(lines))
    if a.write:
        replace_section("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Capture throughput: wardwatch's engine side by side with tcpdump, p0f, tshark and a C flow meter.

usage: capture_throughput.py [CAPTURE] [--build-dir DIR] [--skip TOOL ...] [--results bench/RESULTS.md]

Without CAPTURE, ``/work/shared/bench-capture/build.sh DIR`` builds the 1.5 GB reference ``big.pcap``
(root, ~1-8 minutes) into ``--build-dir`` (default /work/bench-data; never inside the repository).
Every contender runs in its own child process; wall time and that child's peak RSS (``wait4``) are
measured. wardwatch runs twice: flow accounting only (a null sink) and with every dissector registered
(``Registry.from_entry_points()``, whatever is installed) behind the sink ``wardwatch analyze`` uses
(``pipeline.collect.DissectingSink``: datagrams in batches, distinct facts kept). Note that wardwatch maps
the file, so its RSS includes the page-cache pages it touched; its Python heap peak is reported apart
(tracemalloc, in separate runs of both modes). Every contender runs ``--runs`` times (default 3) and its
run with the least CPU is reported: other load on the machine only ever adds time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from results_md import replace_section

BUILD = Path("/work/shared/bench-capture/build.sh")
HEADING = "## Capture throughput"


def engine(path: str, dissect: bool, trace: bool) -> dict[str, Any]:
    """Run wardwatch's capture engine once (in this process) and report."""
    from wardwatch.capture import NullSink, process_capture

    sink: Any = NullSink()
    loaded: list[str] = []
    registry: Any = None
    if dissect:
        from wardwatch.dissect.registry import Registry
        from wardwatch.pipeline.collect import DissectingSink

        registry = Registry.from_entry_points()
        loaded = [d.name for d in registry.dissectors]
        sink = DissectingSink(registry)
    if trace:
        import tracemalloc

        tracemalloc.start()
    t0 = time.perf_counter()
    res = process_capture(Path(path), sink)
    dt = time.perf_counter() - t0
    peak = 0
    if trace:
        import tracemalloc

        peak = tracemalloc.get_traced_memory()[1]
    s = res.stats
    facts = len(sink.observations) if dissect else 0
    parsed = sum(registry.stats.parsed.values()) if dissect else 0
    from wardwatch.capture.compiled import COMPILED

    return {"seconds": dt, "packets": s.packets, "compiled": COMPILED, "flows": len(res.flows), "streams": s.streams,
            "datagrams": s.datagrams, "frames": s.frames, "dissectors": loaded, "heap_peak": peak,
            "observations": facts, "dissected": parsed}


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; wall seconds, CPU seconds (user+sys), peak RSS in MiB of that child, stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return dt, cpu, usage.ru_maxrss / 1024, out.decode(errors="replace")


def best_of(cmd: list[str], runs: int) -> tuple[float, float, float, str]:
    """:func:`timed` ``runs`` times; the run with the least CPU (a shared machine only ever adds time)."""
    return min((timed(cmd) for _ in range(runs)), key=lambda r: r[1])


def byte_compile() -> None:
    """Compile the installed wardwatch package to bytecode once, as installing a wheel does.

    Otherwise an editable install under ``PYTHONDONTWRITEBYTECODE`` (set on the machines here) would
    compile every module from source again in each measured run: start-up work no installed sensor does.
    """
    import compileall

    import wardwatch

    compileall.compile_dir(Path(wardwatch.__file__).parent, quiet=1)


def ensure_capture(arg: str | None, build_dir: Path) -> Path:
    if arg:
        return Path(arg)
    big = build_dir / "big.pcap"
    if not big.exists():
        print(f"building {big} with {BUILD} (needs root) ...", file=sys.stderr)
        subprocess.run([str(BUILD), str(build_dir)], check=True)
    return big


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", nargs="?")
    ap.add_argument("--build-dir", default="/work/bench-data", type=Path)
    ap.add_argument("--skip", nargs="*", default=[], help="tools to leave out: tcpdump p0f tshark c_flows")
    ap.add_argument("--results", type=Path, help="rewrite the capture section of this RESULTS.md")
    ap.add_argument("--runs", type=int, default=3, help="runs per contender; the least CPU counts (default 3)")
    ap.add_argument("--engine-json", choices=["flows", "dissect", "heap", "heap-dissect"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.engine_json:
        mode = a.engine_json
        print(json.dumps(engine(a.capture, mode.endswith("dissect"), mode.startswith("heap"))))
        return
    cap = ensure_capture(a.capture, a.build_dir)
    byte_compile()
    load = os.getloadavg()[0]
    me = [sys.executable, __file__, str(cap), "--engine-json"]
    rows: list[tuple[str, float, float, float]] = []
    info: dict[str, Any] = {}
    for label, mode in (("wardwatch (flows only)", "flows"), ("wardwatch (all dissectors)", "dissect")):
        dt, cpu, rss, out = best_of([*me, mode], a.runs)
        info[mode] = json.loads(out)
        rows.append((label, dt, cpu, rss))
    heap = json.loads(timed([*me, "heap"])[3])["heap_peak"] / 2**20
    heap_dissect = json.loads(timed([*me, "heap-dissect"])[3])["heap_peak"] / 2**20
    packets = info["flows"]["packets"]
    cflows = a.build_dir / "c_flows"
    tools = {
        "tcpdump -r FILE -w /dev/null": ["tcpdump", "-r", str(cap), "-w", "/dev/null"],
        "p0f -r FILE": ["p0f", "-r", str(cap)],
        "tshark -q -z conv,tcp -r FILE": ["tshark", "-n", "-q", "-z", "conv,tcp", "-r", str(cap)],
        "c_flows flows FILE": [str(cflows), "flows", str(cap)],
    }
    for label, cmd in tools.items():
        name = re.split(r"\s", label)[0]
        if name in a.skip or (shutil.which(cmd[0]) is None and not Path(cmd[0]).exists()):
            continue
        dt, cpu, rss, _out = best_of(cmd, a.runs)
        rows.append((label, dt, cpu, rss))
    ref = rows[1][2]
    d = info["dissect"]
    lines = [
        f"Capture: `{cap.name}`, {cap.stat().st_size / 1e9:.2f} GB, {packets:,} packets, "
        f"{info['flows']['flows']:,} flows ({d['streams']:,} TCP streams and "
        f"{d['datagrams']:,} datagrams handed to dissectors, {d['dissected']:,} dissector runs, "
        f"{d['observations']:,} distinct facts kept). Machine: {os.cpu_count()} cores, "
        "each contender is single-threaded; CPU seconds (user+sys of its process, start-up included) are the "
        f"fair measure on a shared machine, wall seconds are shown too; each figure is the best of {a.runs} "
        f"runs. Load average at start: {load:.1f}. Compiled hot-path kernels: "
        f"{'yes' if d['compiled'] else 'no (Python references)'}. "
        f"Dissectors loaded: {', '.join(d['dissectors']) or 'none'}.",
        "",
        "| contender | CPU s | packets/s (CPU) | wall s | packets/s (wall) | wardwatch (all dissectors) CPU ÷ this "
        "| peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, dt, cpu, rss in rows:
        lines.append(f"| {label} | {cpu:.2f} | {packets / cpu:,.0f} | {dt:.2f} | {packets / dt:,.0f} | "
                     f"{ref / cpu:.2f} | {rss:,.0f} |")
    lines += ["", f"wardwatch Python heap peak (tracemalloc): flows only {heap:.1f} MiB, all dissectors "
              f"{heap_dissect:.1f} MiB; its RSS includes the mapped file pages it touched. Target of issue 2: "
              f"0.5 M packets/s with all dissectors = {packets / 5e5:.2f} CPU s on this capture."]
    text = "\n".join(lines)
    print(text)
    if a.results:
        replace_section(f"{HEADING}\n\nMeasured with `bench/capture_throughput.py` ({time.strftime('%Y-%m-%d')}).\n\n"
                        f"{text}\n", a.results)


if __name__ == "__main__":
    main()

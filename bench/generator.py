"""Benchmark the demo hospital generator: wall time, packets/s, capture size and peak RSS.

    .venv/bin/python bench/generator.py --devices 100000 --rounds 10 --background-packets 0 -o /tmp/h.pcapng
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from wardwatch.demo import generate_hospital


def main(argv: list[str] | None = None) -> int:
    """Run one generation and print its figures as a Markdown table row."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--background-packets", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, default=Path("/tmp/wardwatch-bench-hospital.pcapng"))
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    s = generate_hospital(a.devices, a.seed, a.output, rounds=a.rounds, background_packets=a.background_packets,
                          progress=lambda d, n: print(f"round {d}/{n}", file=sys.stderr))
    wall = time.perf_counter() - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mib = a.output.stat().st_size / 2**20
    print("| devices | rounds | background | packets | capture MiB | wall s | packets/s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {a.devices} | {a.rounds} | {a.background_packets} | {s.packets} | {size_mib:.0f} | {wall:.1f} "
          f"| {s.packets / wall:.0f} | {rss_mib:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

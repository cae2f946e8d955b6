"""Risk at scale: N devices × every imported advisory → findings, scores and candidate actions (issue 4).

    .venv/bin/python bench/risk_scale.py --devices 100000 --db /tmp/risk-scale.db
    .venv/bin/python bench/risk_scale.py --devices 100000 --url postgresql+psycopg://USER@HOST/EMPTY_DB

Setup (not timed): a fresh SQLite inventory whose devices are written straight into the tables, 70 % of
them named after products of the ICSMA advisories in ../shared/data/csaf-icsma (vendor, product and
version as written, a third without a version), 30 % unknown products; the knowledge base gets every
ICSMA advisory, the CISA KEV catalog and one EPSS year. Timed: the first evaluation (match, SBOM, hygiene,
enrichment, findings written, scores written, actions costed) and a 200-hour plan with its exact what-if on
the evaluation's own candidate actions (what ``wardwatch plan`` does after an evaluation); then, apart, a
plan from the stored evaluation (a later ``wardwatch plan`` with nothing stale) and a re-evaluation
(idempotent: nothing rewritten). Times are CPU seconds of this process (user + system: the machine is
shared, wall time depends on the other jobs) with wall seconds beside them. Peak RSS is the process's
maximum resident size.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import Inventory
from wardwatch.inventory import tables as t
from wardwatch.risk.planning import Planner
from wardwatch.risk.service import evaluate, risk_weights

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CLASSES = ("infusion_pump", "patient_monitor", "ct_scanner", "pacs_archive", "lab_analyzer", "workstation")


def _populate(inventory: Inventory, kb: KnowledgeBase, n: int, seed: int) -> None:
    rng = random.Random(seed)
    products = sorted({(c.vendor, c.product, c.version) for a in kb.advisories() for v in a.vulnerabilities
                       for c in v.conditions if c.vendor and c.product})
    now = time.time()
    devices, ips, attrs = [], [], []
    for i in range(1, n + 1):
        mac = f"02:00:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        devices.append({"id": i, "key": f"mac:{mac}", "mac": mac, "sensor": "local", "first_seen": now,
                        "last_seen": now})
        ips.append({"device_id": i, "sensor": "local", "ip": ip, "version": 4,
                    "ip_hex": "".join(f"{int(x):02x}" for x in ip.split(".")), "first_seen": now, "last_seen": now})
        if rng.random() < 0.7:
            vendor, model, version = rng.choice(products)
            version = None if rng.random() < 0.33 else version
        else:
            vendor, model, version = "Acme", f"Model {rng.randrange(500)}", "1.0"
        values = {"vendor": vendor, "model": model, "device_class": rng.choice(CLASSES)}
        if version:
            values["firmware"] = version[:600]
        attrs.extend({"device_id": i, "name": k, "value": v, "confidence": 0.9, "source": "import", "evidence": []}
                     for k, v in values.items())
    with inventory.engine.begin() as conn:
        for table, rows in ((t.devices, devices), (t.device_ips, ips), (t.attributes, attrs)):
            for start in range(0, len(rows), 20000):
                conn.execute(sa.insert(table), rows[start:start + 20000])
        conn.execute(sa.insert(t.ingest_runs), {"source": "bench", "started_at": now, "finished_at": now})


class _Clock:
    """CPU (user + system of this process) and wall seconds since the last lap."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def lap(self) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        out = (cpu - self.cpu, wall - self.wall)
        self.cpu, self.wall = cpu, wall
        return out


def _fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.1f} ({pair[1]:.1f})"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures as Markdown table rows."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--db", type=Path, default=Path("/tmp/wardwatch-risk-scale.db"), help="SQLite file (recreated)")
    p.add_argument("--url", help="Database URL of an EMPTY database instead of --db (e.g. PostgreSQL)")
    a = p.parse_args(argv)
    if a.url is None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(a.db) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    inventory = Inventory.open(a.url or f"sqlite:///{a.db}")
    kb = KnowledgeBase(inventory.engine, create=False)
    report = import_paths(kb, [SHARED / "csaf-icsma", SHARED / "kev" / "known_exploited_vulnerabilities.json",
                               SHARED / "epss" / "CVE_2021_EPSS.csv"])
    advisories = sum(1 for _f, source, _n in report.imported if source == "csaf")
    _populate(inventory, kb, a.devices, a.seed)
    setup = time.perf_counter() - t0
    print(f"setup {setup:.1f} s ({advisories} advisories)", file=sys.stderr)
    clock = _Clock()
    first = evaluate(inventory, kb)
    evaluation = clock.lap()
    plan = Planner(inventory.engine, kb, risk_weights(None), first).plan(200.0)
    planned = clock.lap()
    cold = Planner(inventory.engine, kb, risk_weights(None)).plan(200.0)
    stored = clock.lap()
    second = evaluate(inventory, kb)
    again = clock.lap()
    assert (cold.risk_before, cold.risk_after) == (plan.risk_before, plan.risk_after), "stored plan differs"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| devices | advisories | findings | actions | evaluation CPU s (wall) | plan 200 h CPU s (wall) "
          "| evaluation + plan CPU s (wall) | plan from stored CPU s | re-evaluation CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    total = (evaluation[0] + planned[0], evaluation[1] + planned[1])
    print(f"| {first.devices} | {advisories} | {first.findings} | {len(first.candidates)} | {_fmt(evaluation)} "
          f"| {_fmt(planned)} | {_fmt(total)} | {stored[0]:.1f} | {again[0]:.1f} | {rss:.0f} |")
    print(f"plan: {len(plan.chosen)} actions, {plan.hours} h, risk {plan.risk_before} → {plan.risk_after}; "
          f"re-evaluation opened {second.opened}, fixed {second.fixed}", file=sys.stderr)
    inventory.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

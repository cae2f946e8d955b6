"""Risk at scale: N devices × every imported advisory → findings, scores and candidate actions (issue 4).

    .venv/bin/python bench/risk_scale.py --devices 100000 --db /tmp/risk-scale.db

Setup (not timed): a fresh SQLite inventory whose devices are written straight into the tables, 70 % of
them named after products of the ICSMA advisories in ../shared/data/csaf-icsma (vendor, product and
version as written, a third without a version), 30 % unknown products; the knowledge base gets every
ICSMA advisory, the CISA KEV catalog and one EPSS year. Timed: the first evaluation (match, SBOM, hygiene,
enrichment, findings written, scores written, actions costed), a re-evaluation (idempotent: nothing
rewritten), and a 200-hour plan with its exact what-if. Peak RSS is the process's maximum resident size.
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures as Markdown table rows."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--db", type=Path, default=Path("/tmp/wardwatch-risk-scale.db"))
    a = p.parse_args(argv)
    for suffix in ("", "-wal", "-shm"):
        Path(str(a.db) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    inventory = Inventory.open(f"sqlite:///{a.db}")
    kb = KnowledgeBase(inventory.engine, create=False)
    report = import_paths(kb, [SHARED / "csaf-icsma", SHARED / "kev" / "known_exploited_vulnerabilities.json",
                               SHARED / "epss" / "CVE_2021_EPSS.csv"])
    advisories = sum(1 for _f, source, _n in report.imported if source == "csaf")
    _populate(inventory, kb, a.devices, a.seed)
    setup = time.perf_counter() - t0
    print(f"setup {setup:.1f} s ({advisories} advisories)", file=sys.stderr)
    t1 = time.perf_counter()
    first = evaluate(inventory, kb)
    t2 = time.perf_counter()
    second = evaluate(inventory, kb)
    t3 = time.perf_counter()
    planner = Planner(inventory.engine, kb, risk_weights(None))
    plan = planner.plan(200.0)
    t4 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| devices | advisories | findings | actions | first evaluation s | re-evaluation s | plan (200 h) s "
          "| peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {first.devices} | {advisories} | {first.findings} | {len(first.candidates)} | {t2 - t1:.1f} "
          f"| {t3 - t2:.1f} | {t4 - t3:.1f} | {rss:.0f} |")
    print(f"plan: {len(plan.chosen)} actions, {plan.hours} h, risk {plan.risk_before} → {plan.risk_after}; "
          f"re-evaluation opened {second.opened}, fixed {second.fixed}", file=sys.stderr)
    inventory.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

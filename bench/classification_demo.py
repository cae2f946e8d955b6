"""Classification on the demo hospital: wardwatch's device_class/vendor/model against the generator's truth.

Generates a demo hospital (``--devices``, ``--seed``), runs the full pipeline with the built-in
fingerprint rules into a fresh SQLite inventory, and scores it per class with
:mod:`wardwatch.demo.scoring` (join by MAC; precision/recall per class).

Usage: ``.venv/bin/python bench/classification_demo.py [--devices 400] [--seed 2024] [--write]``
(``--write`` replaces the "## Classification on the demo hospital" section of bench/RESULTS.md).
Work files go to ``--workdir`` (default /work/bench-data/demo-classification), never into the repo.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from results_md import replace_section

from wardwatch.demo import generate_hospital
from wardwatch.demo.run.steps import open_inventory
from wardwatch.demo.scoring import markdown, score
from wardwatch.pipeline.analyze import analyze_captures

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Classification on the demo hospital"


def run(devices: int, seed: int, workdir: Path) -> list[str]:
    """Generate, analyze, score; the Markdown section."""
    workdir.mkdir(parents=True, exist_ok=True)
    capture = workdir / f"hospital-{devices}-s{seed}.pcapng"
    db = workdir / f"hospital-{devices}-s{seed}.db"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    summary = generate_hospital(devices, seed, capture)
    t1 = time.perf_counter()
    inventory = open_inventory(f"sqlite:///{db}")
    analyze_captures([capture], inventory)
    t2 = time.perf_counter()
    truth = json.loads(summary.truth.read_text(encoding="utf-8"))["devices"]
    card = score(truth, inventory.list_devices(limit=None))
    inventory.close()
    misses = ", ".join(f"{key} ({want} → {got or 'nothing'}) ×{n}"
                       for (key, want, got), n in card.misses.most_common(12))
    return [
        HEADING, "",
        f"`bench/classification_demo.py --devices {devices} --seed {seed}`: {summary.packets} packets generated in "
        f"{t1 - t0:.1f} s, analyzed with the built-in rules in {t2 - t1:.1f} s (2 shared cores). Truth = the "
        "generator's sidecar; join by MAC (by IP for devices the inventory only knows by address).", "",
        *markdown(card), "",
        f"Most frequent misses (catalogue model: truth → predicted): {misses}.", "",
        "`tests/demo/test_classification.py` asserts macro recall ≥ 0.9 and macro precision ≥ 0.9 on its "
        "60-device hospital. What got it here: the resolver prefers a taxonomy descendant over its ancestor at "
        "comparable confidence (`identify/decide.py`, rule 4: a vendor's `imaging_modality` gives way to the "
        "DICOM `ct_scanner`); the generic Windows/Linux OS rules are weak guesses (0.55/0.45) any "
        "device-specific rule overrides; family rules for public traits (iOS DHCP option 55, LLDP telephone "
        "capability, SDC `sdc.cdc.type` MDS scopes, HL7 MSH-3 product names, POCT1-A roles, vendor OUIs); and "
        "the generator made faithful: bedside monitors stream to their central station/gateway, which sends the "
        "HL7, every host ARPs (RFC 5227 announcement, gateway lookup), so static servers are bound to their "
        "addresses.", "",
        "Caveat: a synthetic hospital in which every model shows its public trait is easier than a real "
        "network; the figures say the rules and the resolver do what they should on what the generator makes. "
        "At 1 000 devices (seeds 7 and 99) macro recall is 0.97: the flow table hands a flow direction at most "
        "64 datagrams to the dissectors, and every DHCP DISCOVER/REQUEST of a VLAN shares one 5-tuple "
        "(0.0.0.0:68 → 255.255.255.255:67), so beyond about 32 clients on one VLAN their DHCP is never "
        "dissected; guest phones with randomized MACs are then left with nothing to classify them by.", "",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run and print (and with ``--write`` record) the scorecard."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--devices", type=int, default=400)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--workdir", type=Path, default=Path("/work/bench-data/demo-classification"))
    p.add_argument("--write", action="store_true")
    a = p.parse_args(argv)
    lines = run(a.devices, a.seed, a.workdir)
    print("\n".join(lines))
    if a.write:
        replace_section("\n".join(lines))
        print("updated bench/RESULTS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

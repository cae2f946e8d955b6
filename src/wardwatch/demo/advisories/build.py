"""Render the demo advisory set (:mod:`.catalogue`) as CSAF 2.0 documents (OASIS csaf-v2.0-os).

``python -m wardwatch.demo.advisories.build`` rewrites the JSON files beside this module; a test checks
that the committed files equal what this renders, and that they validate against the CSAF 2.0 schema.
Document fields follow §3.2.1 (document), product tree branches §3.1.5.1 (vendor → product_family →
product_name → product_version / product_version_range), vulnerabilities §3.2.3 (ids, notes,
product_status, scores with CVSS v3.1, remediations).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from wardwatch.demo.advisories.catalogue import ADVISORIES, DemoAdvisory

HERE = Path(__file__).resolve().parent
RELEASED = "2024-03-01T00:00:00.000Z"
DEMO_NOTE = ("DEMO DATA written by the wardwatch project for `wardwatch demo`. This advisory is fictional: "
             "it describes no real vulnerability and must not be used for decisions about real devices.")
_SEVERITY = ((9.0, "CRITICAL"), (7.0, "HIGH"), (4.0, "MEDIUM"), (0.1, "LOW"), (0.0, "NONE"))


def _score(vector: str) -> tuple[float, str]:
    from cvss import CVSS3

    base = float(CVSS3(vector).scores()[0])
    return base, next(word for floor, word in _SEVERITY if base >= floor)


def _version_branch(spec: str, product: str, pid: str) -> dict[str, Any]:
    ranged = spec.startswith(("<", ">"))
    return {"category": "product_version_range" if ranged else "product_version", "name": spec,
            "product": {"name": f"{product} {spec}", "product_id": pid}}


def render(adv: DemoAdvisory) -> dict[str, Any]:
    """One advisory as a CSAF 2.0 ``csaf_security_advisory`` document."""
    vendors: dict[str, list[dict[str, Any]]] = {}
    affected: list[str] = []
    fixed: list[str] = []
    n = 0
    for product in adv.products:
        versions = []
        for kind, specs in (("affected", product.affected), ("fixed", product.fixed)):
            for spec in specs:
                n += 1
                pid = f"WWDEMO-{n:04d}"
                versions.append(_version_branch(spec, product.name, pid))
                (affected if kind == "affected" else fixed).append(pid)
        family = {"category": "product_family", "name": product.family,
                  "branches": [{"category": "product_name", "name": product.name, "branches": versions}]}
        vendors.setdefault(product.vendor, []).append(family)
    base, severity = _score(adv.cvss)
    status: dict[str, list[str]] = {"known_affected": affected}
    if fixed:
        status["fixed"] = fixed
    remediations = [{"category": adv.fix_category, "details": adv.remediation, "product_ids": affected},
                    {"category": "mitigation", "details": adv.mitigation, "product_ids": affected}]
    references = [{"category": "external", "summary": f"Public advisory whose products this demo entry mirrors: {m}",
                   "url": f"https://www.cisa.gov/news-events/ics-medical-advisories/{m.lower()}"} for m in adv.mirrors]
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": {"text": "Demo data, freely redistributable with wardwatch.", "tlp": {"label": "WHITE"}},
            "lang": "en",
            "notes": [{"category": "legal_disclaimer", "title": "Demo data", "text": DEMO_NOTE},
                      {"category": "summary", "title": "Summary", "text": adv.summary}],
            "publisher": {"category": "other", "name": "wardwatch demo",
                          "namespace": "https://wardwatch.invalid/demo"},
            **({"references": references} if references else {}),
            "title": adv.title,
            "tracking": {"id": adv.id, "status": "final", "version": "1",
                         "initial_release_date": RELEASED, "current_release_date": RELEASED,
                         "revision_history": [{"date": RELEASED, "number": "1", "summary": "Demo release."}]},
        },
        "product_tree": {"branches": [{"category": "vendor", "name": v, "branches": fams}
                                      for v, fams in vendors.items()]},
        "vulnerabilities": [{
            "ids": [{"system_name": "wardwatch demo", "text": f"{adv.id}-V1"}],
            "cwe": {"id": adv.cwe[0], "name": adv.cwe[1]},
            "title": adv.title,
            "notes": [{"category": "description", "title": "Description", "text": f"{adv.summary} {DEMO_NOTE}"}],
            "product_status": status,
            "scores": [{"cvss_v3": {"version": "3.1", "vectorString": adv.cvss, "baseScore": base,
                                    "baseSeverity": severity}, "products": affected}],
            "remediations": remediations,
        }],
    }


def file_name(adv: DemoAdvisory) -> str:
    """``ww-demo-2024-001.json``."""
    return f"{adv.id.lower()}.json"


def dump(document: dict[str, Any]) -> str:
    """Stable JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(folder: Path = HERE) -> int:
    """Write every advisory into ``folder``."""
    for adv in ADVISORIES:
        (folder / file_name(adv)).write_text(dump(render(adv)), encoding="utf-8")
    print(f"wrote {len(ADVISORIES)} advisories into {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

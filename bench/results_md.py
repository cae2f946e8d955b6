"""Writing one section of bench/RESULTS.md, shared by the benchmark scripts.

A section starts at its ``## `` heading and runs to the next ``## `` heading (or the end of the file); it
is replaced where it stands, or appended when the file does not have it yet.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(section: str, results: Path = RESULTS) -> None:
    """Put ``section`` (text starting with its ``## `` heading line) into ``results``."""
    heading = section.lstrip().splitlines()[0]
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    body = section.strip() + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: body + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    results.write_text(text, encoding="utf-8")

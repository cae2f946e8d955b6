"""FIRST EPSS scores (CSV): the daily ``epss_scores-YYYY-MM-DD.csv(.gz)`` and its variants.

FIRST's file starts with a comment line ``#model_version:v2023.03.01,score_date:2024-...`` and the header
``cve,epss,percentile``; the per-year mirrors in ``../shared/data/epss`` have neither and use ``;``
(``CVE-2019-10964;0.012340000;0.664610000``). Both are read. ~360 000 rows parse in about a second;
the knowledge base writes them with a bulk upsert.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import EpssScore
from wardwatch.intel.interface import ImportBatch, reject

_ROW = re.compile(rb"^CVE-\d{4}-\d{4,}[;,]")
_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")


def _open(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise reject(path, "gzip", f"corrupt gzip stream: {exc}") from exc
    return data


class EpssImporter:
    """Importer for FIRST EPSS CSV files (plain or gzip)."""

    name = "epss"

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """A gzip named ``*epss*``, or text starting with the EPSS comment, header or a CVE row."""
        if head[:2] == b"\x1f\x8b":
            return "epss" in path.name.casefold()
        first = head.lstrip(b"\xef\xbb\xbf")
        return first.startswith((b"#model_version", b"cve,epss")) or bool(_ROW.match(first))

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Every row ``cve,epss,percentile``; a malformed row rejects the file (naming the line)."""
        batch = ImportBatch(source=self.name, file=str(path))
        text = _open(path).decode("utf-8-sig", errors="replace")
        scores = batch.epss
        date: str | None = None
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                m = _DATE.search(line)
                date = m.group(1) if m else date
                continue
            if line.startswith("cve,"):
                continue
            parts = line.replace(";", ",").split(",")
            if len(parts) < 3 or not parts[0].startswith("CVE-"):
                raise reject(path, f"line {lineno}", f"expected 'CVE-id,epss,percentile', got {line[:60]!r}")
            try:
                epss, pct = float(parts[1]), float(parts[2])
            except ValueError as exc:
                raise reject(path, f"line {lineno}", f"epss/percentile not a number: {line[:60]!r}") from exc
            if not (0.0 <= epss <= 1.0 and 0.0 <= pct <= 1.0):
                raise reject(path, f"line {lineno}", "epss and percentile must lie in [0, 1]")
            scores.append(EpssScore(parts[0].strip(), epss, pct, date))
        if not scores:
            raise reject(path, "line 1", "no EPSS rows")
        batch.feed_timestamp = date
        return batch


IMPORTER = EpssImporter()

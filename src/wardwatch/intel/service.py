"""``intel import PATH...``: walk files and folders, detect each file's kind by content, import it.

Each file is parsed completely before anything is written, and written in one transaction, so a
malformed file is rejected whole (one clear error naming the file and the field) and the knowledge base
keeps what it had. The report lists what was imported, skipped (not an intel file) and rejected, and
every field that could not be interpreted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wardwatch.errors import ImportRejectedError
from wardwatch.intel.csaf import CsafImporter
from wardwatch.intel.cve5 import Cve5Importer
from wardwatch.intel.epss import EpssImporter
from wardwatch.intel.interface import Importer, Problem
from wardwatch.intel.kev import KevImporter
from wardwatch.intel.mds2 import Mds2Importer
from wardwatch.intel.nvd import NvdImporter
from wardwatch.intel.sbom import SbomImporter
from wardwatch.intel.store import KnowledgeBase

log = logging.getLogger(__name__)
MAX_JSON_BYTES = 512 * 1024 * 1024
_HEAD = 4096


@dataclass(slots=True)
class ImportReport:
    """What ``intel import`` did with each file."""

    imported: list[tuple[str, str, int]] = field(default_factory=list)  # (file, source, records)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, error)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "imported": [{"file": f, "source": s, "records": n} for f, s, n in self.imported],
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "rejected": [{"file": f, "error": e} for f, e in self.rejected],
            "problems": [
                {"file": p.file, "field": p.path, "message": p.message, "value": p.value} for p in self.problems
            ],
        }


def default_importers(
    schema_dir: Path | None = None, vendor: str | None = None, model: str | None = None
) -> list[Importer]:
    """The built-in importers, in detection order (``vendor``/``model`` attach SBOMs and MDS2 forms)."""
    return [
        CsafImporter(schema_dir),
        NvdImporter(),
        Cve5Importer(),
        KevImporter(),
        SbomImporter(vendor, model),
        EpssImporter(),
        Mds2Importer(vendor, model),
    ]


def walk(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Every file under the given files and folders, sorted, hidden files skipped."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        else:
            yield p


def detect(path: Path, importers: list[Importer]) -> tuple[Importer | None, Any, str]:
    """The importer for a file (with its decoded JSON, if any), or None and the reason."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        raise ImportRejectedError(f"{path}: cannot read: {exc}") from exc
    document: Any = None
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ImportRejectedError(f"{path}: $: JSON file larger than {MAX_JSON_BYTES} bytes")
        try:
            document = json.loads(path.read_bytes())
        except ValueError as exc:
            raise ImportRejectedError(f"{path}: $: not valid JSON: {exc}") from exc
    for importer in importers:
        if importer.sniff(path, head, document):
            return importer, document, ""
    if document is not None:
        return None, None, "JSON of no known intel shape (CSAF, NVD, CVE 5, KEV, CycloneDX, SPDX)"
    return None, None, "not an intel file"


def import_paths(
    kb: KnowledgeBase,
    paths: Iterable[Path | str],
    *,
    schema_dir: Path | None = None,
    vendor: str | None = None,
    model: str | None = None,
) -> ImportReport:
    """Import every intel file under ``paths``; each file all-or-nothing."""
    importers = default_importers(schema_dir, vendor, model)
    report = ImportReport()
    for path in walk(paths):
        try:
            importer, document, reason = detect(path, importers)
            if importer is None:
                report.skipped.append((str(path), reason))
                continue
            batch = importer.parse(path, document)
            kb.store(batch)
        except ImportRejectedError as exc:
            log.warning("rejected %s: %s", path.name, exc)
            report.rejected.append((str(path), str(exc)))
            continue
        report.imported.append((str(path), batch.source, batch.size))
        report.problems.extend(batch.problems)
    return report


def import_file(kb: KnowledgeBase, path: Path | str, importer: Importer | None = None) -> int:
    """Import one file (detected, or with the given importer); raise ImportRejectedError when malformed."""
    p = Path(path)
    if importer is None:
        importer, document, reason = detect(p, default_importers())
        if importer is None:
            raise ImportRejectedError(f"{p}: $: {reason}")
    else:
        document = None
    return kb.store(importer.parse(p, document))

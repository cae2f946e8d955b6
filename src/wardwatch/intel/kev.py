"""CISA Known Exploited Vulnerabilities catalog (JSON per its published schema, or the CSV export).

JSON: ``{"title", "catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID",
"vendorProject", "product", "vulnerabilityName", "dateAdded", "requiredAction", "dueDate",
"knownRansomwareCampaignUse", ...}]}``. CSV: the same fields as columns.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import KevEntry
from wardwatch.intel.interface import ImportBatch, reject, require

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_CSV_HEADER = ("cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded")


def _entry(row: dict[str, Any], path: Path, where: str) -> KevEntry:
    cve = require(row, "cveID", str, path, where).strip()
    if not _CVE.match(cve):
        raise reject(path, f"{where}.cveID", f"not a CVE id: {cve[:40]!r}")
    return KevEntry(
        cve=cve,
        vendor=str(row.get("vendorProject") or ""),
        product=str(row.get("product") or ""),
        name=str(row.get("vulnerabilityName") or ""),
        date_added=require(row, "dateAdded", str, path, where),
        due_date=str(row["dueDate"]) if row.get("dueDate") else None,
        ransomware=str(row.get("knownRansomwareCampaignUse") or "Unknown"),
        required_action=str(row.get("requiredAction") or ""),
    )


class KevImporter:
    """Importer for the CISA KEV catalog (JSON or CSV)."""

    name = "kev"

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """The KEV JSON (``catalogVersion`` + ``vulnerabilities``) or a CSV starting with its header."""
        if isinstance(document, dict):
            return "catalogVersion" in document and "vulnerabilities" in document
        return head.lstrip(b"\xef\xbb\xbf").startswith(b"cveID,vendorProject")

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Every catalog entry; a missing field or a bad CVE id rejects the file."""
        batch = ImportBatch(source=self.name, file=str(path))
        data = path.read_bytes() if document is None else b""
        if document is None and not data.lstrip(b"\xef\xbb\xbf").startswith(b"{"):
            text = data.decode("utf-8-sig", errors="replace")
            reader = csv.DictReader(io.StringIO(text))
            missing = [c for c in _CSV_HEADER if c not in (reader.fieldnames or [])]
            if missing:
                raise reject(path, f"column {missing[0]}", "required KEV column missing")
            for i, row in enumerate(reader, start=2):
                batch.kev.append(_entry(row, path, f"row {i}"))
            return batch
        if document is None:
            try:
                document = json.loads(data)
            except ValueError as exc:
                raise reject(path, "$", f"not JSON: {exc}") from exc
        vulns = require(document, "vulnerabilities", list, path, "$")
        batch.feed_timestamp = str(document.get("dateReleased") or "") or None
        for i, row in enumerate(vulns):
            batch.kev.append(_entry(row, path, f"$.vulnerabilities[{i}]"))
        return batch


IMPORTER = KevImporter()

"""MDS2 forms (ANSI/NEMA HN 1-2019 "Manufacturer Disclosure Statement for Medical Device Security").

The XLSX form has one sheet (``mds2-form`` in NEMA's example) with columns Question ID, Question,
answer (Yes / No / N/A / See Note) and note. The header row (``Question ID``) locates the columns. The
answers become a capability profile: the questions below, each read as True (Yes), False (No) or None
(N/A, See Note, blank). The risk layer compares the profile with observed behaviour (the form says no
remote service; traffic shows one).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from wardwatch.domain.advisory import Mds2Answer, Mds2Profile
from wardwatch.intel.interface import ImportBatch, reject

_QID = re.compile(r"^[A-Z]{3,4}-\d+(?:\.\d+)*$")
MAX_ROWS = 5000

#: Capability → HN 1-2019 question id (section and question number of the form).
CAPABILITIES: dict[str, str] = {
    "handles_pii": "MPII-1",
    "stores_pii": "MPII-2",
    "vulnerability_disclosure": "DOC-8",
    "audit_logging": "AUDT-2",
    "authentication": "AUTH-1",
    "role_based_access": "AUTH-2",
    "security_updates": "CSUP-1",
    "anti_malware": "MLDP-2",
    "node_authentication": "NAUT-1",
    "network_capable": "CONN-1",
    "external_communication": "CONN-4",
    "internet_required": "CONN-6",
    "tls": "CONN-7",
    "unique_user_ids": "PAUT-1",
    "sbom_available": "SBOM-1",
    "hardened": "SAHD-1",
    "encryption_at_rest": "STCF-1",
    "encryption_in_transit": "TXCF-2",
    "transmission_integrity": "TXIG-1",
    "remote_service": "RMOT-1",
    "remote_maintenance": "RMOT-2",
    "remote_other": "RMOT-3",
}


def _yes_no(answer: str) -> bool | None:
    a = answer.strip().casefold()
    return True if a == "yes" else False if a == "no" else None


def profile_from_answers(answers: list[Mds2Answer]) -> dict[str, bool | None]:
    """The capability profile (see :data:`CAPABILITIES`) of a list of answers."""
    by_id = {a.question_id: a.answer for a in answers}
    profile = {cap: _yes_no(by_id.get(qid, "")) for cap, qid in CAPABILITIES.items()}
    remote = [profile["remote_service"], profile["remote_maintenance"], profile["remote_other"]]
    profile["remote_access"] = True if True in remote else False if remote and all(r is False for r in remote) else None
    return profile


def _cell(cells: list[str], i: int) -> str:
    return cells[i] if len(cells) > i else ""


class Mds2Importer:
    """Importer for HN 1-2019 MDS2 workbooks (XLSX)."""

    name = "mds2"

    def __init__(self, vendor: str | None = None, model: str | None = None) -> None:
        self.vendor, self.model = vendor, model

    def sniff(self, path: Path, head: bytes, document: Any | None) -> bool:
        """An XLSX (ZIP) whose name or first sheet says MDS2."""
        if not head.startswith(b"PK\x03\x04") or path.suffix.casefold() not in (".xlsx", ".xlsm"):
            return False
        if "mds2" in path.name.casefold():
            return True
        try:
            with zipfile.ZipFile(path) as zf:
                return b"mds2" in zf.read("xl/workbook.xml").lower()
        except (OSError, KeyError, zipfile.BadZipFile):
            return False

    def parse(self, path: Path, document: Any | None = None) -> ImportBatch:
        """Every question id row; a workbook without the ``Question ID`` header is rejected."""
        import warnings

        from openpyxl import load_workbook

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, ValueError ...)
            raise reject(path, "workbook", f"not a readable XLSX: {type(exc).__name__}: {exc}") from exc
        try:
            batch = self._read(path, wb)
        finally:
            wb.close()
        return batch

    def _read(self, path: Path, wb: Any) -> ImportBatch:
        batch = ImportBatch(source=self.name, file=str(path))
        ws = wb["mds2-form"] if "mds2-form" in wb.sheetnames else wb[wb.sheetnames[0]]
        cols: tuple[int, int, int, int] | None = None
        answers: list[Mds2Answer] = []
        for r, row in enumerate(ws.iter_rows(values_only=True, max_row=MAX_ROWS), start=1):
            cells = ["" if c is None else str(c).strip() for c in row]
            if cols is None:
                if "Question ID" in cells:
                    q = cells.index("Question ID")
                    cols = (q, q + 1, q + 2, q + 3)
                continue
            qid = cells[cols[0]] if len(cells) > cols[0] else ""
            if not _QID.match(qid):
                continue
            answer, note = _cell(cells, cols[2]), _cell(cells, cols[3])
            if answer == "" and note.casefold().startswith("see note"):
                answer = "See Note"
            if answer.casefold() not in ("yes", "no", "n/a", "see note", "see notes") and not qid.startswith("DOC"):
                batch.problem(f"{ws.title}!row {r}", f"answer of {qid} is not Yes/No/N/A/See Note", answer)
            answers.append(Mds2Answer(qid, _cell(cells, cols[1]), answer, "" if note == "__" else note))
        if cols is None:
            raise reject(path, f"{ws.title}!header", "no 'Question ID' header row: not an MDS2 form")
        if not answers:
            raise reject(path, f"{ws.title}!column {cols[0] + 1}", "no question ids (e.g. DOC-1, MPII-1)")
        by_id = {a.question_id: a.answer for a in answers}
        vendor = self.vendor or by_id.get("DOC-1", "")
        model = self.model or by_id.get("DOC-3", "") or by_id.get("DOC-2", "")
        batch.feed_timestamp = by_id.get("DOC-7") or None
        batch.mds2.append(Mds2Profile(vendor, model, tuple(answers), profile_from_answers(answers)))
        return batch


IMPORTER = Mds2Importer()

"""CSV and XLSX renderings of export rows, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read as a
formula by spreadsheet programs (OWASP "CSV Injection"); such cells get a leading apostrophe, and XLSX
cells are always written as strings, never formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as text, defused against formula injection."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(rows: Sequence[Sequence[object]]) -> str:
    """RFC 4180 CSV text of ``rows`` (the first row is the header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return buffer.getvalue()


def to_xlsx(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """An XLSX workbook with one sheet per entry (the first row of each is a bold header)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    for default in list(book.worksheets):
        book.remove(default)
    bold = Font(bold=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title=title[:31])
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = safe_cell(value)
                cell.data_type = TYPE_STRING  # never a formula
                if r == 1:
                    cell.font = bold
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""One entry point for every report: ``build(engine, sources, fmt, what, departments)`` → bytes.

* ``pdf``: the executive report (``what`` is ignored).
* ``csv``: one table: ``inventory`` (default), ``findings`` or ``plan``.
* ``xlsx``: a workbook with the inventory sheet, plus findings and plan sheets when they exist.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from wardwatch.errors import WardwatchError
from wardwatch.reports import data, pdf, tables

FORMATS = ("pdf", "csv", "xlsx")
TABLES = ("inventory", "findings", "plan")
MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ReportError(WardwatchError):
    """A report that cannot be made (unknown format, or data not computed yet)."""


def _table(engine: sa.Engine, sources: data.ReportSources, what: str, departments: tuple[str, ...] | None
           ) -> list[list[str]] | None:
    if what == "inventory":
        return data.inventory_rows(engine, departments)
    if what == "findings":
        found = sources.all_findings(departments)
        return None if found is None else data.dict_rows(found)
    if what == "plan":
        planned = sources.plan()
        return None if planned is None else data.dict_rows(planned)
    raise ReportError(f"unknown table {what!r}; one of {', '.join(TABLES)}")


def build(engine: sa.Engine, sources: data.ReportSources, fmt: str, what: str = "inventory",
          departments: tuple[str, ...] | None = None) -> bytes:
    """The report as bytes (see the module docstring)."""
    if fmt == "pdf":
        return pdf.render(data.gather(engine, sources, departments))
    if fmt == "csv":
        rows = _table(engine, sources, what, departments)
        if rows is None:
            raise ReportError(f"{what} not computed yet")
        return tables.to_csv(rows).encode("utf-8")
    if fmt == "xlsx":
        sheets: dict[str, Sequence[Sequence[object]]] = {}
        for name in TABLES:
            rows = _table(engine, sources, name, departments)
            if rows is not None:
                sheets[name.capitalize()] = rows
        return tables.to_xlsx(sheets)
    raise ReportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def filename(fmt: str, what: str = "inventory") -> str:
    """A download file name."""
    return "wardwatch-executive-report.pdf" if fmt == "pdf" else f"wardwatch-{what}.{fmt}"

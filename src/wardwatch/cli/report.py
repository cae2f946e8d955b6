"""``wardwatch report``: the executive PDF, or CSV/XLSX exports of inventory, findings and plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wardwatch.cli.common import DbOption, err_console, fail, settings_for


def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.", dir_okay=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="pdf (executive report), csv or xlsx.")] = "pdf",
    table: Annotated[str, typer.Option(help="For csv: inventory, findings or plan.")] = "inventory",
    department: Annotated[list[str] | None, typer.Option(help="Limit to a department (repeat).")] = None,
    db: DbOption = None,
) -> None:
    """Write a report: the executive PDF, or an export of the inventory (and findings/plan when present)."""
    from wardwatch.reports.build import FORMATS, TABLES, ReportError, build
    from wardwatch.web.extensions import TableExtensions
    from wardwatch.web.services import open_engine

    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}", code=2)
    if table not in TABLES:
        fail(f"unknown table {table!r}; one of: {', '.join(TABLES)}", code=2)
    engine = open_engine(settings_for(ctx, db).database_url)
    try:
        body = build(engine, TableExtensions(engine), fmt, table, tuple(department) if department else None)
    except ReportError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    output.write_bytes(body)
    err_console.print(f"wrote {output} ({len(body)} bytes)", markup=False)

"""``wardwatch inventory import FILE``: a CMMS / asset-register export into the inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from wardwatch.cli.common import EXIT_SKIPPED, DbOption, console, fail, open_inventory

inventory_app = typer.Typer(help="Inventory imports and exports (CMMS CSV/XLSX).", no_args_is_help=True)


@inventory_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx export with a header row.")],
    db: DbOption = None,
) -> None:
    """Create or update devices from a CMMS-style export (mac, ip, hostname, vendor, model ...)."""
    from wardwatch.inventory.imports import import_file

    if not path.is_file():
        fail(f"no such file: {path}", code=2)
    inventory = open_inventory(ctx, db)
    report = import_file(inventory, path)
    console.print(Text(report.summary()))
    if report.skipped_rows or report.unknown_columns:
        raise typer.Exit(EXIT_SKIPPED)

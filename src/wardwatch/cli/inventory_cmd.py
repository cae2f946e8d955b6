"""``wardwatch inventory import FILE``: a CMMS / asset-register export into the inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from wardwatch.cli.common import EXIT_SKIPPED, DbOption, console, err_console, fail, open_inventory

inventory_app = typer.Typer(help="Inventory imports and exports (CMMS CSV/XLSX).", no_args_is_help=True)


@inventory_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx export with a header row.")],
    db: DbOption = None,
    sensor: Annotated[str, typer.Option(help="Sensor scope of IP-only rows.")] = "local",
) -> None:
    """Create or update devices from a CMMS-style export (mac, ip, hostname, vendor, model, firmware, serial,
    asset_tag, department, location, criticality ...). Unknown columns are reported, not fatal."""
    from wardwatch.inventory.imports import import_assets

    if not path.is_file():
        fail(f"no such file: {path}", code=2)
    inventory = open_inventory(ctx, db)
    summary = import_assets(inventory, path, sensor=sensor)
    console.print(Text(f"{summary.path}: {summary.rows} rows, {summary.imported} imported; devices: "
                       f"{summary.devices_new} new, {summary.devices_updated} updated"))
    if summary.unknown_columns:
        err_console.print(Text(f"unknown columns (ignored): {', '.join(summary.unknown_columns)}"))
    for row, reason in summary.malformed[:20]:
        err_console.print(Text(f"row {row} skipped: {reason}"))
    if len(summary.malformed) > 20:
        err_console.print(Text(f"... and {len(summary.malformed) - 20} more rows skipped"))
    if summary.malformed or summary.unknown_columns:
        raise typer.Exit(EXIT_SKIPPED)

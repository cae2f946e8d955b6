"""``wardwatch analyze CAPTURE...``: captures into the inventory, with a progress bar and a summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import (
    EXIT_SKIPPED,
    DbOption,
    console,
    err_console,
    fail,
    open_inventory,
)
from wardwatch.native import missing_extensions


def analyze(
    ctx: typer.Context,
    captures: Annotated[list[Path], typer.Argument(help="pcap / pcapng files, optionally gzip-compressed.")],
    db: DbOption = None,
    sensor: Annotated[str, typer.Option(help="Name of the sensor these captures come from.")] = "local",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Analyze capture files: discover and classify every device they show."""
    from wardwatch.pipeline.analyze import analyze_captures

    missing = [str(p) for p in captures if not p.is_file()]
    if missing:
        fail(f"no such capture file: {', '.join(missing)}", code=2)
    from wardwatch.alerting.config import routing_for
    from wardwatch.cli.common import settings_for

    settings = settings_for(ctx, db)
    routing = routing_for(settings)  # an invalid [alerting] section stops here, before any work
    inventory = open_inventory(ctx, db)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("analyzing", total=None)

        def on_file(path: Path) -> None:
            bar.update(task, description=path.name[:40], completed=0, total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        report = analyze_captures(
            captures, inventory, sensor=sensor, progress=on_progress, on_file=on_file,
            local_networks=settings.identify.local_networks, routing=routing,
        )
    elapsed = max(time.perf_counter() - started, 1e-9)
    table = Table(title="analyze summary", show_header=True)
    for column in ("file", "packets", "flows", "observations", "alerts", "skipped"):
        table.add_column(column)
    for f in report.files:
        skipped = f.error or (
            f"{f.skipped_records} records ({', '.join(f'{k}: {v}' for k, v in sorted(f.skip_reasons.items()))})"
            if f.skipped_records else "0"
        )
        table.add_row(Text(f.path), str(f.packets), str(f.flows), str(f.observations), str(f.alerts), Text(skipped))
    console.print(table)
    console.print(
        Text(
            f"{report.packets} packets in {elapsed:.1f} s ({report.packets / elapsed:,.0f} packets/s); "
            f"devices: {report.devices_new} new, {report.devices_updated} updated, "
            f"{report.devices_total} in the inventory"
        )
    )
    if report.dissected:
        console.print(Text("dissected: " + ", ".join(f"{k} {v}" for k, v in sorted(report.dissected.items()))))
    missing = missing_extensions()
    if missing:
        console.print(Text(f"note: the portable Python path ran for {len(missing)} hot-path loops (C extensions "
                           "not built: install a C compiler and the Python headers, then reinstall wardwatch, "
                           "for full speed; results are the same)"))
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)

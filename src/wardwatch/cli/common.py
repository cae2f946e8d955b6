"""What every CLI command shares: the database option, opening the inventory, output formats, errors.

Exit codes (issue 2, Interface): 0 done, 1 error, 2 usage error, 3 done but some input was skipped.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: WARDWATCH_DATABASE_URL, then a SQLite file "
                 "in the user's data directory).", envvar="WARDWATCH_DATABASE_URL"),
]


class OutputFormat(StrEnum):
    """Output formats of list commands."""

    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one clear line on stderr and exit with ``code``."""
    err_console.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def settings_for(ctx: typer.Context, db: str | None) -> Any:
    """The settings object, with ``--db`` (command or root) applied."""
    from wardwatch.settings import Settings

    root_db = (ctx.find_root().obj or {}).get("db") if ctx.find_root().obj else None
    overrides: dict[str, Any] = {}
    if db or root_db:
        overrides["database_url"] = db or root_db
    return Settings.load(overrides)


def open_inventory(ctx: typer.Context, db: str | None) -> Any:
    """Open (and migrate) the inventory named by the settings."""
    from wardwatch.pipeline.wiring import open_inventory as open_configured

    settings = settings_for(ctx, db)
    return open_configured(settings.database_url, settings)


def write_json(data: Any) -> None:
    """JSON on stdout, one document."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout with a header row; nested values are JSON-encoded."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    sys.stdout.write(buffer.getvalue())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)

"""``wardwatch demo``: a demo hospital end to end, then the web application on localhost.

``wardwatch demo`` generates a mid-size hospital, analyzes it, imports the built-in demo advisories (and
the ``wardwatch intel update`` cache), evaluates risk and the plan, runs detection, creates one account
per role and serves the dashboard. ``wardwatch demo generate`` only writes a capture and its truth.
Register with ``app.add_typer(demo_app, name="demo")``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import EXIT_ERROR, console, err_console, fail

demo_app = typer.Typer(help="A demo hospital: generate it, analyze it and explore it in the browser.",
                       invoke_without_command=True, no_args_is_help=False)

_STYLE = {"done": "green", "skipped": "yellow", "failed": "red"}


class _Bars:
    """Rich progress bars for the demo steps (generate and analyze have real progress)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def begin(self, name: str, total: int | None) -> None:
        self.task = self.progress.add_task(name, total=total)

    def advance(self, done: int, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total or None)

    def end(self, result: Any) -> None:
        if self.task is not None:
            task = self.progress.tasks[-1]
            self.progress.update(self.task, completed=task.total or 1, total=task.total or 1,
                                 description=f"{result.name} [{_STYLE[result.status.value]}]{result.status.value}[/]")
            self.task = None


def _summary(result: Any) -> None:
    table = Table(title="demo hospital", show_header=True)
    for column in ("step", "status", "seconds", "what"):
        table.add_column(column)
    for step in result.steps:
        table.add_row(step.name, Text(step.status.value, style=_STYLE[step.status.value]), f"{step.seconds:.1f}",
                      Text(step.note))
    err_console.print(table)


def _accounts(result: Any, url: str) -> None:
    table = Table(title=f"log in at {url}", show_header=True)
    for column in ("user", "role", "password", "departments"):
        table.add_column(column)
    for account in result.accounts:
        table.add_row(account.username, account.role, Text(account.password), ", ".join(account.departments) or "all")
    console.print(table)


@demo_app.callback()
def demo(
    ctx: typer.Context,
    devices: Annotated[int, typer.Option(min=40, help="Devices in the demo hospital.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same hospital).")] = 2024,
    workdir: Annotated[Path | None, typer.Option(help="Folder for the capture and the demo database "
                                                "(default: <user data dir>/wardwatch/demo).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a fresh SQLite file in the "
                                           "work folder, recreated on every run).")] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free port).")] = 8080,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web application afterwards.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
    demo_password: Annotated[str | None, typer.Option(help="One password for every demo account "
                                                      "(default: random per account and run).")] = None,
    intel_cache: Annotated[Path | None, typer.Option(help="Folder of `wardwatch intel update` downloads to "
                                                     "import as well.")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of traffic (60 s each) to generate.")] = 10,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Generate, analyze and serve a demo hospital: the whole of wardwatch in a minute, nothing to install."""
    if ctx.invoked_subcommand is not None:
        return
    from wardwatch.demo.run import DemoOptions, prepare_demo
    from wardwatch.demo.run.model import default_workdir

    root_db = (ctx.find_root().obj or {}).get("db")
    if demo_password is not None and len(demo_password) < 10:
        fail("--demo-password needs at least 10 characters", code=2)
    options = DemoOptions(workdir=workdir or default_workdir(), devices=devices, seed=seed,
                          database_url=db or root_db, password=demo_password, intel_cache=intel_cache, rounds=rounds)
    with Progress(TextColumn("[bold]{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=quiet or as_json, transient=False) as progress:
        result = prepare_demo(options, _Bars(progress))
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    elif not quiet:
        _summary(result)
    if not result.ok and not serve:
        raise typer.Exit(EXIT_ERROR)
    if not serve:
        return
    _serve(result, port, quiet=as_json)


def _serve(result: Any, port: int, *, quiet: bool) -> None:
    """Serve the dashboard on 127.0.0.1; the "serving on" line is printed once the socket listens."""
    import secrets

    import uvicorn

    from wardwatch.web.app import create_app

    app = create_app(result.database_url, secret_key=secrets.token_urlsafe(32))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            bound = port
            for server in getattr(self, "servers", []):
                for sock in server.sockets:
                    bound = sock.getsockname()[1]
            url = f"http://127.0.0.1:{bound}/"
            if not quiet:
                _accounts(result, url)
            err_console.print(f"wardwatch demo is serving on {url} (Ctrl-C stops it)", markup=False)
            sys.stderr.flush()

    _Server(config).run()


@demo_app.command("generate")
def generate(
    output: Annotated[Path, typer.Option("--output", "-o", help="The pcapng to write (truth: <name>.truth.json).")],
    devices: Annotated[int, typer.Option(min=40, help="Devices in the hospital.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed (same seed, same bytes).")] = 1,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of traffic (60 s each).")] = 10,
    background_packets: Annotated[int, typer.Option(min=0, help="Extra bulk DICOM packets (benchmarks).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write a demo hospital capture (pcapng) and its ground truth (JSON sidecar)."""
    from wardwatch.demo import generate_hospital

    if output.parent and not output.parent.is_dir():
        fail(f"no such folder: {output.parent}", code=2)
    with Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=quiet, transient=True) as progress:
        task = progress.add_task("generate", total=rounds)
        summary = generate_hospital(devices, seed, output, rounds=rounds, background_packets=background_packets,
                                    progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(Text(f"{summary.devices} devices, {summary.packets} packets, {summary.bytes / 2**20:.1f} MiB "
                       f"in {summary.elapsed_s:.1f} s → {summary.output} (truth: {summary.truth.name})"))

"""The ``wardwatch`` command: one Typer application, one module per command group."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from wardwatch import __version__
from wardwatch.cli.alert_cmd import alert_app, feeds_app, incident_app, training_app
from wardwatch.cli.analyze import analyze
from wardwatch.cli.common import EXIT_ERROR, EXIT_USAGE, err_console
from wardwatch.cli.demo_cmd import demo_app
from wardwatch.cli.devices import device, devices
from wardwatch.cli.inventory_cmd import inventory_app
from wardwatch.cli.prevent_cmd import alerts, baseline_app, policy_app
from wardwatch.cli.realtime_cmd import sensor, server, status
from wardwatch.cli.report import report
from wardwatch.cli.risk_cmd import findings, intel_app, plan, risk
from wardwatch.cli.serve import serve
from wardwatch.cli.users import token_app, user_app

app = typer.Typer(
    name="wardwatch",
    help="Open, on-premises security for connected medical devices: discover, classify, assess, protect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="Database URL for every command.",
                                           envvar="WARDWATCH_DATABASE_URL")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output.")] = 0,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """wardwatch: passive discovery and classification of medical and IT devices."""
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)
    ctx.obj = {"db": db}
    level = logging.WARNING - 10 * min(verbose, 2)
    from wardwatch.logging_setup import configure_logging

    configure_logging(level)


app.command()(analyze)
app.command()(devices)
app.command()(device)
app.add_typer(inventory_app, name="inventory")
app.add_typer(intel_app, name="intel")
app.command()(findings)
app.command()(risk)
app.command()(plan)
app.command()(serve)
app.command()(report)
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(baseline_app, name="baseline")
app.add_typer(policy_app, name="policy")
app.command()(alerts)
app.add_typer(alert_app, name="alert")
app.add_typer(feeds_app, name="feeds")
app.add_typer(incident_app, name="incident")
app.add_typer(training_app, name="training")
app.command()(sensor)
app.command()(server)
app.command()(status)


def main() -> None:
    """Console entry point: run the app; any error is one clear line and a non-zero exit."""
    from wardwatch.errors import WardwatchError

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except WardwatchError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        usage, click_error = _click_exceptions()
        if isinstance(exc, usage):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(EXIT_USAGE)
        if isinstance(exc, click_error):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if os.environ.get("WARDWATCH_DEBUG"):
            raise
        err_console.print(f"error: {type(exc).__name__}: {exc}", markup=False)
        sys.exit(EXIT_ERROR)
    sys.exit(0)


def _click_exceptions() -> tuple[type[Exception], type[Exception]]:
    """UsageError and ClickException of the click that Typer uses (vendored in recent Typer releases)."""
    try:
        from typer._click import exceptions as vendored  # type: ignore[import-not-found]

        return vendored.UsageError, vendored.ClickException
    except ImportError:
        import click

        return click.exceptions.UsageError, click.exceptions.ClickException

"""``wardwatch alert ack|assign|resolve|suppress|escalate|show`` and ``wardwatch feeds import|poll|list``.

The incident and training groups live in :mod:`wardwatch.cli.incident_cmd` and are re-exported here, so the
application registers ``alert_app``, ``feeds_app``, ``incident_app`` and ``training_app`` from this module.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import DbOption, OutputFormat, console, fail, open_inventory, write_json
from wardwatch.cli.incident_cmd import incident_app, training_app
from wardwatch.errors import ConfigError, NotFoundError, ParseError, WardwatchError

__all__ = ["alert_app", "feeds_app", "incident_app", "training_app"]

alert_app = typer.Typer(help="Work an alert: acknowledge, assign, resolve, suppress; escalate overdue ones.",
                        no_args_is_help=True)
feeds_app = typer.Typer(help="Threat-intelligence feeds: STIX 2.1, TAXII 2.1, MISP.", no_args_is_help=True)

ByOption = Annotated[str | None, typer.Option("--by", help="Who acts (default: the login name).")]
NowOption = Annotated[float | None, typer.Option("--now", help="Clock for the action (epoch seconds; default now).")]


def actor(by: str | None) -> str:
    """The person acting."""
    return by or getpass.getuser()


def _desk(ctx: typer.Context, db: str | None, *, deliver: bool = False) -> Any:
    """The alert desk; its routing from the ``[alerting]`` settings.

    Only a command that delivers (``escalate``) fails on a broken ``[alerting]`` section: acknowledging,
    assigning or resolving an alert must keep working while delivery is misconfigured, so those warn and
    go on with the default team ownership.
    """
    from wardwatch.alerting.config import routing_for
    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.alerting.routing import Routing
    from wardwatch.cli.common import err_console, settings_for

    settings = settings_for(ctx, db)
    try:
        routing = routing_for(settings)
    except ConfigError as exc:
        if deliver:
            raise
        err_console.print(f"warning: {exc}; alerts are not delivered until it is fixed", markup=False)
        routing = Routing()
    return AlertDesk(open_inventory(ctx, db).engine, routing)


def _show(view: Any, output: OutputFormat) -> None:
    data = {**view.alert.to_dict(), "teams": list(view.teams), "assignee": view.assignee,
            "acknowledged_by": view.acknowledged_by, "resolved_by": view.resolved_by,
            "suppressed_until": view.suppressed_until, "suppress_reason": view.suppress_reason,
            "escalation_level": view.escalation_level}
    if output is OutputFormat.json:
        write_json(data)
        return
    for key in ("id", "rule", "severity", "status", "title", "teams", "assignee", "escalation_level",
                "suppressed_until", "suppress_reason"):
        console.print(Text(f"{key:>18}: {data.get(key)}"))


def _act(ctx: typer.Context, db: str | None, alert_id: int, output: OutputFormat, call: str, **kw: Any) -> None:
    desk = _desk(ctx, db)
    try:
        view = getattr(desk, call)(alert_id, **kw)
    except NotFoundError as exc:
        fail(str(exc))
    except WardwatchError as exc:
        fail(str(exc), code=2)
    _show(view, output)


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")]


@alert_app.command("show")
def alert_show(ctx: typer.Context, alert_id: int, db: DbOption = None, output: FormatOption = OutputFormat.table
               ) -> None:
    """One alert with its lifecycle state and audit trail."""
    desk = _desk(ctx, db)
    try:
        view = desk.get(alert_id)
    except NotFoundError as exc:
        fail(str(exc))
    _show(view, output)
    if output is OutputFormat.table:
        for event in desk.events(alert_id):
            console.print(Text(f"  {event['ts']:.0f} {event['actor']} {event['action']} {event['note']}"))


@alert_app.command("ack")
def alert_ack(ctx: typer.Context, alert_id: int, db: DbOption = None, by: ByOption = None, now: NowOption = None,
              output: FormatOption = OutputFormat.table) -> None:
    """Acknowledge an alert (stops its escalation)."""
    _act(ctx, db, alert_id, output, "acknowledge", actor=actor(by), now=now)


@alert_app.command("assign")
def alert_assign(ctx: typer.Context, alert_id: int, db: DbOption = None, by: ByOption = None,
                 person: Annotated[str | None, typer.Option(help="Assignee.")] = None,
                 team: Annotated[str | None, typer.Option(help="Owning team.")] = None, now: NowOption = None,
                 output: FormatOption = OutputFormat.table) -> None:
    """Assign an alert to a person and/or a team."""
    _act(ctx, db, alert_id, output, "assign", actor=actor(by), person=person, team=team, now=now)


@alert_app.command("resolve")
def alert_resolve(ctx: typer.Context, alert_id: int, db: DbOption = None, by: ByOption = None,
                  note: Annotated[str, typer.Option(help="How it was resolved.")] = "", now: NowOption = None,
                  output: FormatOption = OutputFormat.table) -> None:
    """Resolve an alert."""
    _act(ctx, db, alert_id, output, "resolve", actor=actor(by), note=note, now=now)


@alert_app.command("suppress")
def alert_suppress(ctx: typer.Context, alert_id: int,
                   reason: Annotated[str, typer.Option(help="Why (required).")],
                   hours: Annotated[float, typer.Option("--for", help="For how many hours.")] = 24.0,
                   db: DbOption = None, by: ByOption = None, now: NowOption = None,
                   output: FormatOption = OutputFormat.table) -> None:
    """Silence an alert and its repeats for a while, with a reason."""
    moment = time.time() if now is None else now
    _act(ctx, db, alert_id, output, "suppress", actor=actor(by), reason=reason, until=moment + hours * 3600,
         now=moment)


@alert_app.command("escalate")
def alert_escalate(ctx: typer.Context, db: DbOption = None, now: NowOption = None) -> None:
    """Escalate every alert not acknowledged within its severity's deadline (run periodically)."""
    from wardwatch.alerting.escalation import EscalationPolicy, escalate

    done = escalate(_desk(ctx, db, deliver=True), EscalationPolicy(), time.time() if now is None else now)
    for step in done:
        console.print(Text(f"alert {step.alert_id} → level {step.level} {step.assignee or ''}"))
    console.print(Text(f"{len(done)} escalated"))


# -- feeds ---------------------------------------------------------------------------------------------
def _warn(ctx: typer.Context, db: str | None, inventory: Any, window_days: float) -> Any:
    from wardwatch.alerting.config import routing_for
    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.cli.common import settings_for
    from wardwatch.detect.early_warning import EarlyWarning

    routing = routing_for(settings_for(ctx, db))
    return EarlyWarning(inventory, AlertDesk(inventory.engine, routing), window_days=window_days)


@feeds_app.command("import")
def feeds_import(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="STIX 2.1 bundle files and MISP feed folders.")],
    db: DbOption = None,
    feed: Annotated[str | None, typer.Option(help="Feed name (default: from the file or folder name).")] = None,
    tlp: Annotated[str, typer.Option(help="TLP of unmarked content.")] = "TLP:GREEN",
    window_days: Annotated[float, typer.Option(help="Early warning looks this far back in the flows.")] = 30.0,
    now: NowOption = None,
) -> None:
    """Import threat-intelligence files; new indicators are matched against stored flows at once."""
    from wardwatch.intel.indicators import Tlp
    from wardwatch.intel.misp import MispFeed
    from wardwatch.intel.stix import read_bundle
    from wardwatch.intel.ti_store import IndicatorStore

    level = Tlp.parse(tlp)
    if level is None:
        fail(f"not a TLP level: {tlp}", code=2)
    inventory = open_inventory(ctx, db)
    store, moment = IndicatorStore(inventory.engine), time.time() if now is None else now
    warning, failed = _warn(ctx, db, inventory, window_days), 0
    for path in paths:
        name = feed or (f"misp:{path.name}" if path.is_dir() else f"stix:{path.stem}")
        try:
            batch = (MispFeed(name, str(path), level).fetch() if path.is_dir()
                     else read_bundle(path, name, default_tlp=level))
        except ParseError as exc:
            store.record_failure(name, str(exc), kind="import", now=moment)
            console.print(Text(f"rejected {path}: {exc}"))
            failed += 1
            continue
        result = store.store(batch, kind="misp-feed" if path.is_dir() else "stix-file", now=moment)
        raised = warning.on_indicators(result.added, moment)
        console.print(Text(f"{path}: {len(batch.indicators)} indicators ({len(result.added)} new), "
                           f"{len(batch.vulnerabilities)} CVEs, {len(batch.problems)} problems, {len(raised)} alerts"))
    if failed:
        raise typer.Exit(3)


@feeds_app.command("poll")
def feeds_poll(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(help="TOML file with [[feeds]] (default: the settings file).")] = None,
    db: DbOption = None,
    window_days: Annotated[float, typer.Option(help="Early warning looks this far back in the flows.")] = 30.0,
    all_feeds: Annotated[bool, typer.Option("--all", help="Poll every feed, due or not.")] = False,
    now: NowOption = None,
) -> None:
    """Poll the configured feeds that are due; failures are reported and keep what was known."""
    from wardwatch.intel.feeds_schedule import FeedScheduler, load_feeds
    from wardwatch.intel.ti_store import IndicatorStore
    from wardwatch.settings import default_config_path

    path = config or default_config_path()
    try:
        feeds = load_feeds(path)
    except ConfigError as exc:
        fail(str(exc), code=2)
    inventory = open_inventory(ctx, db)
    moment = time.time() if now is None else now
    warning = _warn(ctx, db, inventory, window_days)
    scheduler = FeedScheduler(IndicatorStore(inventory.engine), feeds,
                              on_result=lambda r: warning.on_indicators(r.added, moment))
    outcomes = [scheduler.run(f, moment) for f in feeds] if all_feeds else scheduler.run_due(moment)
    for outcome in outcomes:
        text = (f"{outcome.feed}: ok, {len(outcome.result.added)} new" if outcome.ok and outcome.result
                else f"{outcome.feed}: FAILED {outcome.error}")
        console.print(Text(text))
    if any(not o.ok for o in outcomes):
        raise typer.Exit(3)


@feeds_app.command("list")
def feeds_list(ctx: typer.Context, db: DbOption = None, output: FormatOption = OutputFormat.table) -> None:
    """Every feed seen: last attempt and success, consecutive failures, indicators held."""
    from wardwatch.intel.ti_store import IndicatorStore

    rows = [{"name": f.name, "kind": f.kind, "last_attempt": f.last_attempt, "last_success": f.last_success,
             "failures": f.failures, "items": f.items, "last_error": f.last_error}
            for f in IndicatorStore(open_inventory(ctx, db).engine).feeds()]
    if output is OutputFormat.json:
        write_json(rows)
        return
    table = Table(show_header=True)
    for column in ("name", "kind", "items", "failures", "last_success", "last_error"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text("" if row[c] is None else str(row[c])) for c in
                        ("name", "kind", "items", "failures", "last_success", "last_error")))
    console.print(table)

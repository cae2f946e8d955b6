"""``wardwatch incident open|advance|task|evidence|notify|close|show|report`` and ``wardwatch training``.

Registered by the application through :mod:`wardwatch.cli.alert_cmd` (``incident_app``, ``training_app``).
"""

from __future__ import annotations

import getpass
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from wardwatch.cli.common import DbOption, OutputFormat, console, fail, open_inventory, write_json
from wardwatch.errors import NotFoundError, WardwatchError

incident_app = typer.Typer(help="Incidents after NIST SP 800-61: phases, playbook tasks, timeline, report.",
                           no_args_is_help=True)
training_app = typer.Typer(help="Security-culture register: programmes, people, sessions, reminders.",
                           no_args_is_help=True)

ByOption = Annotated[str | None, typer.Option("--by", help="Who acts (default: the login name).")]
NowOption = Annotated[float | None, typer.Option("--now", help="Clock for the action (epoch seconds; default now).")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")]


def _service(ctx: typer.Context, db: str | None) -> Any:
    from wardwatch.respond.service import IncidentService

    return IncidentService(open_inventory(ctx, db).engine)


def _print(incident: Any, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        write_json({"id": incident.id, "title": incident.title, "phase": incident.phase.value,
                    "status": incident.status, "playbook": incident.playbook, "alerts": list(incident.alert_ids),
                    "devices": [k for k, _ in incident.devices],
                    "tasks": [{"key": t.key, "phase": t.phase.value, "title": t.title, "kind": t.kind,
                               "done_by": t.done_by, "done_at": t.done_at} for t in incident.tasks],
                    "timeline": [{"ts": e.ts, "actor": e.actor, "action": e.action, "detail": e.detail}
                                 for e in incident.timeline]})
        return
    console.print(Text(f"INC-{incident.id} [{incident.status}] {incident.title} — {incident.phase.label} "
                       f"(playbook {incident.playbook})"))
    for task in incident.tasks_of(incident.phase):
        console.print(Text(f"  [{'x' if task.done else ' '}] {task.key}: {task.title}"))


def _run(ctx: typer.Context, db: str | None, output: OutputFormat, call: str, *args: Any, **kw: Any) -> None:
    try:
        incident = getattr(_service(ctx, db), call)(*args, **kw)
    except NotFoundError as exc:
        fail(str(exc))
    except WardwatchError as exc:
        fail(str(exc), code=2)
    _print(incident, output)


@incident_app.command("open")
def incident_open(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="What happened, in a line.")],
    alert: Annotated[list[int] | None, typer.Option("--alert", help="Alert id (repeatable).")] = None,
    device: Annotated[list[str] | None, typer.Option("--device", help="Device id, MAC or IP (repeatable).")] = None,
    severity: Annotated[str, typer.Option(help="info, low, medium, high, critical.")] = "high",
    summary: Annotated[str, typer.Option(help="What is known so far.")] = "",
    lead: Annotated[str | None, typer.Option(help="Incident lead.")] = None,
    playbook: Annotated[str | None, typer.Option(help="Playbook (default: from the devices' classes).")] = None,
    db: DbOption = None, by: ByOption = None, now: NowOption = None, output: FormatOption = OutputFormat.table,
) -> None:
    """Open an incident over alerts and devices; alert devices are included."""
    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.domain.alert import Severity

    inventory = open_inventory(ctx, db)
    keys = list(device or [])
    try:
        for alert_id in alert or []:
            keys += list(AlertDesk(inventory.engine).get(alert_id).alert.devices)
        devices = list({d.key: d for d in (inventory.get_device(k) for k in keys)}.values())
        level = Severity[severity.upper()]
    except KeyError:
        fail(f"unknown severity {severity!r}", code=2)
    except NotFoundError as exc:
        fail(str(exc))
    _run(ctx, db, output, "open", title, by or getpass.getuser(), devices=devices, alert_ids=alert or [],
         severity=level, summary=summary, lead=lead, playbook=playbook, now=now)


@incident_app.command("advance")
def incident_advance(ctx: typer.Context, incident_id: int, db: DbOption = None, by: ByOption = None,
                     force: Annotated[str | None,
                                      typer.Option(help="Advance with open tasks, for this reason.")] = None,
                     now: NowOption = None, output: FormatOption = OutputFormat.table) -> None:
    """Move the incident to the next NIST phase (its tasks must be done)."""
    _run(ctx, db, output, "advance", incident_id, by or getpass.getuser(), force_reason=force, now=now)


@incident_app.command("task")
def incident_task(ctx: typer.Context, incident_id: int, key: str, db: DbOption = None, by: ByOption = None,
                  note: Annotated[str, typer.Option(help="What was done.")] = "", now: NowOption = None,
                  output: FormatOption = OutputFormat.table) -> None:
    """Mark a playbook task done."""
    _run(ctx, db, output, "complete_task", incident_id, key, by or getpass.getuser(), note=note, now=now)


@incident_app.command("evidence")
def incident_evidence(ctx: typer.Context, incident_id: int,
                      kind: Annotated[str, typer.Option(help="capture, snapshot, note, document.")],
                      ref: Annotated[str, typer.Option(help="A reference (path, URL, device key).")],
                      description: Annotated[str, typer.Option(help="What it is.")] = "",
                      file: Annotated[Path | None, typer.Option(help="A file to fingerprint (SHA-256).")] = None,
                      db: DbOption = None, by: ByOption = None, now: NowOption = None,
                      output: FormatOption = OutputFormat.table) -> None:
    """Attach evidence to the incident."""
    _run(ctx, db, output, "add_evidence", incident_id, by or getpass.getuser(), kind=kind, ref=ref,
         description=description, path=file, now=now)


@incident_app.command("close")
def incident_close(ctx: typer.Context, incident_id: int, db: DbOption = None, by: ByOption = None,
                   now: NowOption = None, output: FormatOption = OutputFormat.table) -> None:
    """Close the incident after post-incident activity."""
    _run(ctx, db, output, "close", incident_id, by or getpass.getuser(), now=now)


@incident_app.command("show")
def incident_show(ctx: typer.Context, incident_id: int, db: DbOption = None,
                  output: FormatOption = OutputFormat.table) -> None:
    """Show an incident."""
    _run(ctx, db, output, "get", incident_id)


@incident_app.command("notify")
def incident_notify(ctx: typer.Context, incident_id: int,
                    template: Annotated[str, typer.Argument(help="manufacturer, clinical_lead or authority.")],
                    organisation: Annotated[str, typer.Option(help="Your organisation's name.")] = "the hospital",
                    db: DbOption = None) -> None:
    """Print a notification drafted from the incident (manufacturer, clinical lead, FDA/authority)."""
    try:
        typer.echo(_service(ctx, db).notification(incident_id, template, organisation=organisation))
    except NotFoundError as exc:
        fail(str(exc))
    except KeyError:
        fail(f"unknown template {template!r}", code=2)


@incident_app.command("report")
def incident_report(ctx: typer.Context, incident_id: int,
                    out: Annotated[Path, typer.Option("-o", "--output", help="PDF file to write.")],
                    db: DbOption = None) -> None:
    """Write the post-incident report (PDF)."""
    from wardwatch.respond.report import post_incident_pdf

    try:
        incident = _service(ctx, db).get(incident_id)
    except NotFoundError as exc:
        fail(str(exc))
    out.write_bytes(post_incident_pdf(incident))
    console.print(Text(f"wrote {out}"))


# -- training ------------------------------------------------------------------------------------------
def _register(ctx: typer.Context, db: str | None) -> Any:
    from wardwatch.training.register import TrainingRegister

    return TrainingRegister(open_inventory(ctx, db).engine)


def _day(text: str | None) -> float:
    if not text:
        return time.time()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
    except ValueError:
        fail(f"not a date: {text!r} (YYYY-MM-DD)", code=2)


@training_app.command("programme")
def training_programme(ctx: typer.Context, code: str, title: str,
                       role: Annotated[list[str], typer.Option("--role", help="Role that must attend (repeatable).")],
                       validity_days: Annotated[int | None,
                                                typer.Option(help="Completion stays valid this long.")] = 365,
                       grace_days: Annotated[int, typer.Option(help="Newcomers' time to complete.")] = 30,
                       db: DbOption = None) -> None:
    """Add or update a training programme."""
    _register(ctx, db).add_programme(code, title, role, validity_days=validity_days, grace_days=grace_days)
    console.print(Text(f"programme {code}"))


@training_app.command("person")
def training_person(ctx: typer.Context, name: str, role: str, email: str | None = None,
                    joined: Annotated[str | None, typer.Option(help="Date joined (YYYY-MM-DD).")] = None,
                    db: DbOption = None) -> None:
    """Add or update a member of staff."""
    _register(ctx, db).add_person(name, role, email=email, joined_at=_day(joined))
    console.print(Text(f"person {name}"))


@training_app.command("session")
def training_session(ctx: typer.Context, programme: str, held: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
                     attendee: Annotated[list[str], typer.Option("--attendee", help="Who attended (repeatable).")],
                     trainer: str = "", db: DbOption = None) -> None:
    """Record a session and its attendees."""
    try:
        _register(ctx, db).add_session(programme, _day(held), trainer=trainer, attendees=attendee)
    except WardwatchError as exc:
        fail(str(exc), code=2)
    console.print(Text(f"session of {programme}: {len(attendee)} attendee(s)"))


@training_app.command("reminders")
def training_reminders(ctx: typer.Context, db: DbOption = None, now: NowOption = None,
                       output: FormatOption = OutputFormat.table) -> None:
    """Everyone overdue for a programme they must complete."""
    found = _register(ctx, db).reminders(time.time() if now is None else now)
    if output is OutputFormat.json:
        write_json([asdict(r) for r in found])
        return
    for r in found:
        console.print(Text(f"{r.person} ({r.role}) is overdue for {r.programme}: {r.title}"))
    console.print(Text(f"{len(found)} overdue"))


@training_app.command("completion")
def training_completion(ctx: typer.Context, db: DbOption = None, now: NowOption = None,
                        output: FormatOption = OutputFormat.table) -> None:
    """Completion per role (what the manager dashboard shows)."""
    from wardwatch.training.register import completion_by_role

    rows = [{"role": c.role, "required": c.required, "current": c.current, "percent": c.percent}
            for c in completion_by_role(open_inventory(ctx, db).engine, now)]
    if output is OutputFormat.json:
        write_json(rows)
        return
    for row in rows:
        console.print(Text(f"{row['role']}: {row['current']}/{row['required']} ({row['percent']}%)"))

"""``wardwatch intel import|update``, ``wardwatch findings``, ``wardwatch risk`` and ``wardwatch plan`` (issue 4).

``findings``, ``risk`` and ``plan`` evaluate on demand when the stored results are stale (after an analyze,
an inventory import, an intel import, a person's decision or a change of the ``[risk]`` settings), so they
always show the current state; otherwise they only read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import (
    EXIT_SKIPPED,
    DbOption,
    OutputFormat,
    console,
    err_console,
    fail,
    open_inventory,
    settings_for,
    write_csv,
    write_json,
)
from wardwatch.errors import NotFoundError, WardwatchError

intel_app = typer.Typer(help="The vulnerability knowledge base: import files, update the public feeds.",
                        no_args_is_help=True)

FINDING_COLUMNS = ("id", "device_id", "kind", "cve", "advisory", "status", "state", "severity", "cvss", "priority",
                   "ssvc", "title", "component", "sla_days", "explanation")
ACTION_COLUMNS = ("id", "kind", "title", "owner_team", "effort_hours", "downtime_hours", "risk_removed", "due_date",
                  "device_ids", "explanation")


def _open(ctx: typer.Context, db: str | None) -> tuple[Any, Any, Any]:
    """The inventory, its knowledge base (same database) and the settings."""
    from wardwatch.intel.store import KnowledgeBase

    settings = settings_for(ctx, db)
    inventory = open_inventory(ctx, db)
    return inventory, KnowledgeBase(inventory.engine, create=False), settings


def _fresh(ctx: typer.Context, db: str | None) -> tuple[Any, Any, Any]:
    """Open everything and evaluate when the stored results are stale."""
    inventory, kb, settings, _report = _fresh_report(ctx, db)
    return inventory, kb, settings


def _fresh_report(ctx: typer.Context, db: str | None) -> tuple[Any, Any, Any, Any]:
    """As :func:`_fresh`, with the evaluation's report (None when the stored results were current)."""
    from wardwatch.risk.service import ensure_fresh

    inventory, kb, settings = _open(ctx, db)
    report = ensure_fresh(inventory, kb, settings)
    if report is not None:
        err_console.print(f"evaluated {report.devices} devices: {report.findings} findings "
                          f"({report.opened} new, {report.fixed} fixed) in {report.seconds:.1f} s", markup=False)
    return inventory, kb, settings, report


def _known(kb: Any) -> tuple[dict[tuple[str, str], str], set[str]]:
    """What the knowledge base holds before an import: each advisory's version stamp, the KEV CVEs."""
    return kb.advisory_versions(), set(kb.kev())


def _early_warning(inventory: Any, kb: Any, before: tuple[dict[tuple[str, str], str], set[str]],
                   settings: Any) -> list[Any]:
    """Issue 9 early warning after an import: one alert per new or updated advisory, and per new KEV entry,
    that touches devices of the inventory (matched at once; re-imports raise nothing new), delivered through
    the ``[alerting]`` routes of ``settings``."""
    import time

    from wardwatch.alerting.config import routing_for
    from wardwatch.alerting.lifecycle import AlertDesk
    from wardwatch.detect.early_warning import EarlyWarning

    versions, kev_before = before
    now_versions, kev_now = _known(kb)
    changed = {key for key, version in now_versions.items() if versions.get(key) != version}
    new_kev = kev_now - kev_before
    if not changed and not new_kev:
        return []
    warning = EarlyWarning(inventory, AlertDesk(inventory.engine, routing_for(settings)), kb=kb)
    now = time.time()
    fresh = [a for a in kb.advisories() if (a.source, a.id) in changed]
    raised: list[Any] = warning.on_advisories(fresh, now) if fresh else []
    if new_kev:
        entries = kb.kev()
        raised += warning.on_kev([entries[c] for c in sorted(new_kev)], now)
    return raised


def _print_warnings(raised: list[Any]) -> None:
    for r in raised:
        if r.new:
            err_console.print(f"early warning: {r.alert.title} ({len(r.alert.devices)} device(s))", markup=False)


def _warning_dict(raised: list[Any]) -> list[dict[str, Any]]:
    return [{"rule": r.alert.rule, "title": r.alert.title, "new": r.new, "devices": list(r.alert.devices),
             "details": r.alert.details} for r in raised]


def _print_import(report: Any, quiet: bool = False) -> None:
    for _file, error in report.rejected:
        err_console.print(f"rejected {error}", markup=False)
    if not quiet:
        for problem in report.problems[:50]:
            err_console.print(f"problem {problem.file}: {problem.path}: {problem.message}", markup=False)
    records = sum(n for _, _, n in report.imported)
    console.print(Text(f"imported {len(report.imported)} files ({records} records), skipped {len(report.skipped)}, "
                       f"rejected {len(report.rejected)}, {len(report.problems)} fields not interpreted"))


@intel_app.command("import")
def intel_import(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (CSAF, NVD, CVE 5, KEV, EPSS, SBOM, MDS2).")],
    db: DbOption = None,
    schema_dir: Annotated[Path | None, typer.Option(
        "--schema-dir", envvar="WARDWATCH_CSAF_SCHEMA_DIR",
        help="Folder of the OASIS CSAF 2.0 JSON schemas (validates advisories).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Vendor of the device model an SBOM or MDS2 form is for.")] = None,
    model: Annotated[str | None, typer.Option(help="Device model an SBOM or MDS2 form is for.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
) -> None:
    """Import intel files offline; each file all or nothing. Exit 3 when a file was skipped or rejected.

    A new or updated advisory, or a new KEV entry, that touches devices of the inventory raises one
    early-warning alert listing them (``wardwatch alert list``)."""
    from wardwatch.intel.service import import_paths

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing[:3])}", code=2)
    inventory, kb, settings = _open(ctx, db)
    before = _known(kb)
    report = import_paths(kb, paths, schema_dir=schema_dir, vendor=vendor, model=model)
    raised = _early_warning(inventory, kb, before, settings) if report.imported else []
    if output is OutputFormat.json:
        write_json({**report.to_dict(), "early_warning": _warning_dict(raised)})
    else:
        _print_import(report)
        _print_warnings(raised)
    if report.skipped or report.rejected:
        raise typer.Exit(EXIT_SKIPPED)


@intel_app.command("update")
def intel_update(
    ctx: typer.Context,
    db: DbOption = None,
    cache: Annotated[Path | None, typer.Option(help="Folder of downloaded feeds (kept between runs).")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="A mirror serving the feed files by name (kev.json, epss.csv.gz ...).")] = None,
    nvd_url: Annotated[str | None, typer.Option(help="NVD CVE API 2.0 endpoint to page through.")] = None,
    do_import: Annotated[bool, typer.Option("--import/--no-import", help="Import what was downloaded.")] = True,
) -> None:
    """Download the public feeds with conditional requests (ETag, Last-Modified), then import them."""
    import platformdirs

    from wardwatch.intel.service import import_paths
    from wardwatch.intel.update import DEFAULT_FEEDS, update_feeds

    folder = cache or Path(platformdirs.user_cache_dir("wardwatch")) / "feeds"
    feeds = dict(DEFAULT_FEEDS)
    if base_url:
        feeds = {name: f"{base_url.rstrip('/')}/{name}" for name in feeds}
    report = update_feeds(folder, feeds, nvd_url=nvd_url)
    for name, reason in report.failed:
        err_console.print(f"failed {name}: {reason}", markup=False)
    console.print(Text(f"downloaded {len(report.downloaded)}, not modified {len(report.not_modified)}, "
                       f"failed {len(report.failed)} (cache {folder})"))
    if do_import:
        files = [f for f in report.files if f.exists() and not f.name.endswith(".txt")]
        inventory, kb, settings = _open(ctx, db)
        before = _known(kb)
        imported = import_paths(kb, files)
        _print_import(imported, quiet=True)
        _print_warnings(_early_warning(inventory, kb, before, settings) if imported.imported else [])
    if report.failed:
        raise typer.Exit(EXIT_SKIPPED)


def findings(
    ctx: typer.Context,
    db: DbOption = None,
    device: Annotated[str | None, typer.Option("--device", help="Device id, MAC, IP or host name.")] = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Match status (affected, possibly_affected, not_affected, fixed) or state (open, "
        "mitigated, accepted); repeatable.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    limit: Annotated[int | None, typer.Option(help="At most this many findings.")] = None,
    accept: Annotated[list[int] | None, typer.Option("--accept", help="Accept the risk of finding ID.")] = None,
    mitigate: Annotated[list[int] | None, typer.Option("--mitigate", help="Mark finding ID mitigated.")] = None,
    reopen: Annotated[list[int] | None, typer.Option("--reopen", help="Reopen finding ID.")] = None,
    note: Annotated[str, typer.Option(help="Why (kept in the finding's history).")] = "",
) -> None:
    """Vulnerability and hygiene findings, most urgent first (KEV, EPSS and SSVC in the explanation)."""
    from wardwatch.risk import queries
    from wardwatch.risk.store import set_state

    inventory, _kb, _settings = _fresh(ctx, db)
    changes = [(i, "accepted") for i in accept or []] + [(i, "mitigated") for i in mitigate or []] + [
        (i, "open") for i in reopen or []]
    if changes:
        actor = os.environ.get("USER") or "cli"
        try:
            for finding_id, state in changes:
                set_state(inventory.engine, finding_id, state, actor, note)
        except (NotFoundError, WardwatchError) as exc:
            fail(str(exc))
        console.print(Text(f"{len(changes)} finding(s) updated"))
        return
    device_id = _device_id(inventory, device) if device else None
    rows = queries.list_findings(inventory.engine, device_id=device_id, statuses=status or (), limit=limit)
    if output is OutputFormat.json:
        write_json(rows)
    elif output is OutputFormat.csv:
        write_csv(rows, FINDING_COLUMNS)
    else:
        table = Table(show_header=True)
        for column in ("id", "device", "severity", "prio", "ssvc", "status", "state", "cve / title", "advisory"):
            table.add_column(column)
        for r in rows:
            table.add_row(str(r["id"]), str(r["device_id"]), r["severity"], f"{r['priority']:.0f}", r["ssvc"] or "",
                          r["status"], r["state"], Text(r["cve"] or r["title"]), Text(r["advisory"] or ""))
        console.print(table)
        console.print(Text(f"{len(rows)} findings"))


def _device_id(inventory: Any, key: str) -> int:
    try:
        return int(inventory.get_device(key).id)
    except NotFoundError as exc:
        fail(str(exc))


def risk(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="Device id, MAC, IP or host name (all devices if omitted).")] = None,
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
    paths: Annotated[bool, typer.Option("--paths", help="Attack paths from entry points to critical clinical "
                                        "devices and the weakest points, instead of scores.")] = False,
    max_hops: Annotated[int, typer.Option("--max-hops", min=1, max=8, help="Longest path (with --paths).")] = 4,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Paths and weak points shown (with --paths).")] = 50,
) -> None:
    """The explainable risk score of a device (or of every device): level and every factor with its source."""
    from wardwatch.risk import queries

    if paths:
        _paths(ctx, db, output, max_hops, limit)
        return
    inventory, _kb, _settings = _fresh(ctx, db)
    if key is not None:
        found = queries.risk_for(inventory.engine, _device_id(inventory, key))
        rows = [found] if found is not None else []
    else:
        rows = queries.all_risks(inventory.engine)
    if output is OutputFormat.json:
        write_json(rows[0] if key is not None and rows else rows)
        return
    if output is OutputFormat.csv:
        write_csv(rows, ("device_id", "score", "level", "likelihood", "impact"))
        return
    for r in rows if key is not None else []:
        console.print(Text(f"device {r['device_id']}: score {r['score']} ({r['level']}), likelihood "
                           f"{r['likelihood']}, impact {r['impact']}", style="bold"))
        table = Table(show_header=True)
        for column in ("factor", "value", "contribution", "source"):
            table.add_column(column)
        for f in r["factors"]:
            table.add_row(Text(f["name"]), Text(f["value"]), f"{f['contribution']:+.3f}", Text(f["source"]))
        console.print(table)
    if key is None:
        table = Table(show_header=True)
        for column in ("device", "score", "level", "top factors"):
            table.add_column(column)
        for r in rows:
            top = sorted(r["factors"], key=lambda f: -abs(f["contribution"]))[:3]
            table.add_row(str(r["device_id"]), f"{r['score']:.1f}", r["level"],
                          Text("; ".join(f"{f['name']}: {f['value']}" for f in top)))
        console.print(table)


def _paths(ctx: typer.Context, db: str | None, output: OutputFormat, max_hops: int, limit: int) -> None:
    """``risk --paths``: attack paths over the observed communication graph and the weakest points."""
    from wardwatch.risk.paths import analyze_inventory
    from wardwatch.risk.service import risk_weights

    inventory = open_inventory(ctx, db)
    report = analyze_inventory(inventory, risk_weights(settings_for(ctx, db)), max_hops)
    data = report.to_dict(limit)
    if output is OutputFormat.json:
        write_json(data)
        return
    if output is OutputFormat.csv:
        write_csv(data["paths"], ("entry", "target", "hops", "why_entry", "explanation"))
        return
    table = Table(show_header=True, title="Weakest points (critical devices exposed)")
    for column in ("node", "exposes", "paths", "critical devices behind it"):
        table.add_column(column)
    for w in data["weak_points"]:
        table.add_row(Text(str(w["label"])), str(w["exposes"]), str(w["paths"]),
                      Text(", ".join(str(x) for x in w["targets"][:10])))
    console.print(table)
    table = Table(show_header=True, title="Attack paths (shortest first)")
    for column in ("hops", "entry", "path"):
        table.add_column(column)
    for p in data["paths"]:
        table.add_row(str(p["hops"]), Text(p["why_entry"]), Text(p["explanation"]))
    console.print(table)
    console.print(Text(f"{data['paths_total']} paths from {len(data['entries'])} entry points to "
                       f"{len(data['targets'])} critical devices"))


def plan(
    ctx: typer.Context,
    hours: Annotated[float, typer.Option("--hours", help="Budget of work hours.")] = 40.0,
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    tickets: Annotated[Path | None, typer.Option("--tickets", help="Write the chosen actions as JSON tickets.")] = None,
    do: Annotated[list[str] | None, typer.Option(
        "--do", help="What-if: the risk before and after these action ids (repeatable); no plan is made.")] = None,
) -> None:
    """The actions that remove the most risk within the budget, the marginal gain of more hours, tickets."""
    from wardwatch.risk.planning import Planner, ticket
    from wardwatch.risk.service import risk_weights

    if hours < 0:
        fail("--hours must not be negative", code=2)
    inventory, kb, settings, report = _fresh_report(ctx, db)
    planner = Planner(inventory.engine, kb, risk_weights(settings), report)  # an evaluation's actions are kept
    if do:
        try:
            result = planner.simulate(do)
        except WardwatchError as exc:
            fail(str(exc), code=2)
        data: dict[str, Any] = {"actions": list(dict.fromkeys(do)), "risk_before": result.before,
                                "risk_after": result.after, "risk_removed": result.removed,
                "devices": [{"device_id": d, "before": b, "after": a} for d, b, a in result.devices]}
        if output is OutputFormat.json:
            write_json(data)
        else:
            console.print(Text(f"risk goes from {result.before} to {result.after} (−{result.removed})"))
        return
    result_plan = planner.plan(hours)
    data = result_plan.to_dict()
    if tickets is not None:
        tickets.write_text(json.dumps([ticket(c, result_plan.created_at) for c in result_plan.chosen], indent=2),
                           encoding="utf-8")
    if output is OutputFormat.json:
        write_json(data)
    elif output is OutputFormat.csv:
        write_csv(data["actions"], ACTION_COLUMNS)
    else:
        table = Table(show_header=True)
        for column in ("action", "owner", "hours", "downtime", "risk removed", "due", "what"):
            table.add_column(column)
        for a in data["actions"]:
            table.add_row(a["id"], a["owner_team"], f"{a['effort_hours']:.1f}", f"{a['downtime_hours']:.1f}",
                          f"{a['risk_removed']:.1f}", a["due_date"], Text(a["title"]))
        console.print(table)
        console.print(Text(f"{data['hours']} of {hours} hours: risk {data['risk_before']} → {data['risk_after']} "
                           f"(−{data['risk_removed']}) with {len(data['actions'])} of {data['candidates']} actions"))
        console.print(Text("more hours: " + ", ".join(f"{m['hours']:g} h → −{m['risk_removed']:g}"
                                                      for m in data["marginal"])))

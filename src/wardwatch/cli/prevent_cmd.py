"""``wardwatch baseline``, ``wardwatch policy ...`` and ``wardwatch alerts``: prevention and detection.

The integrator registers them in ``cli/app.py``::

    app.add_typer(baseline_app, name="baseline")
    app.add_typer(policy_app, name="policy")
    app.command()(alerts)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import DbOption, OutputFormat, console, fail, open_inventory, write_json

baseline_app = typer.Typer(help="Learn the normal communication of each device; accept or reject entries.",
                           invoke_without_command=True, no_args_is_help=False)
policy_app = typer.Typer(help="Segmentation policy: generate, diff, export, replay, apply, roll back.",
                         no_args_is_help=True)

NameOption = Annotated[str, typer.Option("--name", help="Policy name.")]


class ExportFormat(StrEnum):
    """Exporter names (built-ins; plugins add more through the wardwatch.exporters entry points)."""

    mud = "mud"
    nftables = "nftables"
    iptables = "iptables"
    cisco = "cisco"


def _state_dir(explicit: Path | None) -> Path:
    import platformdirs

    return explicit or Path(platformdirs.user_data_dir("wardwatch")) / "enforce"


# -- baseline ----------------------------------------------------------------------------------------
@baseline_app.callback()
def baseline(
    ctx: typer.Context,
    db: DbOption = None,
    window: Annotated[float, typer.Option("--window", help="Learning window in days, ending at the last flow.",
                                          min=0.01)] = 14.0,
    freeze: Annotated[bool, typer.Option("--freeze/--rolling", help="Frozen (default) or rolling baseline.")] = True,
) -> None:
    """Learn the baseline from the stored flows (persons' accept/reject decisions are kept)."""
    if ctx.invoked_subcommand is not None:
        return
    from wardwatch.prevent.service import learn_baseline

    inventory = open_inventory(ctx, db)
    try:
        learned = learn_baseline(inventory, window_days=window, freeze=freeze)
    finally:
        inventory.close()
    devices = len(learned.subjects("device"))
    console.print(Text(f"baseline {learned.id}: {len(learned.entries)} entries for {devices} devices "
                       f"({learned.mode}, {window:g}-day window)"))


@baseline_app.command("show")
def baseline_show(
    ctx: typer.Context,
    db: DbOption = None,
    device: Annotated[str | None, typer.Option("--device", help="Only this device key.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
) -> None:
    """List the entries of the latest baseline."""
    from dataclasses import asdict

    from wardwatch.prevent.baseline_store import BaselineStore

    inventory = open_inventory(ctx, db)
    latest = BaselineStore(inventory.engine).latest()
    inventory.close()
    if latest is None:
        fail("no baseline yet: run `wardwatch baseline` first")
    entries = [e for e in latest.entries.values() if device is None or e.subject == device]
    if output is OutputFormat.json:
        write_json([asdict(e) for e in entries])
        return
    table = Table(show_header=True)
    for column in ("id", "scope", "subject", "dir", "peer", "proto", "port", "flows", "state"):
        table.add_column(column)
    for e in entries:
        table.add_row(*(Text(str(v)) for v in (e.id, e.scope, e.subject, e.direction, e.peer, e.proto, e.port,
                                                e.flows, e.state)))
    console.print(table)


def _decide(ctx: typer.Context, db: str | None, entry_id: int, state: str, person: str) -> None:
    from wardwatch.prevent.baseline import EntryState
    from wardwatch.prevent.baseline_store import BaselineStore

    inventory = open_inventory(ctx, db)
    try:
        BaselineStore(inventory.engine).decide(entry_id, EntryState(state), person)
    except ValueError as exc:
        fail(str(exc), code=2)
    finally:
        inventory.close()
    console.print(Text(f"entry {entry_id} {state} by {person}"))


@baseline_app.command("accept")
def baseline_accept(ctx: typer.Context, entry_id: Annotated[int, typer.Argument(help="Entry id.")],
                    by: Annotated[str, typer.Option("--by", help="Who decides.")], db: DbOption = None) -> None:
    """Accept a learned entry as normal."""
    _decide(ctx, db, entry_id, "accepted", by)


@baseline_app.command("reject")
def baseline_reject(ctx: typer.Context, entry_id: Annotated[int, typer.Argument(help="Entry id.")],
                    by: Annotated[str, typer.Option("--by", help="Who decides.")], db: DbOption = None) -> None:
    """Reject a learned entry: it is not normal (no allow rule; detection treats it as new)."""
    _decide(ctx, db, entry_id, "rejected", by)


# -- policy ------------------------------------------------------------------------------------------
@policy_app.command("generate")
def policy_generate(
    ctx: typer.Context,
    db: DbOption = None,
    name: NameOption = "default",
    zones: Annotated[str, typer.Option("--zones", help="Zone basis: class, department or subnet.")] = "class",
    infra: Annotated[list[str] | None, typer.Option("--infra", help="DNS/NTP server address (repeatable).")] = None,
    author: Annotated[str, typer.Option("--author", help="Who generates it.")] = "wardwatch",
) -> None:
    """Generate a new draft version from the latest baseline."""
    from wardwatch.prevent.baseline_store import BaselineStore
    from wardwatch.prevent.policy import generate
    from wardwatch.prevent.service import directory_of
    from wardwatch.prevent.versions import PolicyVersions
    from wardwatch.prevent.zones import BASES, build_zones

    if zones not in BASES:
        fail(f"--zones must be one of {', '.join(BASES)}", code=2)
    inventory = open_inventory(ctx, db)
    try:
        latest = BaselineStore(inventory.engine).latest()
        if latest is None:
            fail("no baseline yet: run `wardwatch baseline` first")
        directory = directory_of(inventory)
        policy = generate(latest, directory, zones=build_zones(directory.devices, basis=zones), name=name,
                          infrastructure=infra or ())
        version = PolicyVersions(inventory.engine).add(policy, author=author)
    finally:
        inventory.close()
    console.print(Text(f"policy {name} version {version.number} (draft): {len(policy.zones)} zones, "
                       f"{len(policy.rules)} rules"))


@policy_app.command("diff")
def policy_diff(ctx: typer.Context, old: Annotated[int, typer.Argument(help="Older version.")],
                new: Annotated[int, typer.Argument(help="Newer version.")], db: DbOption = None,
                name: NameOption = "default",
                output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table) -> None:
    """What changes between two versions."""
    from dataclasses import asdict

    from wardwatch.prevent.versions import PolicyVersions

    inventory = open_inventory(ctx, db)
    try:
        diff = PolicyVersions(inventory.engine).diff(old, new, name)
    finally:
        inventory.close()
    if output is OutputFormat.json:
        write_json(asdict(diff))
        return
    for sign, rules in (("+", diff.added), ("-", diff.removed)):
        for r in rules:
            console.print(Text(f"{sign} {r.src_zone} → {r.dst_zone} proto {r.proto} port {r.port} "
                               f"{','.join(r.src)} → {','.join(r.dst)} ({r.origin})"))
    for key, before, after in diff.members_moved:
        console.print(Text(f"~ {key}: {before} → {after}"))
    if diff.empty:
        console.print(Text("no difference"))


@policy_app.command("export")
def policy_export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Folder to write into.")],
    db: DbOption = None,
    name: NameOption = "default",
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the newest).")] = None,
) -> None:
    """Render a version as MUD files, an nftables ruleset, iptables-restore files or Cisco ACLs."""
    from wardwatch.prevent.exporters.interface import get_exporter, write_export
    from wardwatch.prevent.versions import PolicyVersions

    inventory = open_inventory(ctx, db)
    try:
        chosen = PolicyVersions(inventory.engine).get(version, name)
    finally:
        inventory.close()
    for path in write_export(get_exporter(fmt.value), chosen.policy, out):
        console.print(Text(str(path)))


@policy_app.command("replay")
def policy_replay(
    ctx: typer.Context,
    db: DbOption = None,
    name: NameOption = "default",
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the newest).")] = None,
    capture: Annotated[Path | None, typer.Option("--capture", help="Replay this capture instead of the stored "
                                                 "flows.", exists=True, dir_okay=False)] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """What would break: the flows the policy would have blocked, per device."""
    from wardwatch.prevent.replay import capture_flows, replay
    from wardwatch.prevent.service import directory_of
    from wardwatch.prevent.versions import PolicyVersions

    inventory = open_inventory(ctx, db)
    try:
        chosen = PolicyVersions(inventory.engine).get(version, name)
        flows = capture_flows(capture) if capture else inventory.flows()
        report = replay(chosen.policy, flows, directory_of(inventory))
    finally:
        inventory.close()
    if output is OutputFormat.json:
        write_json(report.to_dict())
        return
    for device in report.devices.values():
        for blocked in device.blocked:
            console.print(Text(f"{device.label}: would block {blocked.describe()}"))
    console.print(Text(f"{report.flows} flows: {report.allowed} allowed, {report.blocked} would be blocked"))


@policy_app.command("apply")
def policy_apply(
    ctx: typer.Context,
    approver: Annotated[str, typer.Option("--approver", help="The person approving (required).")],
    db: DbOption = None,
    name: NameOption = "default",
    version: Annotated[int | None, typer.Option("--version", help="Version (default: the newest).")] = None,
    netns: Annotated[str | None, typer.Option("--gateway-netns", help="Apply inside this network namespace.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run/--no-dry-run", help="Only check and show (default).")] = True,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Where the previous ruleset is kept.")] = None,
) -> None:
    """Apply a version as nftables on the gateway (dry run unless --no-dry-run); it becomes the active one."""
    from wardwatch.prevent.enforce.nftables import NftablesGateway
    from wardwatch.prevent.versions import PolicyVersions

    if not approver.strip():
        fail("--approver needs a name", code=2)
    inventory = open_inventory(ctx, db)
    try:
        versions = PolicyVersions(inventory.engine)
        chosen = versions.get(version, name)
        gateway = NftablesGateway(_state_dir(state_dir), netns=netns)
        result = gateway.apply(chosen.policy, approver=approver, dry_run=dry_run)
        if not dry_run:
            versions.approve(chosen.number, approver, name)
    finally:
        inventory.close()
    if dry_run:
        console.print(Text(result.payload))
        console.print(Text(f"dry run: version {chosen.number} checked with nft -c; nothing applied"))
    else:
        console.print(Text(f"version {chosen.number} applied by {approver} and active"))


@policy_app.command("rollback")
def policy_rollback(
    ctx: typer.Context,
    approver: Annotated[str, typer.Option("--approver", help="The person approving (required).")],
    db: DbOption = None,
    name: NameOption = "default",
    netns: Annotated[str | None, typer.Option("--gateway-netns", help="The gateway's network namespace.")] = None,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Where the previous ruleset is kept.")] = None,
) -> None:
    """One step back: the previous version becomes active and the gateway's previous ruleset is restored."""
    from wardwatch.prevent.enforce.nftables import NftablesGateway
    from wardwatch.prevent.versions import PolicyVersions

    inventory = open_inventory(ctx, db)
    try:
        gateway = NftablesGateway(_state_dir(state_dir), netns=netns)
        gateway.rollback(approver=approver)
        versions = PolicyVersions(inventory.engine)
        active = versions.rollback(name) if versions.active(name) else None
    finally:
        inventory.close()
    console.print(Text("gateway ruleset restored" + (f"; version {active.number} active" if active else "")))


# -- alerts ------------------------------------------------------------------------------------------
def alerts(
    ctx: typer.Context,
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
    status: Annotated[str | None, typer.Option("--status", help="open, acknowledged or resolved.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
) -> None:
    """List alerts, newest first."""
    from wardwatch.alerting.store import AlertStore
    from wardwatch.domain.alert import AlertStatus

    try:
        wanted = AlertStatus(status) if status else None
    except ValueError:
        fail("--status must be open, acknowledged or resolved", code=2)
    inventory = open_inventory(ctx, db)
    try:
        found = AlertStore(inventory.engine).list(status=wanted, rule=rule, limit=limit)
    finally:
        inventory.close()
    rows: list[dict[str, Any]] = [a.to_dict() for a in found]
    if output is OutputFormat.json:
        write_json(rows)
        return
    table = Table(show_header=True)
    for column in ("id", "severity", "rule", "title", "devices", "count", "status"):
        table.add_column(column)
    for a in found:
        table.add_row(*(Text(str(v)) for v in (a.id, a.severity.name.lower(), a.rule, a.title, ", ".join(a.devices),
                                                a.count, a.status)))
    console.print(table)
    console.print(Text(f"{len(found)} alerts"))

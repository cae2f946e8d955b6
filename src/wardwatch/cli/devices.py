"""``wardwatch devices`` and ``wardwatch device KEY``: the inventory, as a table, JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import DbOption, OutputFormat, console, fail, open_inventory, write_csv, write_json
from wardwatch.errors import NotFoundError

LIST_COLUMNS = ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os", "firmware",
                "asset_tag", "department", "first_seen", "last_seen")


def devices(
    ctx: typer.Context,
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    vendor: Annotated[str | None, typer.Option(help="Only devices of this vendor (substring).")] = None,
    device_class: Annotated[str | None, typer.Option("--class", help="Only this device class.")] = None,
    subnet: Annotated[str | None, typer.Option(help="Only devices with an address in this CIDR.")] = None,
    search: Annotated[str | None, typer.Option(help="Free-text search over names and attributes.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many devices.")] = None,
) -> None:
    """List the devices of the inventory."""
    from wardwatch.inventory.serialize import device_to_json

    inventory = open_inventory(ctx, db)
    try:
        found = inventory.list_devices(
            vendor=vendor, device_class=device_class, subnet=subnet, search=search, limit=limit
        )
    except ValueError as exc:
        fail(str(exc), code=2)
    rows = [device_to_json(d) for d in found]
    if output is OutputFormat.json:
        write_json(rows)
    elif output is OutputFormat.csv:
        write_csv(rows, LIST_COLUMNS)
    else:
        table = Table(show_header=True)
        for column in ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os"):
            table.add_column(column)
        for row in rows:
            table.add_row(*(Text(_short(row.get(c))) for c in
                            ("id", "mac", "ips", "hostname", "vendor", "model", "device_class", "os")))
        console.print(table)
        console.print(Text(f"{len(rows)} devices"))


def device(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Device id, MAC or IP address.")],
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = OutputFormat.table,
) -> None:
    """Show one device: every attribute with its confidence, source and evidence, and its history."""
    from wardwatch.inventory.serialize import device_to_json

    inventory = open_inventory(ctx, db)
    try:
        found = inventory.get_device(key)
    except NotFoundError as exc:
        fail(str(exc))
    data = device_to_json(found)
    if found.id is not None:
        data["history"] = [
            {"ts": e.ts, "kind": e.kind, "attribute": e.attribute, "old": e.old, "new": e.new,
             "evidence": e.evidence}
            for e in inventory.history(found.id)
        ]
    if output is OutputFormat.json:
        write_json(data)
        return
    console.print(Text(f"device {data.get('id')}  {data.get('mac') or ''}  {', '.join(data.get('ips') or [])}",
                       style="bold"))
    table = Table(show_header=True, title="attributes")
    for column in ("attribute", "value", "confidence", "source", "evidence"):
        table.add_column(column)
    for name, attr in sorted((data.get("attributes") or {}).items()):
        evidence = "; ".join(_evidence_line(e) for e in attr.get("evidence", [])[:4])
        table.add_row(Text(name), Text(_short(attr.get("value"), 60)), f"{attr.get('confidence', 0):.2f}",
                      Text(str(attr.get("source", ""))), Text(evidence))
    console.print(table)
    history = data.get("history") or []
    if history:
        hist = Table(show_header=True, title="history")
        for column in ("time", "change", "attribute", "old", "new"):
            hist.add_column(column)
        for e in history[-20:]:
            hist.add_row(Text(str(e["ts"])), Text(e["kind"]), Text(e["attribute"] or ""),
                         Text(_short(e["old"])), Text(_short(e["new"])))
        console.print(hist)


def _evidence_line(evidence: dict[str, Any]) -> str:
    rule = evidence.get("rule")
    head = f"rule {rule}: " if rule else ""
    return f"{head}{evidence.get('kind')}={_short(evidence.get('value'), 40)}"


def _short(value: Any, limit: int = 48) -> str:
    if value is None:
        return ""
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Flows in the inventory: one row per transport 5-tuple (plus VLAN and MACs) and hour.

Upsert rule (idempotent on replay): a record whose time span does not overlap the stored row's span is
another flow of the same tuple in that hour, so counters add; an overlapping record is the same flow seen
again (a replayed capture, or a live sensor's cumulative update), so each counter keeps the larger value.
First/last seen widen either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.flow import FlowRecord
from wardwatch.inventory import tables as t
from wardwatch.inventory.store import copy_many, execute_many, row_values, upsert

#: Width of a flow time bucket, seconds.
BUCKET_SECONDS = 3600

_KEY = ("sensor", "proto", "src_ip", "src_port", "dst_ip", "dst_port", "vlan", "src_mac", "dst_mac", "bucket")
_COUNTERS = ("packets_fwd", "packets_rev", "bytes_fwd", "bytes_rev")


def _row(flow: FlowRecord) -> dict[str, Any]:
    return {
        "sensor": flow.sensor, "proto": flow.proto, "src_ip": flow.src_ip or "", "src_port": flow.src_port,
        "dst_ip": flow.dst_ip or "", "dst_port": flow.dst_port, "vlan": flow.vlan or 0,
        "src_mac": flow.src_mac or "", "dst_mac": flow.dst_mac or "",
        "bucket": int(flow.first_seen // BUCKET_SECONDS) * BUCKET_SECONDS,
        "first_seen": flow.first_seen, "last_seen": flow.last_seen, "packets_fwd": flow.packets_fwd,
        "packets_rev": flow.packets_rev, "bytes_fwd": flow.bytes_fwd, "bytes_rev": flow.bytes_rev,
        "app": flow.app, "refused": flow.refused,
    }


def _combine(old: dict[str, Any], new: dict[str, Any]) -> None:
    disjoint = new["first_seen"] > old["last_seen"] or new["last_seen"] < old["first_seen"]
    for name in _COUNTERS:
        old[name] = old[name] + new[name] if disjoint else max(old[name], new[name])
    old["first_seen"] = min(old["first_seen"], new["first_seen"])
    old["last_seen"] = max(old["last_seen"], new["last_seen"])
    old["app"] = old["app"] or new["app"]
    old["refused"] = old["refused"] and new["refused"]  # refused only while no attempt was answered


def aggregate(records: Iterable[FlowRecord]) -> list[dict[str, Any]]:
    """Rows keyed per tuple and bucket, combined in memory with the upsert rule."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for flow in records:
        row = _row(flow)
        key = tuple(row[k] for k in _KEY)
        if key in rows:
            _combine(rows[key], row)
        else:
            rows[key] = row
    return list(rows.values())


def write_flows(conn: sa.Connection, records: Iterable[FlowRecord]) -> int:
    """Upsert ``records``; return how many rows were written."""
    rows = aggregate(records)
    if not rows:
        return 0
    stmt = upsert(conn, t.flows)
    ex, cur = stmt.excluded, t.flows.c
    disjoint = sa.or_(ex.first_seen > cur.last_seen, ex.last_seen < cur.first_seen)

    def counter(name: str) -> Any:
        old, new = cur[name], ex[name]
        return sa.case((disjoint, old + new), (new > old, new), else_=old)

    stmt = stmt.on_conflict_do_update(
        index_elements=[cur[k] for k in _KEY],
        set_={
            **{name: counter(name) for name in _COUNTERS},
            "first_seen": sa.case((ex.first_seen < cur.first_seen, ex.first_seen), else_=cur.first_seen),
            "last_seen": sa.case((ex.last_seen > cur.last_seen, ex.last_seen), else_=cur.last_seen),
            "app": sa.func.coalesce(cur.app, ex.app),
            "refused": sa.and_(cur.refused, ex.refused),
        },
    )
    # The statement is compiled once and run as plain DBAPI ``executemany`` (SQLite) or as COPY into a
    # staging table and one ``INSERT ... SELECT ... ON CONFLICT`` (PostgreSQL): same SQL, no per-row
    # parameter processing. ``aggregate`` left one row per key, so no row is upserted twice.
    columns = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=columns)
    if conn.dialect.name == "postgresql":
        copy_many(conn, t.flows, columns, row_values(columns, rows),
                  "ON CONFLICT " + compiled.string.split(" ON CONFLICT ", 1)[1])
    else:
        assert compiled.positiontup is not None
        execute_many(conn, compiled.string, row_values(compiled.positiontup, rows))
    return len(rows)


def flow_from_row(row: Any) -> FlowRecord:
    """Domain FlowRecord of a stored row."""
    return FlowRecord(
        src_ip=row.src_ip, dst_ip=row.dst_ip, proto=row.proto, src_port=row.src_port, dst_port=row.dst_port,
        src_mac=row.src_mac or None, dst_mac=row.dst_mac or None, first_seen=row.first_seen,
        last_seen=row.last_seen, packets_fwd=row.packets_fwd, packets_rev=row.packets_rev,
        bytes_fwd=row.bytes_fwd, bytes_rev=row.bytes_rev, vlan=row.vlan or None, app=row.app,
        sensor=row.sensor, refused=bool(row.refused),
    )


def select_flows(conn: sa.Connection, *, mac: str | None = None, ips: Iterable[str] = (),
                 limit: int | None = None) -> list[FlowRecord]:
    """Flows touching ``mac`` or one of ``ips`` (all flows when neither is given), oldest first."""
    query = sa.select(t.flows).order_by(t.flows.c.first_seen, t.flows.c.id)
    ip_list = sorted(set(ips))
    conditions: list[Any] = []
    if mac:
        conditions += [t.flows.c.src_mac == mac, t.flows.c.dst_mac == mac]
    if ip_list:
        conditions += [t.flows.c.src_ip.in_(ip_list), t.flows.c.dst_ip.in_(ip_list)]
    if conditions:
        query = query.where(sa.or_(*conditions))
    elif mac is not None or ips:
        return []
    if limit is not None:
        query = query.limit(limit)
    return [flow_from_row(row) for row in conn.execute(query)]

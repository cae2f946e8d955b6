"""Dashboard counts over the inventory tables: devices in scope, per attribute value, per subnet, and the
change marker that tells a cache when its numbers are stale. Each is one or two SQL statements that read
covering indexes, so dashboards stay fast at 100 000 devices.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wardwatch.inventory import tables as t


def _scoped(departments: tuple[str, ...] | None, id_column: sa.ColumnElement[Any] = t.devices.c.id
            ) -> list[sa.ColumnElement[bool]]:
    return _conditions_for_scope(departments, id_column) if departments is not None else []


def count_devices(conn: sa.Connection, departments: tuple[str, ...] | None = None) -> int:
    """How many devices (in scope)."""
    stmt = sa.select(sa.func.count()).select_from(t.devices).where(*_scoped(departments))
    return int(conn.execute(stmt).scalar_one())


def count_by_attribute(conn: sa.Connection, name: str, departments: tuple[str, ...] | None = None,
                       limit: int = 12) -> list[tuple[str, int]]:
    """(value, devices) of one attribute, most common first; devices without it count under ``""``.

    Reads only the covering index ``attributes(name, value, device_id)`` (devices rows are implied by the
    foreign key).
    """
    a = t.attributes.c
    source: Any = t.attributes
    where: list[sa.ColumnElement[bool]] = [a.name == name]
    if departments is not None:  # from the (few) devices of the departments to their attribute rows
        scope = t.attributes.alias("scope")
        source = scope.join(t.attributes, a.device_id == scope.c.device_id)
        where += [scope.c.name == "department", scope.c.value.in_(departments)]
    stmt = (sa.select(a.value, sa.func.count()).select_from(source).where(*where).group_by(a.value)
            .order_by(sa.func.count().desc(), a.value).limit(limit + 1))
    rows = [(str(v), int(n)) for v, n in conn.execute(stmt)]
    if len(rows) <= limit:
        with_value = sum(n for _, n in rows)
    else:
        rows = rows[:limit]
        with_value = int(conn.execute(sa.select(sa.func.count()).select_from(source).where(*where)).scalar_one())
    missing = count_devices(conn, departments) - with_value
    if missing > 0:  # devices without the attribute join those with an empty value under ""
        empty = next((n for v, n in rows if v == ""), 0)
        rows = [(v, n) for v, n in rows if v != ""] + [("", missing + empty)]
    return rows


def count_by_subnet(conn: sa.Connection, departments: tuple[str, ...] | None = None, limit: int = 12
                    ) -> list[tuple[str, int]]:
    """(IPv4 /24, devices) most populated first."""
    ips = t.device_ips.c
    pairs = (sa.select(sa.func.substr(ips.ip_hex, 1, 6).label("prefix"), ips.device_id)
             .where(ips.version == 4, *_scoped(departments, ips.device_id)).distinct().subquery())
    stmt = (sa.select(pairs.c.prefix, sa.func.count()).group_by(pairs.c.prefix)
            .order_by(sa.func.count().desc(), pairs.c.prefix).limit(limit))
    out = []
    for hex_prefix, n in conn.execute(stmt):
        octets = bytes.fromhex(str(hex_prefix))
        out.append((f"{octets[0]}.{octets[1]}.{octets[2]}.0/24", int(n)))
    return out


def change_marker(conn: sa.Connection) -> int:
    """A number that grows with every ingest (manual edits and imports go through ingest too): the
    newest ``ingest_runs`` id. Cached dashboard numbers are valid while it stays the same."""
    return int(conn.execute(sa.select(sa.func.max(t.ingest_runs.c.id))).scalar() or 0)


def _conditions_for_scope(departments: tuple[str, ...], id_column: sa.ColumnElement[Any]
                          ) -> list[sa.ColumnElement[bool]]:
    from wardwatch.inventory.queries import DeviceQuery, conditions

    return conditions(DeviceQuery(departments=departments), None, id_column)

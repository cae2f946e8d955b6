"""Read-model queries over the inventory tables: filtered, sorted, paged device lists and the counts the
dashboards show. Everything is one SQL statement (or two: ids then total), so lists stay fast at
100 000 devices; the web layer and the CLI call these and render.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from wardwatch.inventory import tables as t

#: Sort keys of the device list: attribute names, plus the columns of the devices table.
SORTABLE_ATTRIBUTES = ("hostname", "vendor", "model", "device_class", "department", "os", "firmware")
SORT_COLUMNS = {"last_seen": t.devices.c.last_seen, "first_seen": t.devices.c.first_seen,
                "mac": t.devices.c.mac, "id": t.devices.c.id}


@dataclass(frozen=True)
class DeviceQuery:
    """Filters, sort and page of a device list. ``departments`` limits a clinician's view."""

    search: str | None = None
    vendor: str | None = None
    device_class: str | None = None
    department: str | None = None
    subnet: str | None = None
    model: str | None = None
    sort: str = "name"
    limit: int | None = 100
    offset: int = 0
    departments: tuple[str, ...] | None = None


def _attr(name: str) -> sa.Subquery:
    return sa.select(t.attributes.c.device_id, t.attributes.c.value).where(t.attributes.c.name == name).subquery()


def _has_attr(name: str, condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    sub = sa.select(t.attributes.c.device_id).where(t.attributes.c.name == name, condition)
    return t.devices.c.id.in_(sub)


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def subnet_range(cidr: str) -> tuple[int, str, str]:
    """(version, low hex, high hex) of a CIDR, in the fixed-width hex form of ``device_ips.ip_hex``."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise ValueError(f"not a subnet: {cidr!r} (use CIDR, e.g. 10.1.2.0/24)") from None
    width = 8 if network.version == 4 else 32
    low = format(int(network.network_address), f"0{width}x")
    high = format(int(network.broadcast_address), f"0{width}x")
    return network.version, low, high


def conditions(query: DeviceQuery) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on ``devices`` for the query's filters and scope."""
    where: list[sa.ColumnElement[bool]] = []
    value = t.attributes.c.value
    if query.departments is not None:
        where.append(_has_attr("department", value.in_(query.departments)) if query.departments else sa.false())
    if query.vendor:
        where.append(_has_attr("vendor", sa.func.lower(value).like(_like(query.vendor), escape="\\")))
    if query.model:
        where.append(_has_attr("model", sa.func.lower(value).like(_like(query.model), escape="\\")))
    if query.department:
        where.append(_has_attr("department", value == query.department))
    if query.device_class:
        if query.device_class == "unknown":
            where.append(~_has_attr("device_class", value != ""))
        else:
            where.append(_has_attr("device_class", value == query.device_class))
    if query.subnet:
        version, low, high = subnet_range(query.subnet)
        ips = t.device_ips.c
        where.append(t.devices.c.id.in_(sa.select(ips.device_id).where(
            ips.version == version, ips.ip_hex >= low, ips.ip_hex <= high)))
    if query.search:
        pattern = _like(query.search.strip())
        where.append(sa.or_(
            sa.func.lower(sa.func.coalesce(t.devices.c.mac, "")).like(pattern, escape="\\"),
            t.devices.c.id.in_(sa.select(t.device_ips.c.device_id).where(t.device_ips.c.ip.like(pattern, escape="\\"))),
            t.devices.c.id.in_(sa.select(t.attributes.c.device_id).where(
                t.attributes.c.name.in_(("hostname", "vendor", "model", "device_class", "os", "department",
                                         "asset_tag", "serial", "location", "ae_title")),
                sa.func.lower(t.attributes.c.value).like(pattern, escape="\\"))),
        ))
    return where


def _attribute_order_page(conn: sa.Connection, attribute: str, total: int, limit: int | None, offset: int
                          ) -> list[int]:
    """One page of the whole inventory ordered by an attribute, ascending, devices without it last.

    Walks the ``(name, value)`` index instead of sorting every device (the unfiltered list at 100 000
    devices); equal values are ordered by the attribute row's id.
    """
    a = t.attributes.c
    having = int(conn.execute(sa.select(sa.func.count()).where(a.name == attribute)).scalar_one())
    wanted = (total if limit is None else limit)
    ids: list[int] = []
    if offset < having:
        stmt = (sa.select(a.device_id).where(a.name == attribute).order_by(a.value, a.id)
                .offset(offset).limit(wanted))
        ids = [int(i) for i in conn.execute(stmt).scalars()]
    if len(ids) < wanted:
        missing = (sa.select(t.devices.c.id).where(~t.devices.c.id.in_(
            sa.select(a.device_id).where(a.name == attribute))).order_by(t.devices.c.id)
            .offset(max(0, offset - having)).limit(wanted - len(ids)))
        ids += [int(i) for i in conn.execute(missing).scalars()]
    return ids


def device_page(conn: sa.Connection, query: DeviceQuery) -> tuple[int, list[int]]:
    """The total matching and the ids of one page, in the requested order."""
    where = conditions(query)
    total = conn.execute(sa.select(sa.func.count()).select_from(t.devices).where(*where)).scalar_one()
    descending = query.sort.startswith("-")
    key = query.sort.lstrip("-") or "name"
    plain = {"name": "hostname", "class": "device_class"}.get(key, key)
    if not where and not descending and plain in SORTABLE_ATTRIBUTES:
        return int(total), _attribute_order_page(conn, plain, int(total), query.limit, query.offset)
    stmt = sa.select(t.devices.c.id).where(*where)
    if key in SORT_COLUMNS:
        order: sa.ColumnElement[object] = SORT_COLUMNS[key]
    else:
        attribute = {"name": "hostname", "class": "device_class", "ip": None}.get(key, key)
        if attribute is None:
            first_ip = sa.select(sa.func.min(t.device_ips.c.ip_hex)).where(
                t.device_ips.c.device_id == t.devices.c.id).scalar_subquery()
            order = first_ip
        elif attribute in SORTABLE_ATTRIBUTES:
            sub = _attr(attribute)
            stmt = stmt.outerjoin(sub, sub.c.device_id == t.devices.c.id)
            order = sa.func.coalesce(sub.c.value, "~")
        else:
            raise ValueError(f"cannot sort by {key!r}")
    stmt = stmt.order_by(order.desc() if descending else order.asc(), t.devices.c.id)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    stmt = stmt.offset(query.offset)
    return int(total), [int(i) for i in conn.execute(stmt).scalars()]


def _scoped(departments: tuple[str, ...] | None) -> list[sa.ColumnElement[bool]]:
    return conditions(DeviceQuery(departments=departments)) if departments is not None else []


def count_devices(conn: sa.Connection, departments: tuple[str, ...] | None = None) -> int:
    """How many devices (in scope)."""
    stmt = sa.select(sa.func.count()).select_from(t.devices).where(*_scoped(departments))
    return int(conn.execute(stmt).scalar_one())


def count_by_attribute(conn: sa.Connection, name: str, departments: tuple[str, ...] | None = None,
                       limit: int = 12) -> list[tuple[str, int]]:
    """(value, devices) of one attribute, most common first; devices without it count under ``""``."""
    scope = _scoped(departments)
    a = t.attributes.c
    stmt = (sa.select(a.value, sa.func.count()).select_from(t.attributes.join(t.devices, t.devices.c.id == a.device_id))
            .where(a.name == name, *scope).group_by(a.value).order_by(sa.func.count().desc(), a.value).limit(limit))
    rows = [(str(v), int(n)) for v, n in conn.execute(stmt)]
    joined = t.attributes.join(t.devices, t.devices.c.id == a.device_id)
    with_value = sum(n for _, n in conn.execute(
        sa.select(sa.literal(""), sa.func.count()).select_from(joined).where(a.name == name, *scope)))
    missing = count_devices(conn, departments) - with_value
    if missing > 0:
        rows.append(("", missing))
    return rows


def count_by_subnet(conn: sa.Connection, departments: tuple[str, ...] | None = None, limit: int = 12
                    ) -> list[tuple[str, int]]:
    """(IPv4 /24, devices) most populated first."""
    ips = t.device_ips.c
    prefix = sa.func.substr(ips.ip_hex, 1, 6)
    stmt = (sa.select(prefix, sa.func.count(sa.distinct(ips.device_id)))
            .select_from(t.device_ips.join(t.devices, t.devices.c.id == ips.device_id))
            .where(ips.version == 4, *_scoped(departments)).group_by(prefix)
            .order_by(sa.func.count(sa.distinct(ips.device_id)).desc()).limit(limit))
    out = []
    for hex_prefix, n in conn.execute(stmt):
        octets = bytes.fromhex(str(hex_prefix))
        out.append((f"{octets[0]}.{octets[1]}.{octets[2]}.0/24", int(n)))
    return out


def devices_by_ids(ids: Sequence[int]) -> sa.Select[tuple[int]]:
    """A statement selecting exactly ``ids`` (for callers that load full devices)."""
    return sa.select(t.devices.c.id).where(t.devices.c.id.in_(list(ids)))

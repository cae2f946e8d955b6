"""Which devices a device-list query admits: its filters, scope and free-text search as WHERE clauses.

How the filters stay fast at 100 000 devices (indexes from migrations 9c01-9c05):

* filters are ``id IN (SELECT device_id FROM attributes WHERE name = ? AND value ...)`` against the
  covering index ``attributes(name, value, device_id)``; a "contains" filter on vendor or model first
  lists the attribute's distinct values with a loose index scan (one index seek per distinct value) and
  turns into ``value IN (...)``;
* free-text search reads the trigram indexes for MAC, addresses and free-text attributes (SQLite FTS5
  per column, migrations 9c02/9c03; PostgreSQL pg_trgm over one ``device_search`` text per device,
  9c01/9c03) and matches the distinct values of few-valued attributes (vendor, class ...) like a filter,
  or, for a walk through dense matches, tests them row by row (``_probe``: one index-only seek in
  ``attributes(device_id, name, value)``, migration 9c05).

How a page is chosen from these clauses (sorting, walking, counting) is :mod:`.queries`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wardwatch.inventory import tables as t
from wardwatch.inventory.query_sql import TEXT_SEARCHED, SearchMatch, like_pattern

#: Attributes with few distinct values: a search lists their values (loose index scan) and matches those;
#: the others (``TEXT_SEARCHED``) are in the trigram indexes (migrations 9c01-9c03).
FEW_VALUES = ("vendor", "model", "device_class", "os", "department")
#: Every attribute the free-text search looks at (besides MAC and addresses).
SEARCHED = TEXT_SEARCHED + FEW_VALUES
#: Distinct values listed for a "contains" filter before falling back to a scan of the index.
DISTINCT_CAP = 5000


@dataclass(frozen=True)
class DeviceQuery:
    """Filters, sort and page of a device list. ``departments`` limits a clinician's view.

    ``count_cap``: stop counting matches of a filtered list after this many (the total is then
    ``count_cap + 1``, shown as "N+"); None counts them all.
    """

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
    count_cap: int | None = None


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


def distinct_values(conn: sa.Connection, names: Sequence[str], cap: int = DISTINCT_CAP
                    ) -> dict[str, list[str] | None]:
    """The distinct values of each attribute of ``names`` (None for one with more than ``cap``).

    A loose index scan in one statement: a recursive CTE seeks the next larger value of each name in
    ``attributes(name, value, ...)``, one seek per distinct value instead of reading every row (neither
    SQLite nor PostgreSQL 15 skips through an index by itself).
    """
    anchor = " UNION ALL ".join(f"SELECT :n{i} AS n" for i in range(len(names)))
    sql = sa.text(
        f"WITH RECURSIVE v(n, x) AS (SELECT names.n, (SELECT min(value) FROM attributes WHERE name = names.n) "
        f"FROM ({anchor}) AS names UNION ALL SELECT v.n, (SELECT min(value) FROM attributes "
        f"WHERE name = v.n AND value > v.x) FROM v WHERE v.x IS NOT NULL) "
        f"SELECT n, x FROM v WHERE x IS NOT NULL LIMIT :cap")
    found: dict[str, list[str]] = {name: [] for name in names}
    params = {f"n{i}": name for i, name in enumerate(names)} | {"cap": (cap + 1) * len(names)}
    for name, value in conn.execute(sql, params):
        found[str(name)].append(str(value))
    return {name: (values if len(values) <= cap else None) for name, values in found.items()}


def _has_attr(id_column: sa.ColumnElement[Any], name: str,
              condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    sub = sa.select(t.attributes.c.device_id).where(t.attributes.c.name == name, condition)
    return id_column.in_(sub)


def matching_values(conn: sa.Connection | None, name: str, text: str, cache: dict[str, list[str] | None]
                     ) -> sa.Select[tuple[int]] | None:
    """Devices whose attribute ``name`` contains ``text`` (case-insensitive), as a statement selecting
    their ids; None when no value does. ``cache`` keeps the distinct values for one request."""
    a = t.attributes.c
    if conn is not None and name not in cache:
        cache.update(distinct_values(conn, [name]))
    values = cache.get(name)
    if values is None:  # no connection, or too many values to list: scan the (name, value) index range
        return sa.select(a.device_id).where(a.name == name, sa.func.lower(a.value).like(like_pattern(text),
                                                                                        escape="\\"))
    wanted = text.lower()
    hits = [v for v in values if wanted in v.lower()]
    return sa.select(a.device_id).where(a.name == name, a.value.in_(hits)) if hits else None


def _probe(id_column: sa.ColumnElement[Any], name: str, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """Whether the device ``id_column`` has attribute ``name`` with one of ``values``: one index-only seek
    in ``attributes(device_id, name, value)`` (migration 9c05) per row tested.

    A correlated scalar subquery (the device's one value of ``name``, ``uq_attributes_device_name``), not
    EXISTS: PostgreSQL may turn an EXISTS under OR into a hashed subplan that lists every device with one
    of the values (25 000 for ten departments) before the walk reads its first row; a scalar subquery it
    can only run per row, which is what a walk stopping after a page wants. A device without the
    attribute gives NULL, which no IN admits."""
    p = t.attributes.alias("probe")
    own = sa.select(p.c.value).where(p.c.device_id == id_column, p.c.name == name).scalar_subquery()
    return own.in_(list(values))


def few_hits(name: str, text: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    """The listed distinct values of ``name`` containing ``text`` (None: not listed, too many values)."""
    values = cache.get(name)
    if values is None:
        return None
    wanted = text.lower()
    return [v for v in values if wanted in v.lower()]


def conditions(query: DeviceQuery, conn: sa.Connection | None = None,
               id_column: sa.ColumnElement[Any] = t.devices.c.id,
               cache: dict[str, list[str] | None] | None = None, probe: bool = False
               ) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on ``id_column`` (a device id) for the query's filters and scope.

    With ``conn``, "contains" filters are resolved to the matching distinct values first (faster);
    ``cache`` keeps those values between calls for one list. ``probe``: the search tests the few-valued
    attributes of each row in turn (``_probe``) instead of listing every device with a matching value;
    for a walk along a sort index through dense matches, where the page comes after a few hundred rows
    and the list of a broad search's matches would hold tens of thousands of ids. Same rows either way.
    """
    cache = {} if cache is None else cache
    where: list[sa.ColumnElement[bool]] = []
    value = t.attributes.c.value
    if query.departments is not None:
        where.append(_has_attr(id_column, "department", value.in_(query.departments))
                     if query.departments else sa.false())
    for name, wanted in (("vendor", query.vendor), ("model", query.model)):
        if wanted:
            match = matching_values(conn, name, wanted, cache)
            where.append(id_column.in_(match) if match is not None else sa.false())
    if query.department:
        where.append(_has_attr(id_column, "department", value == query.department))
    if query.device_class:
        if query.device_class == "unknown":
            a = t.attributes.c
            others = bool(query.vendor or query.model or query.department or query.subnet or query.search
                          or query.departments is not None)
            if conn is not None and conn.dialect.name == "postgresql":
                # NOT EXISTS: PostgreSQL cannot make NOT IN an anti-join (NULL semantics) and would hash
                # every classified device for each query
                where.append(~sa.exists().where(a.device_id == id_column, a.name == "device_class",
                                                a.value != ""))
            elif others:  # SQLite, few candidates: probe (device_id, name) in the unique index, no row read
                classified = sa.exists().where(a.device_id == id_column, a.name == "device_class")
                where.append(sa.or_(~classified, _has_attr(id_column, "device_class", value == "")))
            else:  # SQLite, every device a candidate: one list of the classified devices beats 100 000 probes
                where.append(~_has_attr(id_column, "device_class", value != ""))
        else:
            where.append(_has_attr(id_column, "device_class", value == query.device_class))
    if query.subnet:
        version, low, high = subnet_range(query.subnet)
        ips = t.device_ips.c
        where.append(id_column.in_(sa.select(ips.device_id).where(
            ips.version == version, ips.ip_hex >= low, ips.ip_hex <= high)))
    if query.search and query.search.strip():
        text = query.search.strip()
        if conn is not None and not set(FEW_VALUES) <= set(cache):  # all five in one statement
            cache.update(distinct_values(conn, [n for n in FEW_VALUES if n not in cache]))
        if probe:
            listed = {name: few_hits(name, text, cache) for name in FEW_VALUES}
            few = [matching_values(conn, name, text, cache) for name in FEW_VALUES if listed[name] is None]
            probes = [_probe(id_column, name, hits) for name, hits in listed.items() if hits]
            where.append(sa.or_(SearchMatch(id_column, text, [f for f in few if f is not None]), *probes))
        else:
            few = [matching_values(conn, name, text, cache) for name in FEW_VALUES]
            where.append(SearchMatch(id_column, text, [f for f in few if f is not None]))
    return where

"""Read-model queries over the inventory tables: sorted, paged device lists, fast at 100 000 devices.

Which devices a query admits is :mod:`.filters` (WHERE clauses); this module chooses how to page them:

* when every filter is an attribute test, the matches are read from ``attributes(name, value,
  device_id)`` alone (``_matched``: one range, or their INTERSECT on SQLite), not probed from ``devices``;
* a page sorted by an attribute or by last seen walks the sort index and stops after ``offset + limit``
  rows; a filter that matches few devices (``SMALL_SET``) is sorted from the filter instead;
* a page through dense matches of a search (more than ``SMALL_SET``) tests its few-valued attributes
  row by row as the walk passes them (``filters``' probe, migration 9c05) instead of listing every device
  of, say, ten departments first; the same index gives the sort key of a page sorted from its matches
  without reading attribute rows;
* counts can be capped (``DeviceQuery.count_cap``): "10 000+" instead of counting every match; a search
  alone whose few-valued part alone exceeds ``SMALL_SET`` is known to be over the cap without listing it.

The dashboard counts are :mod:`.counts`; both modules' names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from wardwatch.inventory import tables as t
from wardwatch.inventory.filters import (
    FEW_VALUES,
    SEARCHED,
    DeviceQuery,
    conditions,
    distinct_values,
    few_hits,
    matching_values,
    subnet_range,
)
from wardwatch.inventory.query_sql import IdsIn

#: Sort keys of the device list: attribute names, plus the columns of the devices table.
SORTABLE_ATTRIBUTES = ("hostname", "vendor", "model", "device_class", "department", "os", "firmware")
SORT_COLUMNS = {"last_seen": t.devices.c.last_seen, "first_seen": t.devices.c.first_seen,
                "mac": t.devices.c.mac, "id": t.devices.c.id}
#: A filtered list matching at most this many devices is sorted from the filter, not walked in sort order.
SMALL_SET = 5000
#: Sort index entries a filtered list with few matches reads for its page before sorting the matches.
WALK_BUDGET = 10_000
#: A filter (not a search) with at most this many matches passes their ids on instead of running again.
FEW_IDS = 1000
_ALIASES = {"name": "hostname", "class": "device_class"}


Matched = sa.Select[Any] | sa.CompoundSelect[Any]


def _count(conn: sa.Connection, where: list[sa.ColumnElement[bool]], cap: int | None,
           matched: Matched | None = None) -> int:
    """How many devices ``where`` admits, up to ``cap + 1`` (all with ``cap`` None); ``matched``
    (``_matched``) selects them faster when given."""
    if matched is not None:
        inner = (matched if cap is None else matched.limit(cap + 1)).subquery()
        return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
    if where and cap is not None:
        inner = sa.select(t.devices.c.id).where(*where).limit(cap + 1).subquery()
        return int(conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one())
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.devices).where(*where)).scalar_one())


def _matched(conn: sa.Connection, query: DeviceQuery, where: list[sa.ColumnElement[bool]],
             cache: dict[str, list[str] | None]) -> Matched:
    """A statement selecting the id of each device the filters admit, once each, in no particular order.

    When every filter is an attribute value test (department scope, vendor, model, department, a known
    class), the ids come from ``attributes(name, value, device_id)`` alone: one device has one row per
    attribute (``uq_attributes_device_name``), so one filter's ids are distinct, and every attribute row
    belongs to a device (foreign key, deleted with it). One such filter reads its index range; several
    are intersected, on SQLite by ``INTERSECT`` (twice as fast as its IN lists, each built into a temporary
    b-tree and probed from the devices table), on PostgreSQL by its own semi-joins over ``devices``.
    Otherwise (unknown class, subnet, search): ``SELECT id FROM devices WHERE ...``.
    """
    a = t.attributes.c
    plain = sa.select(t.devices.c.id).where(*where)
    if query.subnet or (query.search and query.search.strip()) or query.device_class == "unknown":
        return plain
    sources: list[sa.Select[Any]] = []
    if query.departments is not None:
        if not query.departments:
            return plain
        sources.append(sa.select(a.device_id).where(a.name == "department", a.value.in_(query.departments)))
    for name, wanted in (("vendor", query.vendor), ("model", query.model)):
        if wanted:
            match = matching_values(conn, name, wanted, cache)
            if match is None:
                return plain
            sources.append(match)
    if query.department:
        sources.append(sa.select(a.device_id).where(a.name == "department", a.value == query.department))
    if query.device_class:
        sources.append(sa.select(a.device_id).where(a.name == "device_class", a.value == query.device_class))
    if len(sources) == 1:
        return sources[0]
    if sources and conn.dialect.name == "sqlite":
        return sa.intersect(*sources)
    return plain


def _sort_key(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-") or "name"
    key = _ALIASES.get(key, key)
    if key not in SORTABLE_ATTRIBUTES and key not in SORT_COLUMNS and key != "ip":
        raise ValueError(f"cannot sort by {sort.lstrip('-')!r}")
    return key, descending


def _unindexed(conn: sa.Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """On SQLite ``column + 0``: the filters must not drive the plan (SQLite would fetch every match and
    sort them instead of walking the sort index). PostgreSQL's planner costs both ways itself, and an
    expression there would rule out its hash semi-join."""
    return column + 0 if conn.dialect.name == "sqlite" else column


def _attribute_walk(conn: sa.Connection, query: DeviceQuery, attribute: str, descending: bool,
                    exact_total: int | None, cache: dict[str, list[str] | None], probe: bool = False) -> list[int]:
    """One page ordered by an attribute, walking ``attributes(name, value, device_id)``.

    Ascending: devices with the attribute by (value, id), then those without it by id; descending is
    the exact reverse. A segment's size is counted only when the page reaches past it. ``probe``: the
    page statements test a search row by row (``conditions``), the counts keep the set form.
    """
    a = t.attributes.alias("sort_attr")
    have = [a.c.name == attribute, *conditions(query, conn, _unindexed(conn, a.c.device_id), cache)]
    have_page = ([a.c.name == attribute, *conditions(query, conn, _unindexed(conn, a.c.device_id), cache, probe=True)]
                 if probe else have)
    has_it = sa.exists().where(t.attributes.c.device_id == t.devices.c.id, t.attributes.c.name == attribute)
    lacking = [~has_it, *conditions(query, conn, cache=cache, probe=probe)]
    offset = query.offset

    def count(where: list[sa.ColumnElement[bool]], table: Any) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())

    def with_attribute(skip: int, take: int | None) -> list[int]:
        order = (a.c.value.desc(), a.c.device_id.desc()) if descending else (a.c.value, a.c.device_id)
        stmt = sa.select(a.c.device_id).where(*have_page).order_by(*order).offset(skip).limit(take)
        return [int(i) for i in conn.execute(stmt).scalars()]

    def without(skip: int, take: int | None) -> list[int]:
        order = t.devices.c.id.desc() if descending else t.devices.c.id
        stmt = sa.select(t.devices.c.id).where(*lacking).order_by(order).offset(skip).limit(take)
        return [int(i) for i in conn.execute(stmt).scalars()]

    if descending:  # devices without the attribute come first: how many are there?
        total = exact_total if exact_total is not None else count(conditions(query, conn, cache=cache), t.devices)
        missing = total - count(have, a)
        ids = without(offset, query.limit) if offset < missing else []
        if query.limit is None or len(ids) < query.limit:
            ids += with_attribute(max(0, offset - missing), None if query.limit is None else query.limit - len(ids))
        return ids
    ids = with_attribute(offset, query.limit)
    if query.limit is None or len(ids) < query.limit:
        having = count(have, a) if offset > 0 or ids else 0
        ids += without(max(0, offset - having), None if query.limit is None else query.limit - len(ids))
    return ids


def _small_page(conn: sa.Connection, query: DeviceQuery, where: list[sa.ColumnElement[bool]], key: str,
                descending: bool) -> list[int]:
    """A page of a filter with few matches, sorted in one statement that starts from the filter.

    The order keys are expressions no index provides (``value IS NULL`` first), so the planner filters,
    then sorts the few matches, instead of walking a sort index past every non-matching device.
    """
    d = t.devices.c
    stmt = sa.select(d.id).where(*where)
    if key in SORT_COLUMNS:
        value: sa.ColumnElement[Any] = SORT_COLUMNS[key]
    elif key == "ip":
        value = sa.select(sa.func.min(t.device_ips.c.ip_hex)).where(
            t.device_ips.c.device_id == d.id).scalar_subquery()
    else:
        s = t.attributes.alias("sort_attr")
        stmt = stmt.outerjoin(s, sa.and_(s.c.device_id == d.id, s.c.name == key))
        value = s.c.value
    keys = (value.is_(None), value, d.id)
    stmt = stmt.order_by(*(k.desc() if descending else k.asc() for k in keys)).offset(query.offset)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    return [int(i) for i in conn.execute(stmt).scalars()]


def _column_page(conn: sa.Connection, query: DeviceQuery, where: list[sa.ColumnElement[bool]], key: str,
                 descending: bool) -> list[int]:
    if key == "ip":
        order: sa.ColumnElement[Any] = sa.func.coalesce(sa.select(sa.func.min(t.device_ips.c.ip_hex)).where(
            t.device_ips.c.device_id == t.devices.c.id).scalar_subquery(), "~")
    elif key == "mac":  # devices without a MAC last, as for attributes
        order = sa.func.coalesce(SORT_COLUMNS[key], "~")
    else:
        order = SORT_COLUMNS[key]
    ordering = (order.desc(), t.devices.c.id.desc()) if descending else (order.asc(), t.devices.c.id.asc())
    stmt = sa.select(t.devices.c.id).where(*where).order_by(*ordering).offset(query.offset)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    return [int(i) for i in conn.execute(stmt).scalars()]


def _window_walk(conn: sa.Connection, query: DeviceQuery, attribute: str, matches: int,
                 matching: Callable[[sa.ColumnElement[Any]], list[sa.ColumnElement[bool]]]) -> list[int] | None:
    """The page from the first ``WALK_BUDGET`` entries of the sort index, or None when they do not hold
    it (then the matches are sorted instead). Bounded work whether or not the matches cluster."""
    if query.limit is None:
        return None
    newest = int(conn.execute(sa.select(sa.func.max(t.devices.c.id))).scalar() or 0)  # about the device count
    if (query.offset + query.limit) * newest > matches * WALK_BUDGET // 2:
        return None  # evenly spread, the matches would not fill the page within the window
    a = t.attributes.c
    window = (sa.select(a.device_id, a.value).where(a.name == attribute).order_by(a.value, a.device_id)
              .limit(WALK_BUDGET).subquery("window"))
    stmt = (sa.select(window.c.device_id).where(*matching(window.c.device_id))
            .order_by(window.c.value, window.c.device_id).offset(query.offset).limit(query.limit))
    page = [int(i) for i in conn.execute(stmt).scalars()]
    return page if len(page) == query.limit else None


def _search_only(query: DeviceQuery) -> bool:
    """Whether the query's one filter is its search (no other filter, no department scope)."""
    return (bool(query.search and query.search.strip()) and query.departments is None
            and not (query.vendor or query.model or query.department or query.device_class or query.subnet))


def _broad_search(conn: sa.Connection, query: DeviceQuery, cache: dict[str, list[str] | None]) -> bool:
    """Whether a search alone surely matches more than ``SMALL_SET`` devices: one of its few-valued
    attributes (say the department "Dept-3x" for "dept-3") already does. Each such part is counted up to
    ``SMALL_SET + 1`` in the index (a device has one value per attribute, so its ids are distinct), which
    costs far less than listing and de-duplicating every match of the whole search."""
    text = (query.search or "").strip()
    a = t.attributes.c
    parts = []
    for name in FEW_VALUES:
        hits = few_hits(name, text, cache)
        if hits:
            ids = sa.select(a.device_id).where(a.name == name, a.value.in_(hits)).limit(SMALL_SET + 1).subquery()
            parts.append(sa.select(sa.func.count()).select_from(ids).scalar_subquery())
    if not parts:
        return False
    return max(int(n) for n in conn.execute(sa.select(*parts)).one()) > SMALL_SET


def device_page(conn: sa.Connection, query: DeviceQuery) -> tuple[int, list[int]]:
    """The total matching (capped by ``query.count_cap``) and the ids of one page, in the requested order.

    A filtered list first finds how many matches it has, up to ``SMALL_SET + 1``: a search fetches their
    ids (so that it runs once), unless it is broad on its face (``_broad_search``); index filters fetch
    up to ``FEW_IDS + 1`` ids and count past that (running an index filter again costs less than passing
    thousands of ids). With at most ``SMALL_SET`` matches the page is looked for in the first
    ``WALK_BUDGET`` entries of the sort index, otherwise the matches are sorted; a filter with more
    matches walks the whole sort index (they are dense: the page comes soon), a search then testing each
    row it passes (``conditions(probe=True)``).
    """
    key, descending = _sort_key(query.sort)
    cache: dict[str, list[str] | None] = {}  # distinct values, listed once for this page
    where = conditions(query, conn, cache=cache)
    exact: int | None = None
    probe = False
    matched: Matched | None = None
    if where:
        ids: list[int] | None = None
        if not (query.search and query.search.strip()):
            # index filters: the ids when there are few (the filter then runs once), else counted and
            # applied again where needed (passing thousands of ids costs more than the index filter)
            matched = _matched(conn, query, where, cache)
            ids = [int(i) for i in conn.execute(matched.limit(FEW_IDS + 1)).scalars()]
            found = len(ids)
            if found > FEW_IDS:
                ids, found = None, _count(conn, where, SMALL_SET, matched)
        elif _search_only(query) and _broad_search(conn, query, cache):
            found = SMALL_SET + 1
        else:  # a search is costly: evaluated once, its ids passed on
            ids = [int(i) for i in
                   conn.execute(sa.select(t.devices.c.id).where(*where).limit(SMALL_SET + 1)).scalars()]
            found = len(ids)

        def matching(column: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
            return conditions(query, conn, column, cache) if ids is None else [IdsIn(column, ids)]

        if found <= SMALL_SET:
            total = found if query.count_cap is None else min(found, query.count_cap + 1)
            if not found or query.limit == 0:
                return total, []
            walked = (_window_walk(conn, query, key, found, matching)
                      if key in SORTABLE_ATTRIBUTES and not descending else None)
            return total, (walked if walked is not None
                           else _small_page(conn, query, matching(t.devices.c.id), key, descending))
        if query.count_cap is not None and query.count_cap < found:
            total = query.count_cap + 1  # more than the cap: no need to count them all
        else:
            total = _count(conn, where, query.count_cap, matched)
        exact = total if query.count_cap is None or total <= query.count_cap else None
        probe = True
    else:
        total = exact = _count(conn, where, None)
    if query.limit == 0:
        return total, []
    if key in SORTABLE_ATTRIBUTES:
        return total, _attribute_walk(conn, query, key, descending, exact, cache, probe)
    # walk the sort index, filter on the way
    walk = conditions(query, conn, _unindexed(conn, t.devices.c.id), cache, probe) if where else []
    return total, _column_page(conn, query, walk, key, descending)


def devices_by_ids(ids: Sequence[int]) -> sa.Select[tuple[int]]:
    """A statement selecting exactly ``ids`` (for callers that load full devices)."""
    return sa.select(t.devices.c.id).where(t.devices.c.id.in_(list(ids)))


# The dashboard counts live in ``inventory/counts.py``; these names stay importable from here.
from wardwatch.inventory.counts import (  # noqa: E402
    change_marker,
    count_by_attribute,
    count_by_subnet,
    count_devices,
)

__all__ = ["FEW_VALUES", "SEARCHED", "DeviceQuery", "change_marker", "conditions", "count_by_attribute",
           "count_by_subnet", "count_devices", "device_page", "devices_by_ids", "distinct_values", "subnet_range"]

"""The database side of the resolver: bulk loading of device states and bulk writing of changes.

Every read is one query per table per :data:`~wardwatch.inventory.db.IN_CHUNK` keys (no N+1), every
write one ``executemany`` per table and kind of change, inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wardwatch.domain.device import Attribute, AttributeSource, Evidence
from wardwatch.identify.ownership import ip_sort_key
from wardwatch.identify.resolver import ResolveResult
from wardwatch.identify.state import DeviceState, FactState, IpState
from wardwatch.inventory import tables as t
from wardwatch.inventory.db import IN_CHUNK

_T = TypeVar("_T")


def chunks(items: Iterable[_T], size: int = IN_CHUNK) -> Iterator[list[_T]]:
    """``items`` in lists of at most ``size``."""
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def upsert(conn: sa.Connection, table: sa.Table) -> Any:
    """A dialect ``INSERT`` that supports ``on_conflict_do_update`` (SQLite ≥ 3.24, PostgreSQL ≥ 9.5)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _placeholder(conn: sa.Connection) -> str:
    return "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"


def row_values(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The values of ``columns`` of each row, as tuples (``itemgetter``: no per-value Python code)."""
    pick = itemgetter(*columns)
    if len(columns) == 1:
        return [(pick(row),) for row in rows]
    return list(map(pick, rows))


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *,
                upsert_on: Sequence[str] = ()) -> None:
    """:func:`insert_values` of rows given as dicts (the columns of the first row)."""
    if rows:
        columns = list(rows[0])
        insert_values(conn, table, columns, row_values(columns, rows), upsert_on=upsert_on)


def insert_values(conn: sa.Connection, table: sa.Table, columns: Sequence[str], values: Sequence[tuple[Any, ...]],
                  *, upsert_on: Sequence[str] = ()) -> None:
    """Plain DBAPI ``executemany`` of an INSERT (optionally ``ON CONFLICT ... DO UPDATE`` of the other
    columns, same syntax on SQLite and PostgreSQL), COPY on PostgreSQL: several times faster than
    per-row SQL compilation."""
    if not values:
        return
    quote = conn.dialect.identifier_preparer.quote
    conflict = ""
    if upsert_on:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in upsert_on)
        conflict = f"ON CONFLICT ({', '.join(quote(c) for c in upsert_on)}) DO UPDATE SET {updates}"
    if conn.dialect.name == "postgresql":
        copy_many(conn, table, columns, values, conflict)
        return
    mark = _placeholder(conn)
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    if conflict:
        sql += " " + conflict
    execute_many(conn, sql, values)


def execute_many(conn: sa.Connection, sql: str, values: Sequence[tuple[Any, ...]]) -> None:
    """DBAPI ``executemany`` of the positional ``sql``, in batches."""
    for start in range(0, len(values), 20_000):
        conn.exec_driver_sql(sql, values[start:start + 20_000])


def copy_many(conn: sa.Connection, table: sa.Table, columns: Sequence[str], values: Iterable[tuple[Any, ...]],
              on_conflict: str) -> None:
    """PostgreSQL: ``COPY FROM STDIN`` (one stream, no per-row round trip); with an ``ON CONFLICT``
    clause, COPY into a temporary table and ``INSERT ... SELECT ... <on_conflict>`` from it."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        target = quote(table.name)
        if on_conflict:
            target = quote(f"ww_stage_{table.name}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} ON COMMIT DROP AS "
                           f"SELECT {names} FROM {quote(table.name)} WITH NO DATA")
            cursor.execute(f"TRUNCATE {target}")
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            for row in values:
                write(row)
        if on_conflict:
            cursor.execute(f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {target} {on_conflict}")


def update_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """DBAPI ``executemany`` of ``UPDATE table SET <other columns> WHERE id = :id``."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    columns = [c for c in rows[0] if c != "id"]
    mark = _placeholder(conn)
    sql = (f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {mark}' for c in columns)} "
           f"WHERE id = {mark}")
    execute_many(conn, sql, row_values([*columns, "id"], rows))


def attribute_from_row(name: str, value: str, confidence: float, source: str, evidence: Any) -> Attribute:
    """Domain Attribute from its stored columns."""
    items = tuple(
        Evidence(kind=e["kind"], value=e["value"], ts=e["ts"], sensor=e["sensor"], excerpt=e.get("excerpt", ""),
                 rule=e.get("rule"))
        for e in (evidence or ())
    )
    return Attribute(name=name, value=value, confidence=confidence, evidence=items,
                     source=AttributeSource(source))


def evidence_json(attribute: Attribute) -> str:
    """JSON text of the evidence list of an attribute (stored in the JSON column)."""
    return json.dumps([
        {"kind": e.kind, "value": e.value, "ts": e.ts, "sensor": e.sensor, "excerpt": e.excerpt, "rule": e.rule}
        for e in attribute.evidence
    ], ensure_ascii=False)


_FACT_COLUMNS = ("device_id", "kind", "value", "first_seen", "last_seen", "count", "sensor", "excerpt",
                 "confidence", "source")
#: Longest fact excerpt stored (the column's width).
EXCERPT = 200
#: Facts of already written devices a store keeps in memory between chunks of one ingest.
CACHE_FACTS = 1_000_000


class DbStore:
    """A :class:`~wardwatch.identify.resolver.StateStore` over one open connection (transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        # Devices this store wrote, as a reload would return them (see _remember): the next chunk of the
        # same ingest takes them from here instead of re-reading every fact it just wrote.
        self._cache: dict[str, DeviceState] = {}
        self._cached_facts = 0

    # -- reads ---------------------------------------------------------------------------------------
    def _select_in(self, sql: str, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (its ``{in}`` replaced by one placeholder per key) straight from the DBAPI
        cursor: plain tuples, no compilation of the statement and no Row object per row."""
        mark = _placeholder(self.conn)
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql.format(in_=", ".join([mark] * len(keys))), tuple(keys))
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        return rows

    def _device_states(self, column: str, keys: Collection[Any]) -> list[DeviceState]:
        quote = self.conn.dialect.identifier_preparer.quote
        sql = (f"SELECT id, {quote('key')}, mac, sensor, first_seen, last_seen FROM devices "
               f"WHERE {quote(column)} IN ({{in_}})")
        return [DeviceState(key=key, mac=mac, sensor=sensor, first_seen=first_seen, last_seen=last_seen,
                            id=device_id, dirty=False)
                for batch in chunks(sorted(keys))
                for device_id, key, mac, sensor, first_seen, last_seen in self._select_in(sql, batch)]

    def load_devices(self, keys: Collection[str]) -> dict[str, DeviceState]:
        """States (with facts, IPs and attributes) of the existing devices among ``keys``."""
        states: dict[str, DeviceState] = {}
        missing: list[str] = []
        for key in keys:
            state = self._cache.get(key)
            if state is None:
                missing.append(key)
            else:
                # the order a reload gives on SQLite (the (device_id, kind, value) index; BINARY collation
                # of UTF-8 is code-point order, as Python compares strings); PostgreSQL gives no order
                state.facts = dict(sorted(state.facts.items()))
                states[key] = state
        loaded = {state.key: state for state in self._device_states("key", missing)}
        self._fill(list(loaded.values()))
        states.update(loaded)
        return states

    def load_by_ids(self, ids: Collection[int]) -> dict[int, DeviceState]:
        """States of the devices with these ids."""
        states: dict[int, DeviceState] = {}
        for state in self._device_states("id", ids):
            assert state.id is not None
            states[state.id] = state
        self._fill(list(states.values()))
        return states

    def _fill(self, states: Sequence[DeviceState]) -> None:
        by_id = {s.id: s for s in states if s.id is not None}
        quote = self.conn.dialect.identifier_preparer.quote
        fact_sql = (f"SELECT device_id, kind, value, first_seen, last_seen, {quote('count')}, sensor, excerpt, "
                    f"confidence, source, id FROM facts WHERE device_id IN ({{in_}})")
        ip_sql = "SELECT device_id, sensor, ip, first_seen, last_seen, id FROM device_ips WHERE device_id IN ({in_})"
        fact = FactState
        for batch in chunks(sorted(by_id)):
            facts = None
            current = -1
            for device_id, kind, value, first, last, count, sensor, excerpt, confidence, source, row_id in (
                self._select_in(fact_sql, batch)
            ):
                if device_id != current:
                    current, facts = device_id, by_id[device_id].facts
                assert facts is not None
                facts[(kind, value)] = fact(kind, value, first, last, count, sensor, excerpt, confidence, source,
                                            row_id, False)
            for device_id, sensor, ip, first, last, row_id in self._select_in(ip_sql, batch):
                by_id[device_id].ips[(sensor, ip)] = IpState(sensor, ip, first, last, row_id, False)
        for state in by_id.values():
            state.attributes_loaded = False

    def load_attributes(self, states: Collection[DeviceState]) -> None:
        """Load the stored attributes (the incumbents) of ``states``; only deriving needs them."""
        by_id = {s.id: s for s in states if s.id is not None and not s.attributes_loaded}
        a = t.attributes.c
        columns = (a.device_id, a.name, a.value, a.confidence, a.source, a.evidence)
        for batch in chunks(sorted(by_id)):
            for row in self.conn.execute(sa.select(*columns).where(a.device_id.in_(batch))):
                by_id[row[0]].attributes[row[1]] = attribute_from_row(*row[1:])
        for state in by_id.values():
            state.attributes_loaded = True

    def ip_owners(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, float]]:
        """Current MAC-keyed owner (key, last seen) of each (sensor, ip)."""
        wanted = set(pairs)
        out: dict[tuple[str, str], tuple[str, float]] = {}
        query = (
            sa.select(t.device_ips.c.sensor, t.device_ips.c.ip, t.devices.c.key, t.device_ips.c.last_seen)
            .join(t.devices, t.devices.c.id == t.device_ips.c.device_id)
            .where(t.devices.c.mac.is_not(None))
        )
        for batch in chunks(sorted({ip for _s, ip in wanted})):
            for sensor, ip, key, last_seen in self.conn.execute(query.where(t.device_ips.c.ip.in_(batch))):
                pair = (sensor, ip)
                if pair in wanted and (pair not in out or last_seen > out[pair][1]):
                    out[pair] = (key, last_seen)
        return out

    # -- writes --------------------------------------------------------------------------------------
    def write(self, result: ResolveResult) -> None:
        """Persist the states of ``result`` (only what changed)."""
        conn = self.conn
        states = result.devices
        self._absorb(states)
        new = [s for s in states if s.id is None]
        fresh = {id(s) for s in new}
        if new:
            rows = [{"key": s.key, "mac": s.mac, "sensor": s.sensor, "first_seen": s.first_seen,
                     "last_seen": s.last_seen} for s in new]
            by_key = {s.key: s for s in new}
            for batch in chunks(rows):
                stmt = sa.insert(t.devices).returning(t.devices.c.id, t.devices.c.key,
                                                      sort_by_parameter_order=True)
                for device_id, key in conn.execute(stmt, batch):
                    by_key[key].id = device_id
        update_many(conn, t.devices, [{"id": s.id, "key": s.key, "mac": s.mac, "first_seen": s.first_seen,
                                       "last_seen": s.last_seen} for s in states if s.dirty and id(s) not in fresh])
        self._write_facts(states)
        self._write_ips(states)
        self._write_attributes(states)
        history = [{"device_id": s.id, "ts": h.ts, "kind": h.kind, "attribute": h.attribute, "old": h.old,
                    "new": h.new, "evidence": h.evidence[:300]} for s in states for h in s.history]
        insert_many(conn, t.history, history)
        self._remember(result)

    def _remember(self, result: ResolveResult) -> None:
        """Keep the written states, reset to exactly what :meth:`load_devices` would read back (clean,
        no pending history or changes, fact excerpts cut as stored), for the next chunk."""
        states = result.devices
        absorbed = {i for s in states for i in s.absorbed}
        for key in result.removed_keys:
            self._cache.pop(key, None)
        for state in states:
            state.mark_saved()
            for fact in state.facts.values():
                if len(fact.excerpt) > EXCERPT:
                    fact.excerpt = fact.excerpt[:EXCERPT]
            self._cache[state.key] = state
        # merged-away and re-keyed devices are no longer under their old key
        for key in [k for k, s in self._cache.items() if s.key != k or s.id in absorbed]:
            del self._cache[key]
        self._cached_facts = sum(len(s.facts) for s in self._cache.values())
        if self._cached_facts > CACHE_FACTS:  # memory stays bounded: beyond this, re-read
            self._cache.clear()
            self._cached_facts = 0

    def _absorb(self, states: Sequence[DeviceState]) -> None:
        for state in states:
            if not state.absorbed:
                continue
            gone = list(state.absorbed)
            self.conn.execute(sa.update(t.history).where(t.history.c.device_id.in_(gone)).values(
                device_id=state.id))
            for table in (t.facts, t.device_ips, t.attributes):
                self.conn.execute(sa.delete(table).where(table.c.device_id.in_(gone)))
            self.conn.execute(sa.delete(t.devices).where(t.devices.c.id.in_(gone)))

    def _write_facts(self, states: Sequence[DeviceState]) -> None:
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        pending: dict[tuple[Any, str, str], FactState] = {}  # (device id, kind, value) of each new row
        for s in states:
            device_id = s.id
            for f in s.facts.values():
                if f.id is None:
                    inserts.append((device_id, f.kind, f.value, f.first_seen, f.last_seen, f.count, f.sensor,
                                    f.excerpt[:EXCERPT], f.confidence, f.source))
                    pending[(device_id, f.kind, f.value)] = f
                elif f.dirty:
                    updates.append({"id": f.id, "first_seen": f.first_seen, "last_seen": f.last_seen,
                                    "count": f.count, "confidence": f.confidence})
        if inserts:
            after = self._max_id(t.facts)
            insert_values(self.conn, t.facts, _FACT_COLUMNS, inserts)
            for row_id, device_id, kind, value in self._rows_after(t.facts, ("kind", "value"), after):
                fact = pending.get((device_id, kind, value))
                if fact is not None:
                    fact.id = row_id
        update_many(self.conn, t.facts, updates)

    def _max_id(self, table: sa.Table) -> int:
        return int(self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())

    def _rows_after(self, table: sa.Table, natural: tuple[str, str], after: int) -> list[tuple[Any, ...]]:
        """(id, device_id, *natural) of the rows with an id above ``after``: the ones just inserted (ids
        come from the table's sequence, or on SQLite are one above the largest rowid,
        https://sqlite.org/autoinc.html), so their ids are known without re-reading the rest."""
        quote = self.conn.dialect.identifier_preparer.quote
        sql = (f"SELECT id, device_id, {', '.join(quote(c) for c in natural)} FROM {quote(table.name)} "
               f"WHERE id > {{in_}}")
        return self._select_in(sql, [after])

    def _write_ips(self, states: Sequence[DeviceState]) -> None:
        gone = [i for s in states for i in s.removed_ip_ids]
        for ids in chunks(gone):
            self.conn.execute(sa.delete(t.device_ips).where(t.device_ips.c.id.in_(ids)))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for s in states:
            for i in s.ips.values():
                if i.id is None:
                    version, hexed = ip_sort_key(i.ip)
                    inserts.append({"device_id": s.id, "sensor": i.sensor, "ip": i.ip, "version": version,
                                    "ip_hex": hexed, "first_seen": i.first_seen, "last_seen": i.last_seen})
                elif i.dirty:
                    updates.append({"id": i.id, "first_seen": i.first_seen, "last_seen": i.last_seen})
        if inserts:
            after = self._max_id(t.device_ips)
            insert_many(self.conn, t.device_ips, inserts)
            by_id = {s.id: s for s in states}
            for row_id, device_id, sensor, ip in self._rows_after(t.device_ips, ("sensor", "ip"), after):
                state = by_id.get(device_id)
                ip_state = state.ips.get((sensor, ip)) if state is not None else None
                if ip_state is not None and ip_state.id is None:
                    ip_state.id = row_id
        update_many(self.conn, t.device_ips, updates)

    def _write_attributes(self, states: Sequence[DeviceState]) -> None:
        removed = [{"d": s.id, "n": name} for s in states for name in s.removed_attributes]
        if removed:
            self.conn.execute(
                sa.delete(t.attributes).where(t.attributes.c.device_id == sa.bindparam("d"),
                                              t.attributes.c.name == sa.bindparam("n")),
                removed,
            )
        rows = [{"device_id": s.id, "name": name, "value": s.attributes[name].value,
                 "confidence": s.attributes[name].confidence, "source": str(s.attributes[name].source),
                 "evidence": evidence_json(s.attributes[name])}
                for s in states for name in sorted(s.changed_attributes) if name in s.attributes]
        insert_many(self.conn, t.attributes, rows, upsert_on=("device_id", "name"))

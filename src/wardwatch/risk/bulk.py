"""Bulk reads and writes of the risk tables below SQLAlchemy's per-row work (issue 4, risk at scale).

An evaluation writes one row per (device, finding) and one per device: at 100 000 devices that is hundreds
of thousands of rows whose JSON differs only in the device id. These helpers write plain tuples with the
driver's ``executemany`` (SQLite) or one ``COPY ... FROM STDIN`` stream (PostgreSQL, psycopg 3), and build
each row's JSON from a per-template text with the device id spliced in (:func:`json_with_id`), so a JSON
document is serialized once per template, not once per device.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

#: Rows per ``executemany`` (bounds the memory of one batch of finding rows, each a few KiB of JSON).
BATCH = 10_000
#: How every document written here starts (compact JSON, ``device_id`` first).
ID_PREFIX = '{"device_id":'


def json_rest(document: dict[str, Any]) -> str:
    """The compact JSON text of ``document`` after its ``device_id`` member (which comes first)."""
    text = json.dumps({"device_id": 0, **{k: v for k, v in document.items() if k != "device_id"}},
                      separators=(",", ":"))
    return text[len(ID_PREFIX) + 1:]


def json_with_id(device_id: int, rest: str) -> str:
    """The JSON text of a document whose device id is ``device_id`` and whose other members are ``rest``."""
    return ID_PREFIX + str(device_id) + rest


def _batches(rows: Iterable[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _mark(conn: sa.Connection) -> str:
    return "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"


def insert_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
                ) -> int:
    """Insert ``rows`` (tuples in ``columns`` order; JSON columns as JSON text); returns how many."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    count = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join([_mark(conn)] * len(columns))})"
    for batch in _batches(rows):
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def update_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
                ) -> None:
    """``UPDATE table SET columns WHERE id`` for each row: the values in ``columns`` order, then the id."""
    quote = conn.dialect.identifier_preparer.quote
    mark = _mark(conn)
    sql = f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {mark}' for c in columns)} WHERE id = {mark}"
    for batch in _batches(rows):
        conn.exec_driver_sql(sql, batch)


def delete_devices(conn: sa.Connection, table: sa.Table, device_ids: Sequence[int], everything: bool) -> None:
    """Delete the rows of ``device_ids`` (all rows at once when ``everything``)."""
    quote = conn.dialect.identifier_preparer.quote
    if everything:
        conn.exec_driver_sql(f"DELETE FROM {quote(table.name)}")
        return
    for start in range(0, len(device_ids), 2000):
        part = [int(i) for i in device_ids[start:start + 2000]]
        conn.exec_driver_sql(f"DELETE FROM {quote(table.name)} WHERE device_id IN ({', '.join(map(str, part))})")


def select_rows(conn: sa.Connection, sql: str) -> Iterator[Any]:
    """Rows (tuple-like) of a literal query (no parameters), fetched in batches."""
    result = conn.exec_driver_sql(sql)
    while True:
        chunk = result.fetchmany(BATCH)
        if not chunk:
            return
        yield from chunk

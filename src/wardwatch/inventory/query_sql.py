"""Dialect-specific SQL of the inventory list: the free-text search condition and an id list passed as
one parameter. Compiled per dialect by SQLAlchemy's compiler extension; used by ``inventory.queries``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

#: Attributes in the trigram search indexes (migration 9c03); see ``inventory.queries`` for the others.
TEXT_SEARCHED = ("hostname", "asset_tag", "serial", "location", "ae_title")
_TEXT_NAMES = ", ".join(f"'{n}'" for n in TEXT_SEARCHED)


def like_pattern(value: str) -> str:
    """A case-folded ``LIKE '%value%'`` pattern with ``\\``, ``%`` and ``_`` escaped (ESCAPE '\\')."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SearchMatch(sa.sql.expression.ColumnElement[bool]):
    """``id_column IN (devices whose MAC, an address or a TEXT_SEARCHED attribute contains text, UNION
    the device ids of ``also``)``: one IN over a union, which both planners turn into a semi-join (an OR
    of several INs makes PostgreSQL filter every device)."""

    # not Boolean: SQLite would get "(x IN ...) = 1", which no index serves
    type = sa.types.NullType()  # type: ignore[assignment]
    inherit_cache = False

    def __init__(self, id_column: sa.ColumnElement[Any], text: str, also: Sequence[sa.Select[Any]] = ()) -> None:
        self.id_column = id_column
        self.text = text
        self.also = list(also)


def _also(element: SearchMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return "".join(f" UNION {compiler.process(select, asfrom=False, **kw)}" for select in element.also)


@compiles(SearchMatch, "sqlite")
def _search_sqlite(element: SearchMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # one FTS5 trigram index per searched column (migrations 9c02, 9c03): a phrase of three or more characters
    # matches as a substring (sqlite.org/fts5.html §4.3.5); shorter text is a LIKE over the same tables
    column = compiler.process(element.id_column, **kw)
    if len(element.text) >= 3:
        value = '"' + element.text.replace('"', '""') + '"'
        test = "{fts} MATCH {bound}"
    else:
        value, test = like_pattern(element.text), "{col} LIKE {bound} ESCAPE '\\'"

    def cond(fts: str, col: str) -> str:  # a bound parameter each: positional placeholders
        bound = compiler.process(sa.bindparam("search_text", value, unique=True), **kw)
        return test.format(fts=fts, col=col, bound=bound)

    attr, ip, mac = cond("search_attr", "value"), cond("search_ip", "ip"), cond("search_mac", "mac")
    # the name test keeps the answer right on an index built before 9c03 narrowed it
    return (f"{column} IN (SELECT device_id FROM attributes WHERE id IN (SELECT rowid FROM search_attr WHERE {attr}) "
            f"AND name IN ({_TEXT_NAMES}) "
            f"UNION SELECT device_id FROM device_ips WHERE id IN (SELECT rowid FROM search_ip WHERE {ip}) "
            f"UNION SELECT rowid FROM search_mac WHERE {mac}{_also(element, compiler, **kw)})")


@compiles(SearchMatch)
def _search_default(element: SearchMatch, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: the stored text is lower-cased; pg_trgm's GIN index serves LIKE '%x%' (3+ characters)
    column = compiler.process(element.id_column, **kw)
    bound = compiler.process(sa.bindparam("search_like", like_pattern(element.text), unique=True), **kw)
    return (f"{column} IN (SELECT device_id FROM device_search WHERE body LIKE {bound} ESCAPE '\\'"
            f"{_also(element, compiler, **kw)})")


class IdsIn(sa.sql.expression.ColumnElement[bool]):
    """``id_column IN (ids)`` with the ids as ONE parameter (a JSON array on SQLite, an array on
    PostgreSQL): thousands of ids without thousands of placeholders."""

    # not Boolean: SQLite would get "(x IN ...) = 1", which no index serves
    type = sa.types.NullType()  # type: ignore[assignment]
    inherit_cache = False

    def __init__(self, id_column: sa.ColumnElement[Any], ids: Sequence[int]) -> None:
        self.id_column = id_column
        self.ids = list(ids)


@compiles(IdsIn, "sqlite")
def _ids_sqlite(element: IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    bound = compiler.process(sa.bindparam("ids_json", json.dumps(element.ids), unique=True), **kw)
    return f"{compiler.process(element.id_column, **kw)} IN (SELECT value FROM json_each({bound}))"


@compiles(IdsIn)
def _ids_default(element: IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    bound = compiler.process(sa.bindparam("ids_array", element.ids, type_=postgresql.ARRAY(sa.BigInteger),
                                          unique=True), **kw)
    return f"{compiler.process(element.id_column, **kw)} = ANY({bound})"

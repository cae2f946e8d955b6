"""SQLite search index per row: FTS5 over attribute values, addresses and MACs (issue 5)

Revision 9c01 kept one search text per device on SQLite too, rebuilt by a row trigger on every write of
an attribute or address: a new device was rebuilt up to eight times, and first discovery of 5 000
devices took about 80 % longer. Here each searched row is indexed alone, by external-content FTS5 tables
(https://sqlite.org/fts5.html §4.4.3, trigram tokenizer §4.3.5) kept by triggers that add or remove one
short value: ``search_attr`` (``attributes.value`` of the searched names, rowid = attributes.id),
``search_ip`` (``device_ips.ip``) and ``search_mac`` (``devices.mac``). A match can no longer span two
fields. PostgreSQL keeps 9c01's per-device text: its statement triggers rebuild each touched device once
per (COPY-sized) statement.

Revision ID: 9c02
Revises: 9c01
"""

from __future__ import annotations

from alembic import op

revision = "9c02"
down_revision = "9c01"
branch_labels = None
depends_on = None

#: Attribute names the free-text search looks at (as in 9c01 and ``inventory.queries.SEARCHED``).
SEARCHED = ("hostname", "vendor", "model", "device_class", "os", "department", "asset_tag", "serial",
            "location", "ae_title")
_NAMES = ", ".join(f"'{n}'" for n in SEARCHED)

_OLD_TRIGGERS = ("ww_search_dev_ins", "ww_search_dev_upd", "ww_search_dev_del", "ww_search_ip_ins",
                 "ww_search_ip_del", "ww_search_ip_upd", "ww_search_attr_ins", "ww_search_attr_del",
                 "ww_search_attr_upd")

#: (FTS table, content table, column, condition on the row) of each index.
_INDEXES = (
    ("search_attr", "attributes", "value", "{row}.name IN (" + _NAMES + ")"),
    ("search_ip", "device_ips", "ip", "1"),
    ("search_mac", "devices", "mac", "{row}.mac IS NOT NULL"),
)


def _add(fts: str, column: str) -> str:
    return f"INSERT INTO {fts}(rowid, {column}) VALUES (NEW.id, NEW.{column});"


def _remove(fts: str, column: str) -> str:
    # external content: the FTS 'delete' command needs the old value (fts5.html §6.5)
    return f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', OLD.id, OLD.{column});"


def upgrade() -> None:
    """Apply (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS device_search")
    for fts, table, column, condition in _INDEXES:
        new, old = condition.format(row="NEW"), condition.format(row="OLD")
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content = '{table}', content_rowid = 'id', "
                   f"tokenize = 'trigram')")
        op.execute(f"CREATE TRIGGER {fts}_ins AFTER INSERT ON {table} FOR EACH ROW WHEN {new} "
                   f"BEGIN {_add(fts, column)} END")
        op.execute(f"CREATE TRIGGER {fts}_del AFTER DELETE ON {table} FOR EACH ROW WHEN {old} "
                   f"BEGIN {_remove(fts, column)} END")
        op.execute(f"CREATE TRIGGER {fts}_upd AFTER UPDATE OF {column} ON {table} FOR EACH ROW "
                   f"WHEN OLD.{column} IS NOT NEW.{column} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {column}) SELECT 'delete', OLD.id, OLD.{column} WHERE {old}; "
                   f"INSERT INTO {fts}(rowid, {column}) SELECT NEW.id, NEW.{column} WHERE {new}; END")
        op.execute(f"INSERT INTO {fts}(rowid, {column}) SELECT id, {column} FROM {table} "
                   f"WHERE {condition.format(row=table)}")


def downgrade() -> None:
    """Revert to 9c01's SQLite index (rebuilt from the tables)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for fts, _table, _column, _condition in _INDEXES:
        for suffix in ("ins", "del", "upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
    from importlib import import_module

    # a module name that starts with a digit cannot be written in an import statement
    previous = import_module("wardwatch.inventory.migrations.versions.9c01_fast_lists")
    previous._upgrade_sqlite()

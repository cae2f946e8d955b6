"""fast lists: indexes for the inventory list at 100 000 devices and a device search index (issue 5)

* ``devices(last_seen, id)``: the list sorted by last seen walks this index instead of sorting.
* ``attributes(name, value, device_id)`` replaces ``attributes(name, value)``: filters ("devices whose
  class is X") and dashboard counts read the index alone (covering index, no table lookups).
* ``device_search``: one row per device holding its MAC, addresses and searchable attribute values, kept
  current by triggers on ``devices``, ``device_ips`` and ``attributes`` (whoever writes them), and
  indexed for substring search: SQLite FTS5 with the trigram tokenizer (https://sqlite.org/fts5.html
  §4.3.5, SQLite ≥ 3.34), PostgreSQL ``pg_trgm`` GIN (https://www.postgresql.org/docs/current/pgtrgm.html
  §F.35.5, LIKE '%x%' with three or more characters). Values are joined with U+001F (unit separator) so
  a query cannot match across two fields by accident.

Revision ID: 9c01
Revises: 9b01
"""

from __future__ import annotations

import logging

from alembic import op

revision = "9c01"
down_revision = "9b01"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

#: Attribute names the free-text search looks at (the same list as ``inventory.queries.SEARCHED``).
SEARCHED = ("hostname", "vendor", "model", "device_class", "os", "department", "asset_tag", "serial",
            "location", "ae_title")
_NAMES = ", ".join(f"'{n}'" for n in SEARCHED)


def _sqlite_body(device: str) -> str:
    """SQL computing the search text of device ``device`` (an SQL expression) on SQLite."""
    return (f"coalesce((SELECT mac FROM devices WHERE id = {device}), '') || char(31) || "
            f"coalesce((SELECT group_concat(ip, char(31)) FROM device_ips WHERE device_id = {device}), '') "
            f"|| char(31) || coalesce((SELECT group_concat(value, char(31)) FROM attributes "
            f"WHERE device_id = {device} AND name IN ({_NAMES})), '')")


def _sqlite_refresh(device: str) -> str:
    return (f"DELETE FROM device_search WHERE rowid = {device}; "
            f"INSERT INTO device_search(rowid, body) SELECT {device}, {_sqlite_body(device)} "
            f"WHERE EXISTS (SELECT 1 FROM devices WHERE id = {device});")


#: (trigger name, event, condition, device id expression) of the SQLite row triggers.
_SQLITE_TRIGGERS = (
    ("ww_search_dev_ins", "AFTER INSERT ON devices", "", "NEW.id"),
    ("ww_search_dev_upd", "AFTER UPDATE OF mac ON devices", "WHEN OLD.mac IS NOT NEW.mac", "NEW.id"),
    ("ww_search_ip_ins", "AFTER INSERT ON device_ips", "", "NEW.device_id"),
    ("ww_search_ip_del", "AFTER DELETE ON device_ips", "", "OLD.device_id"),
    ("ww_search_ip_upd", "AFTER UPDATE OF ip, device_id ON device_ips",
     "WHEN OLD.ip IS NOT NEW.ip OR OLD.device_id IS NOT NEW.device_id", "NEW.device_id"),
    ("ww_search_attr_ins", "AFTER INSERT ON attributes", f"WHEN NEW.name IN ({_NAMES})", "NEW.device_id"),
    ("ww_search_attr_del", "AFTER DELETE ON attributes", f"WHEN OLD.name IN ({_NAMES})", "OLD.device_id"),
    ("ww_search_attr_upd", "AFTER UPDATE OF value ON attributes",
     f"WHEN NEW.name IN ({_NAMES}) AND OLD.value IS NOT NEW.value", "NEW.device_id"),
)


def _upgrade_sqlite() -> None:
    op.execute("CREATE VIRTUAL TABLE device_search USING fts5(body, tokenize = 'trigram')")
    for name, event, condition, device in _SQLITE_TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW {condition} BEGIN {_sqlite_refresh(device)} END")
    op.execute("CREATE TRIGGER ww_search_dev_del AFTER DELETE ON devices FOR EACH ROW "
               "BEGIN DELETE FROM device_search WHERE rowid = OLD.id; END")
    op.execute(f"INSERT INTO device_search(rowid, body) SELECT d.id, {_sqlite_body('d.id')} FROM devices d")


_PG_BODY = (f"lower(coalesce(d.mac, '') || chr(31) || "
            f"coalesce((SELECT string_agg(i.ip, chr(31)) FROM device_ips i WHERE i.device_id = d.id), '') "
            f"|| chr(31) || coalesce((SELECT string_agg(a.value, chr(31)) FROM attributes a "
            f"WHERE a.device_id = d.id AND a.name IN ({_NAMES})), ''))")

#: Upsert the search rows of the devices in the transition table ``changed`` (column ``{column}``);
#: unchanged texts are not rewritten (ingest touches last_seen on every batch).
_PG_FUNCTION = """
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO device_search (device_id, body)
    SELECT d.id, {body} FROM devices d WHERE d.id IN (SELECT DISTINCT {column} FROM changed)
    ON CONFLICT (device_id) DO UPDATE SET body = EXCLUDED.body
    WHERE device_search.body IS DISTINCT FROM EXCLUDED.body;
    RETURN NULL;
END
$fn$
"""

#: (trigger, table, event, transition, function) of the PostgreSQL statement triggers (one event each:
#: transition tables allow no more, https://www.postgresql.org/docs/current/sql-createtrigger.html).
_PG_TRIGGERS = (
    ("ww_search_dev_ins", "devices", "INSERT", "NEW", "ww_search_from_devices"),
    ("ww_search_dev_upd", "devices", "UPDATE", "NEW", "ww_search_from_devices"),
    ("ww_search_ip_ins", "device_ips", "INSERT", "NEW", "ww_search_from_children"),
    ("ww_search_ip_del", "device_ips", "DELETE", "OLD", "ww_search_from_children"),
    ("ww_search_ip_upd", "device_ips", "UPDATE", "NEW", "ww_search_from_children"),
    ("ww_search_attr_ins", "attributes", "INSERT", "NEW", "ww_search_from_children"),
    ("ww_search_attr_del", "attributes", "DELETE", "OLD", "ww_search_from_children"),
    ("ww_search_attr_upd", "attributes", "UPDATE", "NEW", "ww_search_from_children"),
)


def _upgrade_postgresql() -> None:
    op.execute("CREATE TABLE device_search (device_id BIGINT PRIMARY KEY "
               "REFERENCES devices (id) ON DELETE CASCADE, body TEXT NOT NULL)")
    op.execute(_PG_FUNCTION.format(name="ww_search_from_devices", body=_PG_BODY, column="id"))
    op.execute(_PG_FUNCTION.format(name="ww_search_from_children", body=_PG_BODY, column="device_id"))
    for trigger, table, event, transition, function in _PG_TRIGGERS:
        op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {transition} TABLE AS changed "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    op.execute(f"INSERT INTO device_search (device_id, body) SELECT d.id, {_PG_BODY} FROM devices d")
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        # pg_trgm is a trusted extension (PostgreSQL ≥ 13): a database owner may create it.
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        bind.exec_driver_sql("CREATE INDEX ix_device_search_trgm ON device_search USING gin (body gin_trgm_ops)")
        savepoint.commit()
    except Exception as exc:
        savepoint.rollback()
        log.warning("pg_trgm is not available (%s): device search will scan instead of using an index",
                    str(exc).splitlines()[0])


def upgrade() -> None:
    """Apply."""
    # plain index operations, no batch mode: a table rebuild would drop the search triggers
    op.create_index("ix_devices_last_seen", "devices", ["last_seen", "id"], unique=False)
    op.create_index("ix_attributes_name_value_device", "attributes", ["name", "value", "device_id"], unique=False)
    op.drop_index("ix_attributes_name_value", table_name="attributes")
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    """Revert."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for trigger, table, *_ in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ww_search_from_devices()")
        op.execute("DROP FUNCTION IF EXISTS ww_search_from_children()")
    else:
        for name, *_ in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS ww_search_dev_del")
    op.execute("DROP TABLE IF EXISTS device_search")
    op.create_index("ix_attributes_name_value", "attributes", ["name", "value"], unique=False)
    op.drop_index("ix_attributes_name_value_device", table_name="attributes")
    op.drop_index("ix_devices_last_seen", table_name="devices")

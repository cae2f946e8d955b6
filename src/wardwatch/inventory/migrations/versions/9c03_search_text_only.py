"""Search index narrowed to free-text attributes (issue 5)

Attributes with few distinct values (vendor, model, device class, OS, department) are found faster by
listing their distinct values (a loose index scan in ``inventory.queries``) than by a trigram index in
which every device carries the same few trigrams: a search for a department name read the posting lists
of all 100 000 devices. The trigram indexes of 9c01/9c02 now hold only host names, asset tags, serials,
locations and AE titles (plus, as before, addresses and MACs), and are rebuilt here.

Revision ID: 9c03
Revises: 9c02
"""

from __future__ import annotations

from alembic import op

revision = "9c03"
down_revision = "9c02"
branch_labels = None
depends_on = None

#: Attributes in the trigram index from here on (``inventory.queries.TEXT_SEARCHED``).
TEXT = ("hostname", "asset_tag", "serial", "location", "ae_title")
#: What 9c01/9c02 indexed.
BEFORE = ("hostname", "vendor", "model", "device_class", "os", "department", "asset_tag", "serial", "location",
          "ae_title")


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _sqlite(names: tuple[str, ...]) -> None:
    """Rebuild ``search_attr`` (9c02) over ``names``."""
    listed = _names(names)
    for suffix in ("ins", "del", "upd"):
        op.execute(f"DROP TRIGGER IF EXISTS search_attr_{suffix}")
    op.execute("DROP TABLE IF EXISTS search_attr")
    op.execute("CREATE VIRTUAL TABLE search_attr USING fts5(value, content = 'attributes', content_rowid = 'id', "
               "tokenize = 'trigram')")
    op.execute(f"CREATE TRIGGER search_attr_ins AFTER INSERT ON attributes FOR EACH ROW WHEN NEW.name IN ({listed}) "
               f"BEGIN INSERT INTO search_attr(rowid, value) VALUES (NEW.id, NEW.value); END")
    op.execute(f"CREATE TRIGGER search_attr_del AFTER DELETE ON attributes FOR EACH ROW WHEN OLD.name IN ({listed}) "
               f"BEGIN INSERT INTO search_attr(search_attr, rowid, value) VALUES ('delete', OLD.id, OLD.value); END")
    op.execute(f"CREATE TRIGGER search_attr_upd AFTER UPDATE OF value ON attributes FOR EACH ROW "
               f"WHEN NEW.name IN ({listed}) AND OLD.value IS NOT NEW.value BEGIN "
               f"INSERT INTO search_attr(search_attr, rowid, value) VALUES ('delete', OLD.id, OLD.value); "
               f"INSERT INTO search_attr(rowid, value) VALUES (NEW.id, NEW.value); END")
    op.execute(f"INSERT INTO search_attr(rowid, value) SELECT id, value FROM attributes WHERE name IN ({listed})")


def _body(names: tuple[str, ...]) -> str:
    return (f"lower(coalesce(d.mac, '') || chr(31) || "
            f"coalesce((SELECT string_agg(i.ip, chr(31)) FROM device_ips i WHERE i.device_id = d.id), '') "
            f"|| chr(31) || coalesce((SELECT string_agg(a.value, chr(31)) FROM attributes a "
            f"WHERE a.device_id = d.id AND a.name IN ({_names(names)})), ''))")


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO device_search (device_id, body)
    SELECT d.id, {body} FROM devices d WHERE d.id IN (SELECT DISTINCT {column} FROM changed)
    ON CONFLICT (device_id) DO UPDATE SET body = EXCLUDED.body
    WHERE device_search.body IS DISTINCT FROM EXCLUDED.body;
    RETURN NULL;
END
$fn$
"""


def _postgresql(names: tuple[str, ...]) -> None:
    """9c01's trigger functions and texts over ``names``."""
    op.execute(_PG_FUNCTION.format(name="ww_search_from_devices", body=_body(names), column="id"))
    op.execute(_PG_FUNCTION.format(name="ww_search_from_children", body=_body(names), column="device_id"))
    op.execute(f"UPDATE device_search s SET body = {_body(names)} FROM devices d WHERE d.id = s.device_id")


def upgrade() -> None:
    """Apply."""
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(TEXT)
    else:
        _sqlite(TEXT)


def downgrade() -> None:
    """Revert."""
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(BEFORE)
    else:
        _sqlite(BEFORE)

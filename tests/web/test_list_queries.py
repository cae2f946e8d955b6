"""The inventory list's query plans (index walks, bounded windows, sorts of few matches, capped counts)
give exactly what filtering and sorting every device in Python gives, on SQLite and PostgreSQL; the
search index follows every write (migration 9c01's triggers)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from wardwatch.domain.observation import Observation
from wardwatch.identify.ownership import ip_sort_key
from wardwatch.inventory import queries
from wardwatch.inventory import tables as t
from wardwatch.inventory.queries import SEARCHED, DeviceQuery, device_page
from wardwatch.inventory.query_sql import TEXT_SEARCHED
from wardwatch.inventory.repository import Inventory

VENDORS = ["philips", "ge healthcare", "baxter", "b. braun", "100%_pure"]
CLASSES = ["infusion_pump", "patient_monitor", "mri", "workstation"]
DEPARTMENTS = ["icu", "radiology", "ward 3", "lab"]
N = 240


@pytest.fixture
def inventory(database_url: str) -> Iterator[Inventory]:
    """N devices bulk-inserted (as the bench does), some without host name, MAC or class."""
    inv = Inventory.open(database_url)
    rng = random.Random(5)
    devices, ips, attrs = [], [], []
    for i in range(1, N + 1):
        mac = None if i % 17 == 0 else f"02:00:00:00:{i >> 8:02x}:{i & 255:02x}"
        seen = 1_700_000_000 + rng.randrange(0, 10_000)  # repeated values: ties broken by id
        devices.append({"id": i, "key": f"k{i}", "mac": mac, "sensor": "t", "first_seen": seen, "last_seen": seen})
        for ip in ([f"10.{i % 3}.{i % 7}.{i}"] if i % 11 else []) + ([f"fd00::{i:x}"] if i % 5 == 0 else []):
            version, hexed = ip_sort_key(ip)
            ips.append({"device_id": i, "sensor": "t", "ip": ip, "version": version, "ip_hex": hexed,
                        "first_seen": seen, "last_seen": seen})
        values = {"vendor": rng.choice(VENDORS), "department": rng.choice(DEPARTMENTS), "model": f"m{i % 9}"}
        if i % 13:
            values["hostname"] = f"host-{rng.randrange(60):03d}"  # duplicates on purpose
        if i % 7:
            values["device_class"] = "" if i % 19 == 0 else rng.choice(CLASSES)  # "": unknown too
        attrs += [{"device_id": i, "name": k, "value": v, "confidence": 0.5, "source": "observed", "evidence": []}
                  for k, v in values.items()]
    with inv.engine.begin() as conn:
        conn.execute(sa.insert(t.devices), devices)
        conn.execute(sa.insert(t.device_ips), ips)
        conn.execute(sa.insert(t.attributes), attrs)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('devices', 'id'), "
                                 "(SELECT max(id) FROM devices))"))
    yield inv
    inv.close()


def snapshot(inv: Inventory) -> list[dict[str, Any]]:
    """Every device as plain data, read straight from the tables."""
    with inv.engine.connect() as conn:
        out = {r.id: {"id": r.id, "mac": r.mac, "last_seen": r.last_seen, "ips": [], "attrs": {}}
               for r in conn.execute(sa.select(t.devices))}
        for r in conn.execute(sa.select(t.device_ips)):
            out[r.device_id]["ips"].append((r.ip, r.ip_hex))
        for r in conn.execute(sa.select(t.attributes)):
            out[r.device_id]["attrs"][r.name] = r.value
    return list(out.values())


def matches(d: dict[str, Any], q: DeviceQuery) -> bool:
    """The filters, in Python."""
    a = d["attrs"]
    if q.departments is not None and a.get("department") not in q.departments:
        return False
    if q.vendor and q.vendor.lower() not in a.get("vendor", "").lower():
        return False
    if q.department and a.get("department") != q.department:
        return False
    if q.device_class and (a.get("device_class") or "unknown") != q.device_class:
        return False
    if q.search:
        texts = [d["mac"] or ""] + [ip for ip, _ in d["ips"]] + [v for k, v in a.items() if k in SEARCHED]
        if not any(q.search.lower() in text.lower() for text in texts):
            return False
    return True


def ordered(devices: list[dict[str, Any]], sort: str) -> list[int]:
    """Ascending: (value, id) with devices lacking the value last by id; descending: the reverse."""
    key = sort.lstrip("-")
    key = {"name": "hostname"}.get(key, key)

    def value(d: dict[str, Any]) -> Any:
        if key in ("last_seen", "mac"):
            return d[key]
        if key == "ip":
            return min((h for _, h in d["ips"]), default=None)
        return d["attrs"].get(key)

    rows = sorted(devices, key=lambda d: (value(d) is None, value(d) or "", d["id"]))
    ids = [d["id"] for d in rows]
    return ids[::-1] if sort.startswith("-") else ids


QUERIES = [
    DeviceQuery(), DeviceQuery(sort="-name"), DeviceQuery(sort="-last_seen"), DeviceQuery(sort="mac"),
    DeviceQuery(sort="ip"), DeviceQuery(vendor="PHIL", device_class="mri"), DeviceQuery(vendor="%_"),
    DeviceQuery(device_class="workstation", sort="-name"), DeviceQuery(search="host-01", sort="last_seen"),
    DeviceQuery(search="10.1."), DeviceQuery(search="fd00::a"), DeviceQuery(search="02:00:00:00:00:1"),
    DeviceQuery(search="ICU"), DeviceQuery(search="o"), DeviceQuery(departments=("icu", "lab")),
    DeviceQuery(departments=("icu",), sort="-name", vendor="b"), DeviceQuery(departments=()),
    DeviceQuery(device_class="unknown"), DeviceQuery(device_class="unknown", vendor="b", sort="-last_seen"),
    DeviceQuery(sort="vendor"), DeviceQuery(search='x" OR "'), DeviceQuery(search="0%_p"), DeviceQuery(search="_"),
    # a search broad through a few-valued attribute (department, vendor, class) alone or with text matches,
    # walked row by row (probes) under every sort; with filters and a department scope; two filters whose
    # few matches are passed on as ids, sorted with ties (duplicate host names, equal last-seen times)
    DeviceQuery(search="icu", sort="-name"), DeviceQuery(search="ICU", sort="last_seen"),
    DeviceQuery(search="a", sort="-last_seen"), DeviceQuery(search="ward", sort="ip"),
    DeviceQuery(search="r", sort="vendor"), DeviceQuery(search="pump", sort="-vendor"),
    DeviceQuery(search="lab", vendor="b"), DeviceQuery(search="o", departments=("icu", "lab"), sort="-name"),
    DeviceQuery(vendor="b", device_class="mri", sort="-name"), DeviceQuery(vendor="e", department="icu"),
    DeviceQuery(vendor="e", department="icu", sort="-last_seen"), DeviceQuery(department="lab", sort="mac"),
]


@pytest.mark.parametrize("small_set, budget, few_ids", [(0, 10, 0), (15, 40, 5), (40, 100, 10**6),
                                                       (10**6, 10**6, 10**6)])
def test_pages_equal_python(inventory: Inventory, monkeypatch: pytest.MonkeyPatch, small_set: int,
                            budget: int, few_ids: int) -> None:
    """Every query, paged with several page sizes, under each plan choice, equals the Python answer."""
    monkeypatch.setattr(queries, "SMALL_SET", small_set)
    monkeypatch.setattr(queries, "WALK_BUDGET", budget)
    monkeypatch.setattr(queries, "FEW_IDS", few_ids)
    everything = snapshot(inventory)
    with inventory.engine.connect() as conn:
        for base in QUERIES:
            expected = ordered([d for d in everything if matches(d, base)], base.sort)
            for size in (7, 50):
                got: list[int] = []
                for offset in range(0, len(expected) + size, size):
                    total, ids = device_page(conn, DeviceQuery(**{**base.__dict__, "limit": size, "offset": offset}))
                    assert total == len(expected), base
                    got += ids
                assert got == expected, (base, size)


def test_capped_count(inventory: Inventory) -> None:
    everything = snapshot(inventory)
    wanted = sum(matches(d, DeviceQuery(search="0")) for d in everything)
    assert wanted > 20
    with inventory.engine.connect() as conn:
        assert device_page(conn, DeviceQuery(search="0", count_cap=20, limit=5))[0] == 21
        assert device_page(conn, DeviceQuery(search="0", count_cap=None, limit=5))[0] == wanted
        assert device_page(conn, DeviceQuery(count_cap=20, limit=5))[0] == N  # unfiltered: exact


def test_broad_search_count(inventory: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search broad through one department skips listing its matches: the capped total says "more",
    an uncapped one is exact, and both plans give the same page."""
    everything = snapshot(inventory)
    wanted = [d for d in everything if matches(d, DeviceQuery(search="icu"))]
    assert len(wanted) > 20
    with inventory.engine.connect() as conn:
        narrow = device_page(conn, DeviceQuery(search="icu", count_cap=None, limit=10, offset=5))
        monkeypatch.setattr(queries, "SMALL_SET", 20)
        assert queries._broad_search(conn, DeviceQuery(search="icu"), queries.distinct_values(
            conn, queries.FEW_VALUES))
        assert device_page(conn, DeviceQuery(search="icu", count_cap=20, limit=5))[0] == 21
        broad = device_page(conn, DeviceQuery(search="icu", count_cap=None, limit=10, offset=5))
        assert broad == narrow == (len(wanted), ordered(wanted, "name")[5:15])


def found(inv: Inventory, text: str) -> list[int]:
    """Ids the search finds."""
    with inv.engine.connect() as conn:
        return device_page(conn, DeviceQuery(search=text, sort="id", limit=None))[1]


def test_search_index_follows_writes(inventory: Inventory) -> None:
    """Ingest, manual edits, changed values, removed addresses and deleted devices reach the search."""
    inventory.ingest([Observation(ts=1_700_000_500.0, sensor="t", kind="dhcp.hostname", value="Zeta-Pump-9",
                                  mac="02:aa:bb:cc:dd:ee", ip="192.0.2.77")], source="test")
    new = found(inventory, "zeta-pump")
    assert len(new) == 1 and found(inventory, "192.0.2.77") == new and found(inventory, "aa:bb:cc") == new
    inventory.set_manual(new[0], "location", "Building C, room 12", "tester")
    assert found(inventory, "room 12") == new
    inventory.set_manual(new[0], "notes", "findme-not-searched", "tester")
    assert found(inventory, "findme-not") == []  # notes are not among the searched attributes
    assert 2 in found(inventory, "10.2.2.2")
    with inventory.engine.begin() as conn:
        conn.execute(sa.update(t.attributes).where(t.attributes.c.device_id == 1, t.attributes.c.name == "vendor")
                     .values(value="Quuxmed"))
        conn.execute(sa.delete(t.device_ips).where(t.device_ips.c.device_id == 2))
        conn.execute(sa.update(t.devices).where(t.devices.c.id == 3).values(mac="02:fe:ed:fa:ce:00"))
        conn.execute(sa.delete(t.devices).where(t.devices.c.id == 4))
    assert found(inventory, "quuxmed") == [1]
    assert 2 not in found(inventory, "10.2.2.2")
    assert found(inventory, "fe:ed:fa") == [3] and 3 not in found(inventory, "02:00:00:00:00:03")
    with inventory.engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one text per device
            assert conn.execute(sa.text("SELECT count(*) FROM device_search")).scalar() == N
        else:  # one entry per searched attribute row
            searched = conn.execute(sa.select(sa.func.count()).where(t.attributes.c.name.in_(TEXT_SEARCHED))).scalar()
            indexed = conn.execute(sa.text("SELECT count(*) FROM search_attr_docsize")).scalar()
            assert indexed == searched


def test_dashboard_counts(inventory: Inventory) -> None:
    everything = snapshot(inventory)
    with inventory.engine.connect() as conn:
        for scope in (None, ("icu", "lab")):
            inside = [d for d in everything if scope is None or d["attrs"].get("department") in scope]
            by_class: dict[str, int] = {}
            for d in inside:
                label = d["attrs"].get("device_class", "")
                by_class[label] = by_class.get(label, 0) + 1
            got = dict(queries.count_by_attribute(conn, "device_class", scope, limit=100))
            assert got == by_class
            assert queries.count_devices(conn, scope) == len(inside)
            top = queries.count_by_attribute(conn, "vendor", scope, limit=2)
            assert [n for _, n in top[:2]] == sorted((n for n in _counts(inside, "vendor").values()), reverse=True)[:2]
        assert queries.change_marker(conn) == 0


def _counts(devices: list[dict[str, Any]], name: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in devices:
        if name in d["attrs"]:
            out[d["attrs"][name]] = out.get(d["attrs"][name], 0) + 1
    return out


def test_dashboard_cache_sees_ingests(inventory: Inventory) -> None:
    """Cached dashboard numbers are dropped when anyone ingests, not only on edits through the web."""
    from wardwatch.web.services import WebServices

    stats = WebServices(inventory.engine, inventory).stats
    assert stats.device_count(None) == N
    before = dict(stats.count_by("vendor", None, limit=100))
    inventory.ingest([Observation(ts=1_700_000_900.0, sensor="t", kind="dhcp.hostname", value="new-one",
                                  mac="02:aa:00:00:00:01")], source="pipeline")
    assert stats.device_count(None) == N + 1
    assert dict(stats.count_by("vendor", None, limit=100)).get("", 0) == before.get("", 0) + 1


def test_search_survives_downgrade_and_upgrade(inventory: Inventory) -> None:
    """Down to 9b01 and up again, the search indexes are rebuilt from the tables at each revision."""
    from wardwatch.inventory.db import migrate

    before = found(inventory, "host-01")
    assert before
    from alembic import command
    from alembic.config import Config

    from wardwatch.inventory.db import migrations_dir

    for revision in ("9c02", "9c01", "9b01"):
        with inventory.engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(migrations_dir()))
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
        if revision == "9c02":  # the code reads 9c02's wider index too (before 9c02 it needs an upgrade)
            assert found(inventory, "host-01") == before
    migrate(inventory.engine)
    assert found(inventory, "host-01") == before

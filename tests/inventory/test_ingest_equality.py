"""Differential check of the ingest path: a full, ordered dump of every inventory table after ingesting
(a) the IoT Sentinel captures through the whole pipeline and (b) a generated set with repeats, replays,
IP moves, IP-keyed devices merged into MAC devices, manual values and overlapping flows, must equal the
dump the previous (pre-optimisation) code path produced, stored in ``fixtures/ingest_golden.json.gz``.

Surrogate ids are normalised (a device is named by its key, rows are ordered by natural keys), so the
dump is the same on SQLite and PostgreSQL. Regenerate the golden file only for an intended change of what is stored:
``WARDWATCH_WRITE_INGEST_GOLDEN=1 pytest tests/inventory -k golden``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import SHARED_DATA
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.identify.state import DeviceState
from wardwatch.inventory import Inventory, repository
from wardwatch.inventory import tables as t
from wardwatch.inventory.store import DbStore

GOLDEN = Path(__file__).parent / "fixtures" / "ingest_golden.json.gz"
T0 = 1_700_000_000.0


def dump(engine: sa.Engine) -> dict[str, list[list[Any]]]:
    """Every inventory table as ordered lists of plain values, ids replaced by natural keys."""
    out: dict[str, list[list[Any]]] = {}
    with engine.connect() as conn:
        keys = {row.id: row.key for row in conn.execute(sa.select(t.devices.c.id, t.devices.c.key))}
        out["devices"] = [list(r) for r in conn.execute(
            sa.select(t.devices.c.key, t.devices.c.mac, t.devices.c.sensor, t.devices.c.first_seen,
                      t.devices.c.last_seen).order_by(t.devices.c.key))]
        # insertion order of devices (ids ascend in the order rows were written)
        out["device_order"] = [[keys[i]] for i in sorted(keys)]
        out["facts"] = sorted([keys[r.device_id], r.kind, r.value, r.first_seen, r.last_seen, r.count, r.sensor,
                               r.excerpt, r.confidence, r.source] for r in conn.execute(sa.select(t.facts)))
        out["device_ips"] = sorted([keys[r.device_id], r.sensor, r.ip, r.version, r.ip_hex, r.first_seen,
                                    r.last_seen] for r in conn.execute(sa.select(t.device_ips)))
        out["attributes"] = sorted([keys[r.device_id], r.name, r.value, r.confidence, r.source,
                                    json.dumps(r.evidence, sort_keys=True)]
                                   for r in conn.execute(sa.select(t.attributes)))
        # sorted: events of one write come in the order the device's facts were loaded, which is the
        # database's row order (not the same on SQLite and PostgreSQL)
        out["history"] = sorted([[keys[r.device_id], r.ts, r.kind, r.attribute, r.old, r.new, r.evidence]
                                 for r in conn.execute(sa.select(t.history))], key=repr)
        columns = [c for c in t.flows.c if c.name != "id"]
        out["flows"] = sorted([[bool(v) if c.name == "refused" else v for c, v in zip(columns, r, strict=True)]
                               for r in conn.execute(sa.select(*columns))])
        run_columns = [c for c in t.ingest_runs.c if c.name not in ("id", "started_at", "finished_at")]
        out["ingest_runs"] = [list(r) for r in conn.execute(sa.select(*run_columns).order_by(t.ingest_runs.c.id))]
    return json.loads(json.dumps(out))  # tuples → lists, as in the golden file


def _mac(n: int) -> str:
    return f"00:1b:63:00:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"


def generated_batches() -> Iterator[tuple[list[Observation], list[FlowRecord]]]:
    """Deterministic batches exercising repeats, replays, IP moves, merges, attribute changes and flows."""
    rng = random.Random(20261128)
    kinds = ["dhcp.hostname", "dhcp.vendor_class", "dhcp.param_list", "http.user_agent", "mdns.service",
             "ssdp.server", "tls.sni", "dns.query"]
    macs = [_mac(n) for n in range(60)]
    ip_of = {mac: f"10.0.{n // 200}.{n % 200 + 10}" for n, mac in enumerate(macs)}
    batches: list[tuple[list[Observation], list[FlowRecord]]] = []
    for b in range(6):
        obs: list[Observation] = []
        flows: list[FlowRecord] = []
        base = T0 + b * 1800
        for _i in range(900):
            mac = rng.choice(macs)
            ts = base + rng.uniform(-600, 1800)  # out of order, overlapping the previous batch
            kind = rng.choice(kinds)
            value = f"{kind.split('.')[1]}-{rng.randrange(4)}-{macs.index(mac) % 9}"
            ip = ip_of[mac]
            if kind.startswith("dhcp.") and rng.random() < 0.05:  # an address move
                ip = ip_of[mac] = f"10.1.{rng.randrange(3)}.{rng.randrange(10, 60)}"
                obs.append(Observation(ts=ts, sensor="s1", kind="dhcp.assigned_ip", value=ip, mac=mac, ip=ip))
            if rng.random() < 0.15:  # routed-looking traffic: IP only, or a router MAC with the IP
                other = f"10.2.0.{rng.randrange(10, 40)}"
                obs.append(Observation(ts=ts, sensor=rng.choice(["s1", "s2"]), kind="http.user_agent",
                                       value=f"agent-{rng.randrange(3)}", mac=None, ip=other))
                if rng.random() < 0.3:  # later proof of ownership: the IP device merges into a MAC device
                    obs.append(Observation(ts=ts + 5, sensor="s1", kind="arp.sender_ip", value=other,
                                           mac=rng.choice(macs), ip=other))
            obs.append(Observation(ts=ts, sensor="s1", kind=kind, value=value, mac=mac, ip=ip,
                                   excerpt=f"x{rng.randrange(5)}" * rng.randrange(1, 80),
                                   confidence=rng.choice([None, 0.5, 0.9])))
            if rng.random() < 0.2:
                obs.append(obs[-1])  # an exact repeat
            if rng.random() < 0.3:
                first = base + rng.uniform(0, 3000)
                flows.append(FlowRecord(
                    src_ip=ip, dst_ip=f"10.0.0.{rng.randrange(1, 5)}", proto=rng.choice([6, 17]),
                    src_port=rng.choice([1000, 2000]), dst_port=rng.choice([80, 443]),
                    src_mac=mac, dst_mac=rng.choice([None, macs[0]]), first_seen=first,
                    last_seen=first + rng.uniform(0, 900), packets_fwd=rng.randrange(1, 9),
                    packets_rev=rng.randrange(0, 9), bytes_fwd=rng.randrange(60, 9000),
                    bytes_rev=rng.randrange(0, 9000), vlan=rng.choice([None, 5]),
                    app=rng.choice([None, "http"]), sensor="s1", refused=rng.random() < 0.2))
        obs.append(Observation(ts=base, sensor="s1", kind="manual.location", value=f"ward {b}", mac=macs[1],
                               ip=None, source="manual", confidence=1.0))
        obs.append(Observation(ts=base + 1, sensor="s1", kind="mdns.service", value="_x._tcp.local",
                               mac="01:00:5e:00:00:fb", ip="224.0.0.251"))  # multicast: skipped
        batches.append((obs, flows))
    yield from batches
    yield batches[2]  # a replay of a whole batch: idempotent


def _ingest_all(url: str) -> dict[str, list[list[Any]]]:
    from tests.support.analyze import analyze_into

    out: dict[str, list[list[Any]]] = {}
    sentinel = SHARED_DATA / "iot-sentinel"
    if sentinel.is_dir():
        captures = sorted(sentinel.glob("*/*.pcap"))
        inventory, report = analyze_into(url, captures)
        assert not any(f.error for f in report.files)
        try:
            out = {f"sentinel.{k}": v for k, v in dump(inventory.engine).items()}
            for row in out["sentinel.ingest_runs"]:
                row[0] = Path(row[0]).name
        finally:
            inventory.close()
        _drop_all(url)
    inventory = Inventory.open(url)
    try:
        for obs, flows in generated_batches():
            inventory.ingest(obs, flows, source="generated")
        out.update({f"generated.{k}": v for k, v in dump(inventory.engine).items()})
    finally:
        inventory.close()
    return out


def _drop_all(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for table in reversed(t.metadata.sorted_tables):
            conn.execute(sa.delete(table))
    engine.dispose()


def _diff(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if want != got:
            if want is None or got is None:
                return f"{name}: missing on one side"
            for i, (a, b) in enumerate(zip(want, got, strict=False)):
                if a != b:
                    return f"{name} row {i}: expected {a!r}, got {b!r}"
            return f"{name}: {len(want)} rows expected, {len(got)} stored"
    return ""


@pytest.mark.parametrize("chunk", [repository.CHUNK, 700])
def test_ingest_golden(database_url: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stored row equals the previous code path's (also with small chunks: cross-chunk reloads)."""
    monkeypatch.setattr(repository, "CHUNK", chunk)
    actual = _ingest_all(database_url)
    if os.environ.get("WARDWATCH_WRITE_INGEST_GOLDEN") == "1" and database_url.startswith("sqlite"):
        golden = json.loads(gzip.decompress(GOLDEN.read_bytes())) if GOLDEN.exists() else {}
        golden[str(chunk)] = actual
        GOLDEN.write_bytes(gzip.compress(json.dumps(golden, sort_keys=True).encode(), mtime=0))
    expected = json.loads(gzip.decompress(GOLDEN.read_bytes()))[str(chunk)]
    if not (SHARED_DATA / "iot-sentinel").is_dir():
        expected = {k: v for k, v in expected.items() if not k.startswith("sentinel.")}
    assert not _diff(expected, actual), _diff(expected, actual)
    assert actual == expected


def _state_view(state: DeviceState, *, ordered: bool) -> list[Any]:
    facts = [(k, repr(f)) for k, f in state.facts.items()]
    ips = [(k, repr(i)) for k, i in state.ips.items()]
    return [state.key, state.mac, state.sensor, state.first_seen, state.last_seen, state.id, state.dirty,
            state.facts_changed, list(state.history), list(state.absorbed), list(state.removed_ip_ids),
            sorted(state.changed_attributes), sorted(state.removed_attributes),
            facts if ordered else sorted(facts), ips if ordered else sorted(ips),
            sorted((name, repr(a)) for name, a in state.attributes.items())]


def test_kept_states_equal_a_reload(database_url: str) -> None:
    """After each write, the states a store keeps for the next chunk equal what a fresh store reads back
    (fact and IP order too on SQLite, whose reads come in index order; PostgreSQL promises no order)."""
    ordered = database_url.startswith("sqlite")
    inventory = Inventory.open(database_url)
    try:
        with inventory.engine.begin() as conn:
            store = DbStore(conn)
            checked = 0
            for obs, _flows in generated_batches():
                for start in range(0, len(obs), 500):
                    store.write(inventory.resolver.resolve(obs[start:start + 500], store))
                    keys = list(store._cache)
                    kept = store.load_devices(keys)
                    fresh_store = DbStore(conn)
                    fresh = fresh_store.load_devices(keys)
                    fresh_store.load_attributes([fresh[k] for k in keys if kept[k].attributes_loaded])
                    assert kept.keys() == fresh.keys()
                    for key in keys:
                        assert kept[key].attributes_loaded or not kept[key].attributes
                        fresh[key].attributes_loaded = kept[key].attributes_loaded
                        assert _state_view(kept[key], ordered=ordered) == _state_view(fresh[key], ordered=ordered)
                        checked += 1
            assert checked > 1000
    finally:
        inventory.close()

"""The inventory: the one object the CLI, the pipeline and the web layer use to store and read devices.

``Inventory.open(url)`` migrates the database to the latest schema and returns a ready inventory.
``ingest`` runs the identity resolver over Observations in chunks inside ONE transaction (so an import is
all or nothing), bulk-loading the devices a chunk touches and bulk-writing what changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from wardwatch.domain.device import Device, HistoryEvent
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import MAX_VALUE, Observation
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.identify.oui import normalize_mac
from wardwatch.identify.ownership import normalize_ip
from wardwatch.identify.resolver import Resolver, RuleEvaluator
from wardwatch.identify.state import Fact
from wardwatch.inventory import tables as t
from wardwatch.inventory.db import InventoryError, create_engine, migrate
from wardwatch.inventory.flows import select_flows, write_flows
from wardwatch.inventory.queries import DeviceQuery, device_page
from wardwatch.inventory.read import load_devices
from wardwatch.inventory.store import DbStore

#: Observations resolved per chunk (bounds memory; each chunk is one bulk load and one bulk write).
CHUNK = 50_000
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What one ingest did."""

    run_id: int
    observations: int
    flows: int
    skipped: int
    devices_new: int
    devices_updated: int
    devices_merged: int
    facts_added: int
    history_events: int


class Inventory:
    """Devices, facts, history and flows in SQLite or PostgreSQL."""

    def __init__(self, engine: sa.Engine, *, resolver: Resolver | None = None) -> None:
        self.engine = engine
        self.resolver = resolver or Resolver()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        evaluator: RuleEvaluator | None = None,
        evidence_cap: int = 20,
        local_networks: Iterable[str] = (),
        migrate_schema: bool = True,
    ) -> Inventory:
        """Open (creating and migrating as needed) the inventory at ``url``."""
        engine = create_engine(url)
        try:
            if migrate_schema:
                migrate(engine)
        except WardwatchError:
            engine.dispose()
            raise
        resolver = Resolver(evaluator=evaluator, evidence_cap=evidence_cap, local_networks=local_networks)
        return cls(engine, resolver=resolver)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------------------------
    def ingest(self, observations: Iterable[Observation], flows: Iterable[FlowRecord] = (), *,
               source: str = "") -> IngestSummary:
        """Resolve ``observations`` into devices and store ``flows``, all in one transaction."""
        try:
            with self.engine.begin() as conn:
                return self.ingest_in(conn, observations, flows, source=source)
        except SQLAlchemyError as exc:
            raise InventoryError(f"ingest failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc

    def ingest_in(self, conn: sa.Connection, observations: Iterable[Observation], flows: Iterable[FlowRecord] = (),
                  *, source: str = "") -> IngestSummary:
        """:meth:`ingest` inside the caller's transaction (the sensor server claims its batch in the same one)."""
        started = time.time()
        totals = dict.fromkeys(("observations", "skipped", "devices_new", "devices_updated",
                                "devices_merged", "facts_added", "history_events"), 0)
        store = DbStore(conn)
        for chunk in _chunked(observations, CHUNK):
            result = self.resolver.resolve(chunk, store)
            store.write(result)
            totals["observations"] += result.observations
            totals["skipped"] += result.skipped
            totals["devices_new"] += result.new_devices
            totals["devices_updated"] += result.updated_devices
            totals["devices_merged"] += result.merged_devices
            totals["facts_added"] += result.facts_added
            totals["history_events"] += result.history_events
        flow_rows = write_flows(conn, flows)
        run_id = conn.execute(
            sa.insert(t.ingest_runs).returning(t.ingest_runs.c.id),
            {"source": source[:500], "started_at": started, "finished_at": time.time(), "flows": flow_rows,
             **totals},
        ).scalar_one()
        return IngestSummary(run_id=run_id, flows=flow_rows, **totals)

    def set_manual(self, device_id: int, name: str, value: str, actor: str) -> None:
        """A person sets attribute ``name`` (wins over everything inferred); ``""`` clears it."""
        if not _NAME.match(name):
            raise WardwatchError(f"not an attribute name: {name!r}")
        if len(value) > MAX_VALUE:
            raise WardwatchError(f"value of {name} is longer than {MAX_VALUE} characters")
        device = self.get_device(str(device_id))
        ip = None if device.mac else device.ips[0] if device.ips else None
        observation = Observation(ts=time.time(), sensor=device.sensor, kind=f"manual.{name}", value=value,
                                  mac=device.mac, ip=ip, excerpt=f"set by {actor}"[:160], confidence=1.0,
                                  source="manual")
        self.ingest([observation], source=f"manual by {actor}")

    def clear_manual(self, device_id: int, name: str, actor: str) -> None:
        """Withdraw a person's value: the attribute falls back to imported or inferred values."""
        self.set_manual(device_id, name, "", actor)

    # -- reads ---------------------------------------------------------------------------------------
    def list_devices(self, *, vendor: str | None = None, device_class: str | None = None,
                     subnet: str | None = None, search: str | None = None, limit: int | None = None,
                     offset: int = 0) -> list[Device]:
        """Devices matching every given filter, by id (filters as in the web list: ``inventory.queries``)."""
        query = DeviceQuery(vendor=vendor, device_class=device_class, subnet=subnet, search=search, sort="id",
                            limit=limit, offset=offset)
        with self.engine.connect() as conn:
            _total, ids = _page(conn, query)
            return load_devices(conn, ids)

    def count_devices(self, *, vendor: str | None = None, device_class: str | None = None,
                      subnet: str | None = None, search: str | None = None) -> int:
        """How many devices match the filters."""
        query = DeviceQuery(vendor=vendor, device_class=device_class, subnet=subnet, search=search, sort="id",
                            limit=0)
        with self.engine.connect() as conn:
            return _page(conn, query)[0]

    def get_device(self, key: str) -> Device:
        """A device by numeric id, MAC (any common notation), IP, inventory key or host name."""
        text = key.strip()
        with self.engine.connect() as conn:
            device_id = _resolve_key(conn, text)
            if device_id is not None:
                found = load_devices(conn, [device_id])
                if found:
                    return found[0]
        raise NotFoundError(f"no device {key!r}")

    def history(self, device_id: int) -> list[HistoryEvent]:
        """What changed on a device, oldest first."""
        query = sa.select(t.history).where(t.history.c.device_id == device_id).order_by(t.history.c.ts,
                                                                                        t.history.c.id)
        with self.engine.connect() as conn:
            return [HistoryEvent(ts=r.ts, kind=r.kind, attribute=r.attribute, old=r.old, new=r.new,
                                 evidence=r.evidence, device_id=r.device_id) for r in conn.execute(query)]

    def facts(self, device_id: int) -> list[Fact]:
        """The distinct observations of a device, by kind and value."""
        query = sa.select(t.facts).where(t.facts.c.device_id == device_id).order_by(t.facts.c.kind,
                                                                                    t.facts.c.value)
        with self.engine.connect() as conn:
            return [Fact(r.kind, r.value, r.first_seen, r.last_seen, r._mapping["count"], r.sensor, r.excerpt,
                         r.confidence, r.source) for r in conn.execute(query)]

    def flows(self, device_id: int | None = None, *, limit: int | None = None) -> list[FlowRecord]:
        """Flows of one device (by its MAC and IPs), or all flows."""
        with self.engine.connect() as conn:
            if device_id is None:
                return select_flows(conn, limit=limit)
            found = load_devices(conn, [device_id])
            if not found:
                raise NotFoundError(f"no device {device_id}")
            return select_flows(conn, mac=found[0].mac or "", ips=found[0].ips, limit=limit)

    def ingest_runs(self) -> list[dict[str, Any]]:
        """The ingest log, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.ingest_runs).order_by(t.ingest_runs.c.id.desc()))
            return [dict(row._mapping) for row in rows]


def _page(conn: sa.Connection, query: DeviceQuery) -> tuple[int, list[int]]:
    try:
        return device_page(conn, query)
    except ValueError as exc:  # a malformed subnet
        raise WardwatchError(str(exc)) from None


def _resolve_key(conn: sa.Connection, text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text.startswith(("mac:", "ip:")):
        return conn.execute(sa.select(t.devices.c.id).where(t.devices.c.key == text)).scalar()
    mac = normalize_mac(text)
    if mac is not None:
        return conn.execute(sa.select(t.devices.c.id).where(t.devices.c.mac == mac)).scalar()
    ip = normalize_ip(text)
    if ip is not None:
        row = conn.execute(
            sa.select(t.devices.c.id)
            .join(t.device_ips, t.device_ips.c.device_id == t.devices.c.id)
            .where(t.device_ips.c.ip == ip)
            .order_by(t.devices.c.mac.is_(None), t.device_ips.c.last_seen.desc())
            .limit(1)
        ).scalar()
        return int(row) if row is not None else None
    row = conn.execute(
        sa.select(t.attributes.c.device_id)
        .where(t.attributes.c.name == "hostname", sa.func.lower(t.attributes.c.value) == text.lower())
        .order_by(t.attributes.c.device_id)
        .limit(1)
    ).scalar()
    return int(row) if row is not None else None


def _chunked(items: Iterable[Observation], size: int) -> Iterator[list[Observation]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

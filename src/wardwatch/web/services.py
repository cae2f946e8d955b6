"""What the web layer calls: the inventory, its read-model queries, findings, risk and alerts.

One object per application (``app.state.services``); it is the seam where the web meets the rest of the
program, so routes stay thin and tests can pass a prepared one.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy as sa

from wardwatch.domain.device import Device
from wardwatch.domain.flow import FlowRecord
from wardwatch.errors import NotFoundError
from wardwatch.inventory import queries
from wardwatch.inventory.queries import DeviceQuery
from wardwatch.inventory.serialize import device_to_json, iso

__all__ = ["COUNT_CAP", "DeviceQuery", "InventoryStats", "WebServices", "open_engine"]

#: Lists count matches of a filter up to this many, then say "5 000+" (counting every match of a broad
#: search at 100 000 devices costs more than the page itself; up to here the list has the ids anyway).
COUNT_CAP = queries.SMALL_SET

_T = TypeVar("_T")
#: The change marker read at the start of the current dashboard view (``InventoryStats.view``).
_VIEW_MARKER: ContextVar[int | None] = ContextVar("wardwatch_view_marker", default=None)


def open_engine(url: str) -> sa.Engine:
    """An engine on ``url`` with the inventory schema migrated."""
    from wardwatch.inventory.db import create_engine, migrate

    engine = create_engine(url)
    migrate(engine)
    return engine


class InventoryStats:
    """The dashboard numbers (implements ``web.widgets.DashboardData``).

    Aggregates over the whole inventory cost 10-100 ms each at 100 000 devices, and every dashboard view
    asks for several. A result is kept per (question, department scope) together with the inventory's
    change marker (``queries.change_marker``: the newest ingest run; manual edits and imports are ingests
    too) and served while the marker is unchanged, so an ingest by the pipeline, the CLI or another web
    process shows on the next view. ``ttl`` bounds the age of a result all the same; ``invalidate`` drops
    everything at once (a person's edit through this process).
    """

    def __init__(self, services: WebServices, ttl: float = 300.0) -> None:
        self.services = services
        self.ttl = ttl
        self._cache: dict[tuple[Any, ...], tuple[float, int, Any]] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget every cached number."""
        with self._lock:
            self._cache.clear()

    def marker(self) -> int:
        """The inventory's change marker now (or as read once for the current view, see ``view``)."""
        pinned = _VIEW_MARKER.get()
        if pinned is not None:
            return pinned
        with self.services.engine.connect() as conn:
            return queries.change_marker(conn)

    @contextmanager
    def view(self) -> Iterator[None]:
        """Read the change marker once for all the widgets of one dashboard view."""
        token = _VIEW_MARKER.set(None)
        _VIEW_MARKER.set(self.marker())
        try:
            yield
        finally:
            _VIEW_MARKER.reset(token)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        now = time.monotonic()
        marker = self.marker()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now and hit[1] == marker:
            return hit[2]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._cache[key] = (now + self.ttl, marker, value)
        return value

    def device_count(self, departments: tuple[str, ...] | None) -> int:
        def compute() -> int:
            with self.services.engine.connect() as conn:
                return queries.count_devices(conn, departments)
        return self._cached(("count", departments), compute)

    def count_by(self, attribute: str, departments: tuple[str, ...] | None, limit: int = 12) -> list[tuple[str, int]]:
        def compute() -> list[tuple[str, int]]:
            with self.services.engine.connect() as conn:
                return queries.count_by_attribute(conn, attribute, departments, limit)
        return self._cached(("by", attribute, departments, limit), compute)

    def subnets(self, departments: tuple[str, ...] | None, limit: int = 12) -> list[tuple[str, int]]:
        def compute() -> list[tuple[str, int]]:
            with self.services.engine.connect() as conn:
                return queries.count_by_subnet(conn, departments, limit)
        return self._cached(("subnets", departments, limit), compute)

    def findings_by_severity(self, departments: tuple[str, ...] | None) -> list[tuple[str, int]]:
        return self.services.extensions.findings_by_severity(departments)

    def recent_alerts(self, departments: tuple[str, ...] | None, limit: int = 8) -> list[dict[str, Any]]:
        return self.services.extensions.recent_alerts(departments, limit)

    def devices_with_open_problems(self, departments: tuple[str, ...] | None, limit: int = 12
                                   ) -> list[dict[str, Any]]:
        return self.services.extensions.devices_with_open_problems(departments, limit)


class Extensions:
    """Findings, risk and alerts as other capabilities provide them; empty until they are present."""

    def findings_by_severity(self, departments: tuple[str, ...] | None) -> list[tuple[str, int]]:
        return []

    def recent_alerts(self, departments: tuple[str, ...] | None, limit: int) -> list[dict[str, Any]]:
        return []

    def devices_with_open_problems(self, departments: tuple[str, ...] | None, limit: int) -> list[dict[str, Any]]:
        return []

    def findings_for(self, device_id: int) -> list[dict[str, Any]]:
        return []

    def risk_for(self, device_id: int) -> dict[str, Any] | None:
        return None

    def alerts_for(self, device_id: int) -> list[dict[str, Any]]:
        return []

    def all_findings(self, departments: tuple[str, ...] | None) -> list[dict[str, Any]] | None:
        """Every finding in scope as flat dicts, or None when findings are not computed."""
        return None

    def plan(self) -> list[dict[str, Any]] | None:
        """The remediation plan's actions as flat dicts, or None when no plan was made."""
        return None

    def risk_by(self, attribute: str, departments: tuple[str, ...] | None) -> list[tuple[str, float, int]] | None:
        """(group, mean score, devices) of risk grouped by an attribute, or None when not computed."""
        return None


class WebServices:
    """The inventory and friends, as the web layer needs them."""

    def __init__(self, engine: sa.Engine, inventory: Any, extensions: Extensions | None = None) -> None:
        self.engine = engine
        self.inventory = inventory
        self.extensions = extensions or Extensions()
        self.stats = InventoryStats(self)

    @classmethod
    def open(cls, url: str) -> WebServices:
        """Services on the inventory at ``url`` (migrated)."""
        from wardwatch.inventory.repository import Inventory
        from wardwatch.web.extensions import TableExtensions

        inventory = Inventory.open(url)
        return cls(inventory.engine, inventory, TableExtensions(inventory.engine))

    # -- devices -------------------------------------------------------------------------------------
    def list_devices(self, query: DeviceQuery) -> tuple[int, list[Device]]:
        """Total and one page of devices (the total of a filtered list is capped by ``query.count_cap``)."""
        with self.engine.connect() as conn:
            total, ids = queries.device_page(conn, query)
            from wardwatch.inventory.read import load_devices

            return total, load_devices(conn, ids)

    def load(self, ids: Sequence[int]) -> list[Device]:
        """Full devices for ``ids``, in that order."""
        from wardwatch.inventory.read import load_devices

        with self.engine.connect() as conn:
            return load_devices(conn, list(ids))

    def get_device(self, device_id: int, departments: tuple[str, ...] | None) -> Device:
        """One device, if the viewer's department scope allows it (NotFoundError otherwise)."""
        found = self.load([device_id])
        if not found:
            raise NotFoundError(f"no device {device_id}")
        device = found[0]
        if departments is not None and device.value("department") not in departments:
            raise NotFoundError(f"no device {device_id}")
        return device

    def history(self, device_id: int) -> list[Any]:
        """The device's history events."""
        return list(self.inventory.history(device_id))

    def set_manual(self, device_id: int, name: str, value: str, actor: str) -> None:
        """A person's value for an attribute (wins over inferred values), written to the audit log."""
        self.inventory.set_manual(device_id, name, value, actor)
        self.stats.invalidate()
        from wardwatch.web.auth.store import AccessStore

        AccessStore(self.engine).audit(actor, "device.set", str(device_id), {"attribute": name, "value": value})

    def device_json(self, device: Device) -> dict[str, Any]:
        """The API's JSON device object."""
        return device_to_json(device)

    def device_row(self, device: Device) -> dict[str, Any]:
        """What one row of the inventory list shows."""
        return {"id": device.id, "mac": device.mac, "ips": list(device.ips), "hostname": device.value("hostname"),
                "vendor": device.value("vendor") or device.value("mac_vendor"), "model": device.value("model"),
                "device_class": device.value("device_class"), "department": device.value("department"),
                "last_seen": (iso(device.last_seen) or "")[:19].replace("T", " ")}

    def devices_csv(self, devices: Sequence[Device]) -> str:
        """The list as CSV (cells starting with = + - @ are quoted against formula injection)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        columns = ["id", "mac", "ips", "hostname", "vendor", "model", "device_class", "department", "last_seen"]
        writer.writerow(columns)
        for device in devices:
            row = self.device_row(device)
            writer.writerow([_safe_cell(";".join(row[c]) if isinstance(row[c], list) else row[c]) for c in columns])
        return buffer.getvalue()

    def flows_of(self, device: Device) -> list[FlowRecord]:
        """Flows the device took part in."""
        if device.id is None:
            return []
        return list(self.inventory.flows(device.id))

    def comm_graph(self, device: Device, limit: int = 40) -> dict[str, Any]:
        """Nodes and edges of the device's communication map (peers by bytes, top ``limit``)."""
        own = set(device.ips)
        peers: dict[str, dict[str, Any]] = {}
        for flow in self.flows_of(device):
            outgoing = flow.src_ip in own or (device.mac is not None and flow.src_mac == device.mac)
            peer = flow.dst_ip if outgoing else flow.src_ip
            if not peer:
                continue
            entry = peers.setdefault(peer, {"bytes": 0, "labels": set()})
            entry["bytes"] += flow.bytes
            transport = "tcp" if flow.proto == 6 else "udp" if flow.proto == 17 else str(flow.proto)
            port = f"{flow.app or transport}/{flow.dst_port}"
            entry["labels"].add(port)
        top = sorted(peers.items(), key=lambda kv: -kv[1]["bytes"])[:limit]
        me = device.value("hostname") or device.mac or (device.ips[0] if device.ips else "device")
        nodes = [{"id": "self", "label": me, "self": True}]
        edges = []
        for i, (peer, info) in enumerate(top):
            nodes.append({"id": f"p{i}", "label": peer})
            edges.append({"source": "self", "target": f"p{i}", "label": ", ".join(sorted(info["labels"])[:3])})
        return {"nodes": nodes, "edges": edges}

    def findings_for(self, device_id: int) -> list[dict[str, Any]]:
        """The device's findings with their explanation."""
        return self.extensions.findings_for(device_id)

    def risk_for(self, device_id: int) -> dict[str, Any] | None:
        """The device's risk assessment, if computed."""
        return self.extensions.risk_for(device_id)

    def alerts_for(self, device_id: int) -> list[dict[str, Any]]:
        """Alerts naming the device."""
        return self.extensions.alerts_for(device_id)


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

"""Loading domain Devices (with IPs and attributes, not facts) from the inventory tables in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wardwatch.domain.device import Attribute, Device
from wardwatch.inventory import tables as t
from wardwatch.inventory.store import attribute_from_row, chunks


def load_devices(conn: sa.Connection, ids: Sequence[int]) -> list[Device]:
    """Devices in the order of ``ids`` (unknown ids are left out); three queries per 2000 ids."""
    rows: dict[int, Any] = {}
    ips: dict[int, list[tuple[float, str]]] = {}
    attrs: dict[int, dict[str, Attribute]] = {}
    for batch in chunks(ids):
        for row in conn.execute(sa.select(t.devices).where(t.devices.c.id.in_(batch))):
            rows[row.id] = row
        for i in conn.execute(sa.select(t.device_ips.c.device_id, t.device_ips.c.ip, t.device_ips.c.last_seen)
                              .where(t.device_ips.c.device_id.in_(batch))):
            ips.setdefault(i.device_id, []).append((-i.last_seen, i.ip))
        for a in conn.execute(sa.select(t.attributes).where(t.attributes.c.device_id.in_(batch))):
            attrs.setdefault(a.device_id, {})[a.name] = attribute_from_row(a.name, a.value, a.confidence,
                                                                           a.source, a.evidence)
    out: list[Device] = []
    for device_id in ids:
        found = rows.get(device_id)
        if found is None:
            continue
        addresses: list[str] = []
        for _recency, ip in sorted(ips.get(device_id, [])):
            if ip not in addresses:
                addresses.append(ip)
        out.append(Device(key=found.key, mac=found.mac, ips=tuple(addresses), first_seen=found.first_seen,
                          last_seen=found.last_seen, attributes=attrs.get(device_id, {}), sensor=found.sensor,
                          id=found.id))
    return out

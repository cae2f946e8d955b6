"""The inventory list's index walk (unfiltered, sorted by an attribute) gives the same order as sorting."""

from __future__ import annotations

import pytest

from tests.web.world import World
from wardwatch.inventory.queries import DeviceQuery, device_page


@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_unfiltered_name_order_pages(world: World, size: int) -> None:
    """Pages of the index walk, joined, equal the devices sorted by host name (those without last, by id)."""
    devices = world.inventory.list_devices()
    named = sorted((d.value("hostname") or "", d.id or 0) for d in devices if d.value("hostname"))
    unnamed = sorted(d.id or 0 for d in devices if not d.value("hostname"))
    with world.inventory.engine.connect() as conn:
        total, _ = device_page(conn, DeviceQuery(limit=0))
        pages: list[int] = []
        for offset in range(0, total, size):
            pages += device_page(conn, DeviceQuery(sort="name", limit=size, offset=offset))[1]
    assert total == len(devices)
    assert [world.inventory.get_device(str(i)).value("hostname") for i in pages[: len(named)]] == [n for n, _ in named]
    assert pages[len(named):] == unnamed
    assert sorted(pages) == sorted(d.id or 0 for d in devices)

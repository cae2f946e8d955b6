"""Persistence of the inventory: devices, facts, attributes, history, flows (ARCHITECTURE.md).

Public API: :class:`Inventory` (``Inventory.open(url)``), :class:`IngestSummary`, :func:`device_to_json`,
:func:`import_assets` (CMMS CSV/XLSX).
"""

from __future__ import annotations

from wardwatch.inventory.imports import ImportSummary, import_assets
from wardwatch.inventory.repository import IngestSummary, Inventory
from wardwatch.inventory.serialize import device_to_json, fact_to_json, flow_to_json, history_to_json

__all__ = [
    "ImportSummary",
    "IngestSummary",
    "Inventory",
    "device_to_json",
    "fact_to_json",
    "flow_to_json",
    "history_to_json",
    "import_assets",
]

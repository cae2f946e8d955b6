"""Fixtures of the threat-intelligence tests: an inventory, an alert desk, a real TAXII 2.1 server.

The TAXII server is ``medallion`` (the OASIS reference TAXII 2.1 server) with its memory backend, run as a
subprocess on 127.0.0.1 with HTTP Basic authentication; tests publish STIX objects into its collection
with the TAXII client and then let wardwatch poll it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.inventory import Inventory

COLLECTION = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
USER, PASSWORD = "wardwatch", "taxii-test-secret"


@pytest.fixture
def inventory(database_url: str) -> Iterator[Inventory]:
    """A freshly migrated inventory (SQLite, and PostgreSQL when WARDWATCH_TEST_POSTGRES_URL is set)."""
    inv = Inventory.open(database_url)
    try:
        yield inv
    finally:
        inv.close()


@pytest.fixture
def desk(inventory: Inventory) -> AlertDesk:
    """The alert desk on the inventory's database (no routes)."""
    return AlertDesk(inventory.engine)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TaxiiServer:
    """A running medallion server."""

    url: str  # the discovery URL
    collection_url: str

    def publish(self, objects: list[dict[str, object]]) -> None:
        """Add STIX objects to the collection (TAXII 2.1 §5.5 Add Objects) with the OASIS client."""
        from taxii2client.v21 import Collection

        with Collection(self.collection_url, user=USER, password=PASSWORD) as collection:
            bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
            status = collection.add_objects(json.dumps(bundle))
            assert status.status == "complete" and status.failure_count == 0, status


@pytest.fixture
def taxii_server(tmp_path: Path) -> Iterator[TaxiiServer]:
    """medallion with an empty, writable collection, on a free loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "wardwatch test TAXII", "description": "", "contact": "", "default": f"{base}/api1/",
                       "api_roots": [f"{base}/api1/"]},
        "api1": {"information": {"title": "api1", "description": "", "versions": ["application/taxii+json;version=2.1"],
                                 "max_content_length": 10_000_000},
                 "status": [],
                 "collections": [{"id": COLLECTION, "title": "iomt-indicators", "description": "", "can_read": True,
                                  "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                                  "objects": [], "manifest": []}]},
    }
    (tmp_path / "taxii-data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(tmp_path / "taxii-data.json")},
              "users": {USER: PASSWORD}, "taxii": {"max_page_size": 100}}
    (tmp_path / "taxii-config.json").write_text(json.dumps(config))
    script = ("import sys; from medallion import load_app; "
              "load_app(sys.argv[1]).run(host='127.0.0.1', port=int(sys.argv[2]), threaded=True)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "taxii-config.json"), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("medallion did not start") from None
                time.sleep(0.05)  # waiting for a subprocess to listen, not for timing
        yield TaxiiServer(f"{base}/taxii2/", f"{base}/api1/collections/{COLLECTION}/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""A small hospital for the web tests: real captures analyzed into SQLite, hostile devices, one user per
role (a clinician of the ICU), and departments set by a person on some devices."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import require_shared
from wardwatch.domain.observation import Observation
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import analyze_captures
from wardwatch.web.auth.roles import Role
from wardwatch.web.auth.store import AccessStore

PASSWORD = "correct horse battery staple"
#: Strings an attacker controls on the wire (DHCP hostname, HTTP User-Agent, DICOM AE title).
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "[bold]x[/bold]")
HOSTILE_KINDS = ("dhcp.hostname", "http.user_agent", "dicom.ae_title")
CAPTURES = ("Aria", "D-LinkDayCam", "EdimaxPlug2101W", "HueSwitch", "TP-LinkPlugHS100", "WeMoSwitch2")
CLINICIAN_DEPARTMENT = "ICU"
OTHER_DEPARTMENT = "Radiology"


@dataclass
class World:
    """What the tests know about the prepared database."""

    url: str
    inventory: Inventory
    access: AccessStore
    icu: list[int] = field(default_factory=list)  # devices of the clinician's department
    radiology: list[int] = field(default_factory=list)  # devices outside it
    hostile: list[int] = field(default_factory=list)  # devices named with HOSTILE strings (all in the ICU)

    def username(self, role: Role) -> str:
        """The user name of the test user of ``role``."""
        return f"{role.value}-user"


def captures() -> list[Path]:
    """Real IoT Sentinel captures (one setup per device family)."""
    root = require_shared("iot-sentinel")
    found = [root / name / "Setup-A-1-STA.pcap" for name in CAPTURES]
    return [p for p in found if p.is_file()] or sorted(root.glob("*/Setup-A-1-STA.pcap"))[:6]


def hostile_observations(now: float) -> list[Observation]:
    """One device per hostile string, each announcing it as hostname, User-Agent and AE title."""
    out = []
    for i, payload in enumerate(HOSTILE):
        mac, ip = f"02:00:5e:10:00:{i:02x}", f"10.66.0.{10 + i}"
        out += [Observation(ts=now, sensor="local", kind=kind, value=payload, mac=mac, ip=ip, excerpt=payload)
                for kind in HOSTILE_KINDS]
    return out


def build_world(folder: Path) -> World:
    """Analyze the captures, add hostile devices, departments and users."""
    url = f"sqlite:///{folder / 'web.db'}"
    inventory = Inventory.open(url)
    analyze_captures(captures(), inventory)
    inventory.ingest(hostile_observations(time.time()), source="hostile test devices")
    access = AccessStore(inventory.engine)
    access.create_schema()
    world = World(url, inventory, access)
    ids = [d.id for d in inventory.list_devices() if d.id is not None]
    hostile_macs = {f"02:00:5e:10:00:{i:02x}" for i in range(len(HOSTILE))}
    for device in inventory.list_devices():
        assert device.id is not None
        if device.mac in hostile_macs:
            world.hostile.append(device.id)
    plain = [i for i in ids if i not in world.hostile]
    assert len(plain) >= 4, "the captures should give several devices"
    world.icu = plain[: len(plain) // 2] + world.hostile
    world.radiology = plain[len(plain) // 2:]
    for device_id in world.icu:
        inventory.set_manual(device_id, "department", CLINICIAN_DEPARTMENT, "test-setup")
    for device_id in world.radiology:
        inventory.set_manual(device_id, "department", OTHER_DEPARTMENT, "test-setup")
    for role in Role:
        departments = (CLINICIAN_DEPARTMENT,) if role is Role.clinician else ()
        access.add_user(world.username(role), role, PASSWORD, departments, actor="test-setup")
    return world

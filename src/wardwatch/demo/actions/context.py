"""Shared state of one generation run: the emitter, the RNG, the roles (peers) and address helpers."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from wardwatch.demo.hospital import DOMAIN, HospitalDevice
from wardwatch.demo.wire.session import Emitter, Endpoint, TcpConversation

WINDOWS_TTL = 128
UNIX_TTL = 64


def ttl_of(dev: HospitalDevice) -> int:
    """Initial IP TTL of the device's stack (Windows 128, others 64)."""
    return WINDOWS_TTL if dev.model.os.startswith("Windows") else UNIX_TTL


def public_ip(name: str, pool: tuple[int, int] = (52, 0)) -> bytes:
    """A stable public address for an internet host name (inside ``pool``/11-ish, e.g. a cloud range)."""
    h = hashlib.sha256(name.encode()).digest()
    return bytes((pool[0], pool[1] + (h[0] & 0x1F), h[1], 1 + h[2] % 253))


@dataclass
class Roles:
    """Who serves whom: the peers every device kind talks to."""

    dc: HospitalDevice
    engines: list[HospitalDevice]
    pacs: list[HospitalDevice]
    ris: list[HospitalDevice]
    pump_servers: list[HospitalDevice]
    poct_dms: list[HospitalDevice]
    file_server: HospitalDevice
    central_stations: list[HospitalDevice]
    workstations: list[HospitalDevice]
    modalities: list[HospitalDevice]
    by_key: dict[str, list[HospitalDevice]] = field(default_factory=dict)

    @classmethod
    def of(cls, table: list[HospitalDevice]) -> Roles:
        """Index the table by role."""
        def keys(*k: str) -> list[HospitalDevice]:
            return [d for d in table if d.model.key in k]
        return cls(
            dc=keys("dell_r740_dc")[0], engines=keys("hl7_interface_engine"),
            pacs=keys("philips_vue_pacs", "orthanc_mini_pacs"), ris=keys("carestream_vue_ris"),
            pump_servers=keys("bd_alaris_systems_manager"), poct_dms=keys("poct_data_manager"),
            file_server=keys("file_server_2008")[0],
            central_stations=[d for d in table if d.model.device_class == "central_station"],
            workstations=[d for d in table if d.model.device_class == "workstation"],
            modalities=[d for d in table if "dicom_store" in d.model.behaviours],
            by_key=_by_key(table),
        )

    def streams(self, dev: HospitalDevice) -> tuple[HospitalDevice, HospitalDevice] | None:
        """Where a bedside device streams (its central station or gateway) and who exports its HL7."""
        route = MONITORING_NETWORKS.get(dev.model.vendor)
        if route is None:
            return None
        collectors, exporters = self.by_key.get(route[0]), self.by_key.get(route[1])
        if not collectors or not exporters:
            return None
        return collectors[dev.index % len(collectors)], exporters[dev.index % len(exporters)]


#: Vendor of a bedside device -> (where it streams, who sends its data out as HL7). Philips bedside
#: monitors feed the Patient Information Center iX, which also exports HL7; GE CARESCAPE monitors feed
#: the CARESCAPE Central Station and reach HL7 through the CARESCAPE Gateway; Mindray and Dräger
#: devices reach HL7 through eGateway and the Infinity Gateway.
MONITORING_NETWORKS: dict[str, tuple[str, str]] = {
    "Philips": ("philips_picix", "philips_picix"),
    "GE Healthcare": ("ge_cscs", "ge_carescape_gateway"),
    "Mindray": ("mindray_egateway", "mindray_egateway"),
    "Dräger": ("draeger_infinity_gateway", "draeger_infinity_gateway"),
}


def _by_key(table: list[HospitalDevice]) -> dict[str, list[HospitalDevice]]:
    out: dict[str, list[HospitalDevice]] = {}
    for dev in table:
        out.setdefault(dev.model.key, []).append(dev)
    return out


@dataclass
class Context:
    """Everything an action needs; actions write only through ``em``."""

    em: Emitter
    rng: random.Random
    roles: Roles
    rounds: int
    round_us: int
    c2_host: str = "cdn-telemetry-sync.com"
    c2_ip: bytes = bytes((45, 137, 21, 9))
    extra: dict[str, object] = field(default_factory=dict)

    @staticmethod
    def ep(dev: HospitalDevice) -> Endpoint:
        """The device as seen on its own access VLAN."""
        return Endpoint(dev.mac, dev.ip, dev.vlan, ttl_of(dev))

    @staticmethod
    def peer(client: HospitalDevice, server: HospitalDevice) -> Endpoint:
        """``server`` as seen from ``client``'s VLAN: direct if same VLAN, else behind the gateway."""
        if client.department is server.department:
            return Endpoint(server.mac, server.ip, client.vlan, ttl_of(server))
        return Endpoint(client.department.gateway_mac, server.ip, client.vlan, ttl_of(server) - 1)

    @staticmethod
    def internet(client: HospitalDevice, ip: bytes) -> Endpoint:
        """An internet host as seen from ``client``'s VLAN (behind the gateway, some hops away)."""
        return Endpoint(client.department.gateway_mac, ip, client.vlan, 64 - 14)

    def port(self, dev: HospitalDevice) -> int:
        """An ephemeral source port in the range the device's OS uses (Windows 49152+, else 32768+)."""
        if dev.model.os.startswith("Windows"):
            return 49152 + self.rng.randrange(16383)
        return 32768 + self.rng.randrange(28232)

    def tcp(self, client: HospitalDevice, server: Endpoint, dport: int, *, sport: int | None = None,
            rtt_us: int | None = None) -> TcpConversation:
        """A new TCP conversation from ``client`` to ``server``."""
        return TcpConversation(self.em, self.ep(client), server, sport or self.port(client), dport,
                               self.rng.getrandbits(32), self.rng.getrandbits(32),
                               rtt_us=rtt_us or 150 + self.rng.randrange(600))

    def fqdn(self, dev: HospitalDevice) -> str:
        """The device's name in the hospital's DNS domain."""
        return f"{dev.hostname.lower()}.{DOMAIN}"

    def pick(self, pool: list[HospitalDevice], dev: HospitalDevice) -> HospitalDevice:
        """A stable peer for ``dev`` from ``pool`` (by index)."""
        return pool[dev.index % len(pool)]

"""The hospital model: departments with their VLANs and subnets, and the device table.

Populations are drawn in fixed proportions per department (largest-remainder rounding, so any size
from ~50 to 100 000+ devices keeps the mix), plus a core of servers scaled with the size. Everything
is a pure function of (devices, seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from wardwatch.demo.catalogue import CATALOGUE, DeviceModel, Firmware
from wardwatch.demo.wire.frames import mac_text

DOMAIN = "stmary.example"
FACILITY = "STMARY"


@dataclass(frozen=True, slots=True)
class Department:
    """A department: its access VLAN (802.1Q id), IPv4 /16 and gateway (HSRP virtual MAC)."""

    name: str
    vlan: int
    net: tuple[int, int]  # first two octets of the /16

    @property
    def gateway_ip(self) -> bytes:
        """The router interface (x.y.0.1)."""
        return bytes((*self.net, 0, 1))

    @property
    def gateway_mac(self) -> bytes:
        """The Cisco HSRP v1 virtual MAC 0000.0c07.acXX (RFC 2281 §5.1) of group ``vlan % 256``."""
        return bytes((0x00, 0x00, 0x0C, 0x07, 0xAC, self.vlan & 0xFF))


DEPARTMENTS: dict[str, Department] = {d.name: d for d in (
    Department("radiology", 110, (10, 110)),
    Department("icu", 120, (10, 120)),
    Department("ed", 130, (10, 130)),
    Department("wards", 140, (10, 140)),
    Department("lab", 150, (10, 150)),
    Department("pharmacy", 160, (10, 160)),
    Department("admin", 170, (10, 170)),
    Department("guest_wifi", 900, (172, 20)),
)}

# (department, model key, weight): the mix of the non-core population.
POPULATION: tuple[tuple[str, str, float], ...] = (
    ("radiology", "ge_optima_ct540", 0.25), ("radiology", "philips_brilliance_ict", 0.2),
    ("radiology", "siemens_somatom_go", 0.25), ("radiology", "ge_signa_hdxt", 0.2),
    ("radiology", "siemens_magnetom_vida", 0.2), ("radiology", "philips_epiq7", 0.4),
    ("radiology", "ge_logiq_e10", 0.4), ("radiology", "carestream_drx_evolution", 0.4),
    ("radiology", "ge_discovery_xr656", 0.2), ("radiology", "fujifilm_fcr_capsula", 0.15),
    ("radiology", "philips_isp", 0.5), ("radiology", "siemens_syngo_via", 0.5),
    ("radiology", "radiant_reader", 0.6), ("radiology", "dell_optiplex_w10", 1.5),
    ("icu", "philips_mx450", 4.0), ("icu", "ge_carescape_b650", 3.0), ("icu", "draeger_m540", 2.0),
    ("icu", "hamilton_t1", 1.5), ("icu", "draeger_evita_v800", 1.0), ("icu", "maquet_servo_u", 1.0),
    ("icu", "ge_aisys_cs2", 0.5), ("icu", "draeger_perseus_a500", 0.5),
    ("icu", "bd_alaris_8015", 5.0), ("icu", "baxter_sigma_spectrum", 3.0),
    ("icu", "siemens_dca_vantage", 0.2), ("icu", "radiometer_abl90", 0.3), ("icu", "hp_elitedesk_w11", 1.0),
    ("ed", "philips_mx40", 2.0), ("ed", "mindray_benevision_n15", 1.5), ("ed", "welchallyn_cvsm", 2.0),
    ("ed", "bd_alaris_8015", 2.0), ("ed", "icumedical_plum360", 1.5), ("ed", "sonosite_sii", 0.3),
    ("ed", "abbott_istat", 0.4), ("ed", "dell_optiplex_w10", 1.2), ("ed", "cisco_cp8841", 0.8),
    ("ed", "axis_p3245", 0.3),
    ("wards", "philips_mx40", 3.0), ("wards", "welchallyn_cvsm", 3.0), ("wards", "bbraun_infusomat_space", 5.0),
    ("wards", "bd_alaris_8015", 4.0), ("wards", "smiths_medfusion_4000", 1.5), ("wards", "icumedical_plum360", 2.0),
    ("wards", "roche_accuchek_inform2", 1.0), ("wards", "rauland_responder5", 2.5),
    ("wards", "ascom_telligence", 1.0), ("wards", "dell_optiplex_w10", 3.0), ("wards", "dell_optiplex_w7", 0.6),
    ("wards", "hp_laserjet_m607", 0.6), ("wards", "cisco_cp8841", 2.0), ("wards", "vocera_b3000n", 1.5),
    ("wards", "hid_signo", 0.8),
    ("lab", "sysmex_xn1000", 0.5), ("lab", "roche_cobas_6000", 0.5), ("lab", "bd_viper_lt", 0.3),
    ("lab", "beckman_dxh900", 0.4), ("lab", "dell_optiplex_w10", 1.0), ("lab", "zebra_zd621", 0.4),
    ("lab", "hp_xp_station", 0.15),
    ("pharmacy", "dell_optiplex_w10", 0.8), ("pharmacy", "zebra_zd621", 0.3), ("pharmacy", "lexmark_ms821", 0.2),
    ("admin", "hp_elitedesk_w11", 4.0), ("admin", "dell_optiplex_w10", 3.0), ("admin", "dell_optiplex_w7", 0.8),
    ("admin", "hp_xp_station", 0.2), ("admin", "linux_workstation", 0.6), ("admin", "hp_laserjet_m607", 0.8),
    ("admin", "lexmark_ms821", 0.4), ("admin", "polycom_vvx450", 2.0), ("admin", "axis_p3245", 0.8),
    ("admin", "hikvision_ds2cd", 0.6), ("admin", "lenels2_node", 0.5), ("admin", "hid_signo", 0.8),
    ("guest_wifi", "apple_iphone", 4.0), ("guest_wifi", "android_phone", 3.0),
)


def _core(n: int) -> list[tuple[str, str, int]]:
    """Servers and the minimum set every hospital has (so even 50 devices speak every protocol)."""
    return [
        ("admin", "dell_r740_dc", 1 + n // 20000), ("admin", "hl7_interface_engine", 1 + n // 10000),
        ("admin", "poct_data_manager", 1 + n // 20000), ("admin", "file_server_2008", 1),
        ("admin", "linux_web_server", 1 + n // 20000), ("admin", "cisco_c9300", max(2, n // 250)),
        ("radiology", "philips_vue_pacs", 1 + n // 20000), ("radiology", "orthanc_mini_pacs", 1),
        ("radiology", "carestream_vue_ris", 1 + n // 40000),
        ("pharmacy", "bd_alaris_systems_manager", 1 + n // 20000),
        ("icu", "philips_picix", 1 + n // 3000), ("ed", "ge_cscs", 1 + n // 6000),
        ("admin", "ge_carescape_gateway", 1 + n // 20000), ("admin", "mindray_egateway", 1 + n // 20000),
        ("admin", "draeger_infinity_gateway", 1 + n // 20000),
        ("radiology", "ge_optima_ct540", 1), ("icu", "draeger_m540", 1), ("icu", "bd_alaris_8015", 1),
        ("icu", "siemens_dca_vantage", 1), ("lab", "sysmex_xn1000", 1), ("admin", "dell_optiplex_w7", 1),
        ("wards", "hp_laserjet_m607", 1), ("wards", "cisco_cp8841", 1), ("guest_wifi", "guest_laptop", 1),
        ("radiology", "fujifilm_fcr_capsula", 1), ("admin", "hikvision_ds2cd", 1),
    ]


@dataclass(slots=True)
class HospitalDevice:
    """One device of the demo hospital (the row its ground truth is written from)."""

    index: int
    model: DeviceModel
    department: Department
    mac: bytes
    ip: bytes
    hostname: str
    firmware: Firmware
    serial: str
    ae_title: str | None
    mac_randomized: bool = False
    hygiene: list[str] = field(default_factory=list)
    attacks: list[str] = field(default_factory=list)

    @property
    def vlan(self) -> int:
        """The access VLAN."""
        return self.department.vlan


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    s = sum(weights)
    exact = [total * w / s for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _mac(rng: random.Random, prefix: str, used: set[bytes]) -> bytes:
    nibbles = prefix.replace(":", "")
    while True:
        rest = rng.getrandbits(4 * (12 - len(nibbles)))
        raw = bytes.fromhex(nibbles + f"{rest:0{12 - len(nibbles)}x}")
        if raw not in used:
            used.add(raw)
            return raw


def build(devices: int, seed: int) -> list[HospitalDevice]:
    """The device table for a hospital of ``devices`` devices."""
    if devices < 40:
        raise ValueError("a demo hospital needs at least 40 devices")
    rng = random.Random(f"wardwatch-demo-hospital:{seed}")
    plan = _core(devices)
    rest = devices - sum(c for _, _, c in plan)
    if rest < 0:
        raise ValueError(f"{devices} devices is below the core of {devices - rest}")
    counts = _largest_remainder(rest, [w for _, _, w in POPULATION])
    plan += [(d, k, c) for (d, k, _), c in zip(POPULATION, counts, strict=True) if c]
    used: set[bytes] = set()
    per_model: dict[str, int] = {}
    per_dept: dict[str, int] = {}
    table: list[HospitalDevice] = []
    for dept_name, key, count in plan:
        model = CATALOGUE[key]
        dept = DEPARTMENTS[dept_name]
        for _ in range(count):
            n = per_model[key] = per_model.get(key, 0) + 1
            host_no = per_dept[dept_name] = per_dept.get(dept_name, 0) + 1
            offset = 19 + host_no
            if offset > 65533:
                raise ValueError(f"department {dept_name} exceeds its /16")
            ip = bytes((*dept.net, offset >> 8, offset & 0xFF))
            randomized = model.device_class == "mobile" and rng.random() < 0.6
            if randomized:
                raw = bytearray(rng.getrandbits(48).to_bytes(6, "big"))
                raw[0] = (raw[0] & 0xFC) | 0x02  # locally administered, unicast (IEEE 802 §8.2.2)
                mac = bytes(raw)
                used.add(mac)
            else:
                mac = _mac(rng, rng.choice(model.ouis), used)
            hostname = model.hostname.format(n=n, mac=mac.hex().upper())
            firmware = rng.choice(model.firmware)
            ae = f"{model.ae_prefix}{n:03d}"[:16] if model.ae_prefix else None
            serial = f"{model.key[:3].upper()}{rng.randrange(10**8):08d}"
            table.append(HospitalDevice(0, model, dept, mac, ip, hostname, firmware, serial, ae, randomized))
    rng.shuffle(table)
    # Core servers first keeps peers stable regardless of population shuffling.
    table.sort(key=lambda d: 0 if d.model.dhcp is None else 1)
    for i, dev in enumerate(table):
        dev.index = i
    return table


def describe(dev: HospitalDevice) -> str:
    """A short label for logs (no payloads)."""
    return f"{dev.hostname} {mac_text(dev.mac)} {dev.model.key}"

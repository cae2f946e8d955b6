"""Who is behind an address: flow endpoints resolved to inventory devices (for baselines, replay, rules)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from wardwatch.domain.device import Device

UNCLASSIFIED = "unclassified"


def is_external(ip: str) -> bool:
    """True for globally routable addresses (not RFC 1918/4193, loopback, link-local, multicast)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return bool(address.is_global) and not address.is_multicast


def device_group(device: Device) -> str:
    """The model/class group of a device: its device class, else its model, else ``unclassified``."""
    return device.value("device_class") or device.value("model") or UNCLASSIFIED


@dataclass(frozen=True, slots=True)
class Peer:
    """How one end of a flow is named in a baseline: a device, an external host or an internal subnet."""

    label: str
    kind: str  # device | external | subnet
    device: Device | None = None


class DeviceDirectory:
    """Maps IPs and MACs to devices (IP first: behind a router every packet carries the router's MAC)."""

    def __init__(self, devices: Iterable[Device]) -> None:
        self.devices: list[Device] = list(devices)
        self.by_ip: dict[str, Device] = {}
        self.by_mac: dict[str, Device] = {}
        self.by_key: dict[str, Device] = {}
        self._peers: dict[tuple[str, str | None], Peer] = {}  # memo: the per-flow hot path of detection
        for device in self.devices:
            self.by_key[device.key] = device
            if device.mac:
                self.by_mac[device.mac] = device
            for ip in device.ips:
                current = self.by_ip.get(ip)
                if current is None or (current.mac is None and device.mac is not None):
                    self.by_ip[ip] = device

    def device_for(self, ip: str | None, mac: str | None = None) -> Device | None:
        """The device with address ``ip`` (or, without an IP, MAC ``mac``)."""
        if ip:
            found = self.by_ip.get(ip)
            if found is not None:
                return found
            return None
        return self.by_mac.get(mac) if mac else None

    def peer(self, ip: str, mac: str | None = None) -> Peer:
        """The baseline name of the endpoint ``ip``."""
        key = (ip, None if ip else mac)
        found = self._peers.get(key)
        if found is None:
            if len(self._peers) > 100_000:
                self._peers.clear()
            found = self._peers[key] = self._peer(ip, mac)
        return found

    def _peer(self, ip: str, mac: str | None) -> Peer:
        device = self.device_for(ip, mac)
        if device is not None:
            return Peer(device.key, "device", device)
        if is_external(ip):
            return Peer(f"ip:{ip}", "external")
        return Peer(subnet_of(ip), "subnet")


def subnet_of(ip: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) around ``ip``, as ``net:<prefix>``."""
    address = ipaddress.ip_address(ip)
    length = 24 if address.version == 4 else 64
    return f"net:{ipaddress.ip_network(f'{address}/{length}', strict=False)}"

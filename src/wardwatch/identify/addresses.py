"""Addresses as the resolver keys devices by them: normalised, with group and unset addresses dropped.

Each :class:`AddressFilter` memoises its answers (bounded caches), since a capture repeats the same few
addresses millions of times.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from wardwatch.identify.oui import normalize_mac

#: Most distinct raw MAC / IP strings memoised, and most addresses whose locality is memoised.
_CACHE = 1 << 18
_LOCAL_CACHE = 1 << 16


class AddressFilter:
    """Normalises MAC and IP strings to device keys' form; says which IPs may be devices of their own."""

    def __init__(self, local_networks: Iterable[str] = ()) -> None:
        self._local = tuple(ipaddress.ip_network(n, strict=False) for n in local_networks)
        self._mac_cache: dict[str, str | None] = {}
        self._ip_cache: dict[str, str | None] = {}
        self._local_cache: dict[str, bool] = {}

    def mac(self, raw: str | None) -> str | None:
        """``raw`` as ``aa:bb:cc:dd:ee:ff``; None when empty, malformed, a group address or all zeros."""
        if not raw:
            return None
        if raw in self._mac_cache:
            return self._mac_cache[raw]
        mac = normalize_mac(raw)
        if mac is not None and (int(mac[:2], 16) & 0x01 or mac == "00:00:00:00:00:00"):
            mac = None  # group address (IEEE 802-2014 §8.2.2) or unset: not a device
        if len(self._mac_cache) < _CACHE:
            self._mac_cache[raw] = mac
        return mac

    def ip(self, raw: str | None) -> str | None:
        """``raw`` in canonical text (IPv4-mapped IPv6 as IPv4); None when malformed, multicast,
        unspecified or the IPv4 limited broadcast."""
        if not raw:
            return None
        if raw in self._ip_cache:
            return self._ip_cache[raw]
        ip: str | None
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(raw.strip())
        except ValueError:
            ip = None
        else:
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            broadcast = isinstance(address, ipaddress.IPv4Address) and address.packed == b"\xff\xff\xff\xff"
            ip = None if address.is_multicast or address.is_unspecified or broadcast else str(address)
        if len(self._ip_cache) < _CACHE:
            self._ip_cache[raw] = ip
        return ip

    def is_local(self, ip: str) -> bool:
        """May ``ip`` become an IP-keyed device? With no local networks configured, every address that is
        not globally routable (RFC 1918, RFC 6598, link-local, ULA, loopback …): hosts on the internet are
        peers of the hospital's devices, not devices of its inventory."""
        hit = self._local_cache.get(ip)
        if hit is None:
            address = ipaddress.ip_address(ip)
            hit = any(address in net for net in self._local) if self._local else not address.is_global
            if len(self._local_cache) < _LOCAL_CACHE:
                self._local_cache[ip] = hit
        return hit

"""DHCP (RFC 2131) client messages in the style of each operating system, and the relay's replies.

Parameter request lists (option 55) and vendor classes (option 60) follow what those stacks send
(Windows lists as in the open Fingerbank data; Cisco/Android/udhcpc vendor-class formats).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC_COOKIE = b"\x63\x82\x53\x63"  # RFC 2131 §3
DISCOVER, OFFER, REQUEST, ACK = 1, 2, 3, 5


@dataclass(frozen=True, slots=True)
class DhcpProfile:
    """How one client stack fills its DHCP requests."""

    params: tuple[int, ...]
    vendor_class: str | None = None
    fqdn: bool = False          # option 81 (RFC 4702), Windows
    max_size: int | None = None  # option 57
    client_id: bool = True      # option 61, type 1 + MAC (RFC 2132 §9.14)
    broadcast: bool = False     # BOOTP broadcast flag


PROFILES: dict[str, DhcpProfile] = {
    "win10": DhcpProfile((1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252), "MSFT 5.0", True),
    "win11": DhcpProfile((1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252), "MSFT 5.0", True),
    "win7": DhcpProfile((1, 15, 3, 6, 44, 46, 47, 31, 33, 121, 249, 43), "MSFT 5.0", True),
    "winxp": DhcpProfile((1, 15, 3, 6, 44, 46, 47, 31, 33, 249, 43), "MSFT 5.0", True),
    "linux": DhcpProfile((1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42), None, False, 576),
    "udhcpc": DhcpProfile((1, 3, 6, 12, 15, 28, 42), "udhcp 1.31.1", False, 576, True),
    "vxworks": DhcpProfile((1, 3, 6, 15, 28), None, False, None, False, True),
    "qnx": DhcpProfile((1, 3, 6, 12, 15, 28), None, False, 576),
    "embedded": DhcpProfile((1, 3, 6, 15, 28, 42), None, False, 576, False, True),
    "philips_monitor": DhcpProfile((1, 3, 6, 15, 28, 42, 43), None, False, 576, False, True),
    "hp_printer": DhcpProfile((1, 3, 6, 12, 15, 28, 42, 44, 46, 47, 69, 81, 144), "Hewlett-Packard JetDirect",
                              False, 1500),
    "axis": DhcpProfile((1, 3, 6, 12, 15, 28, 42, 119), None, False, 576),
    "cisco_phone": DhcpProfile((1, 66, 6, 3, 15, 150, 35), "Cisco Systems, Inc. IP Phone CP-8841"),
    "polycom": DhcpProfile((1, 3, 6, 7, 15, 66, 151, 152, 43), "Polycom-VVX450", False, 1500),
    "ios": DhcpProfile((1, 121, 3, 6, 15, 108, 114, 119, 252), None, False, 1500),
    "android": DhcpProfile((1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108), "android-dhcp-14", False, 1500),
}


def _opt(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


def _bootp(op: int, xid: int, mac: bytes, *, ciaddr: bytes = b"\0" * 4, yiaddr: bytes = b"\0" * 4,
           giaddr: bytes = b"\0" * 4, broadcast: bool = False, secs: int = 0) -> bytes:
    # RFC 2131 §2, Figure 1: op htype hlen hops xid secs flags ciaddr yiaddr siaddr giaddr chaddr sname file
    return (struct.pack("!BBBBIHH", op, 1, 6, 0, xid, secs, 0x8000 if broadcast else 0)
            + ciaddr + yiaddr + b"\0" * 4 + giaddr + mac + b"\0" * 10 + b"\0" * 192 + MAGIC_COOKIE)


def client_message(kind: int, profile: DhcpProfile, mac: bytes, xid: int, hostname: str,
                   requested: bytes | None = None, server_id: bytes | None = None, secs: int = 0) -> bytes:
    """A DHCPDISCOVER or DHCPREQUEST from a client in the SELECTING state (RFC 2131 §4.4.1)."""
    opts = _opt(53, bytes((kind,)))
    if profile.client_id:
        opts += _opt(61, b"\x01" + mac)
    if requested is not None:
        opts += _opt(50, requested)
    if server_id is not None:
        opts += _opt(54, server_id)
    if profile.max_size:
        opts += _opt(57, struct.pack("!H", profile.max_size))
    if hostname:
        opts += _opt(12, hostname.encode("ascii", "replace")[:63])
    if profile.fqdn and kind == REQUEST:
        # RFC 4702 §2: flags (S=0 O=0 E=0 N=0), RCODE1, RCODE2, then the name in ASCII form.
        opts += _opt(81, b"\x00\x00\x00" + hostname.encode("ascii", "replace")[:60])
    if profile.vendor_class:
        opts += _opt(60, profile.vendor_class.encode())
    opts += _opt(55, bytes(profile.params))
    return _bootp(1, xid, mac, broadcast=profile.broadcast, secs=secs) + opts + b"\xff"


def server_message(kind: int, mac: bytes, xid: int, yiaddr: bytes, relay: bytes, server_id: bytes,
                   dns: bytes, domain: str, mask: bytes = b"\xff\xff\x00\x00") -> bytes:
    """A DHCPOFFER or DHCPACK as relayed back to the client's segment (RFC 2131 §4.3.1, RFC 1542)."""
    opts = (_opt(53, bytes((kind,))) + _opt(54, server_id) + _opt(51, struct.pack("!I", 86400))
            + _opt(58, struct.pack("!I", 43200)) + _opt(59, struct.pack("!I", 75600))
            + _opt(1, mask) + _opt(3, relay) + _opt(6, dns) + _opt(15, domain.encode())
            + _opt(42, server_id))
    return _bootp(2, xid, mac, yiaddr=yiaddr, giaddr=relay) + opts + b"\xff"

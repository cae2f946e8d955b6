"""Send one DHCPDISCOVER, built by hand, as ``python -m tests.realtime.dhcp_ns IFACE HOSTNAME VENDOR``.

RFC 2131 §2 (BOOTP header: op 1, htype 1, hlen 6, xid, flags with the broadcast bit, chaddr) and
RFC 2132 options 53 (message type 1 = DISCOVER), 12 (host name), 60 (vendor class), 55 (parameter
request list), 255 (end), behind the magic cookie 99.130.83.99. Sent from port 68 to 255.255.255.255:67.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from pathlib import Path


def discover(mac: bytes, hostname: str, vendor: str) -> bytes:
    """The DHCPDISCOVER message."""
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, int.from_bytes(os.urandom(4), "big"), 0, 0x8000,
                         bytes(4), bytes(4), bytes(4), bytes(4), mac.ljust(16, b"\0"), b"", b"")
    options = b"\x63\x82\x53\x63" + bytes([53, 1, 1])
    options += bytes([12, len(hostname)]) + hostname.encode("ascii")
    options += bytes([60, len(vendor)]) + vendor.encode("ascii")
    options += bytes([55, 4, 1, 3, 6, 15, 255])
    return header + options


def main(argv: list[str]) -> int:
    iface, hostname, vendor = argv
    mac = bytes.fromhex(Path(f"/sys/class/net/{iface}/address").read_text().strip().replace(":", ""))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        sock.bind(("0.0.0.0", 68))
        sock.sendto(discover(mac, hostname, vendor), ("255.255.255.255", 67))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

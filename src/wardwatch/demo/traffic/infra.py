"""Infrastructure traffic: DNS (RFC 1035), NTP v4 (RFC 5905) and TLS handshakes (RFC 8446 / 5246)."""

from __future__ import annotations

import hashlib
import struct

from wardwatch.demo.traffic.discovery import dns_name

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01 (RFC 5905 §6)


def dns_query(qid: int, name: str, qtype: int = 1) -> bytes:
    """A recursive DNS query (RD=1) for one name."""
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)


def dns_response(qid: int, name: str, address: bytes, ttl: int = 300) -> bytes:
    """The answer to ``dns_query``: QR, RD, RA set; one A record using a compression pointer (§4.1.4)."""
    question = dns_name(name) + struct.pack("!HH", 1, 1)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + address
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer


ETH_P_ARP = 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2


def arp(op: int, sender_mac: bytes, sender_ip: bytes, target_mac: bytes, target_ip: bytes) -> bytes:
    """An Ethernet/IPv4 ARP packet (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4, op, addresses."""
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sender_mac + sender_ip + target_mac + target_ip


def _ntp_ts(unix_us: int) -> bytes:
    secs, us = divmod(unix_us, 1_000_000)
    return struct.pack("!II", secs + NTP_EPOCH_OFFSET, (us << 32) // 1_000_000)


def ntp_request(unix_us: int) -> bytes:
    """An NTPv4 client-mode packet (LI=0, VN=4, Mode=3) with its transmit timestamp."""
    return struct.pack("!BBbbII4s", 0x23, 0, 6, -20, 0, 0, b"\0" * 4) + b"\0" * 24 + _ntp_ts(unix_us)


def ntp_response(unix_us: int, origin: bytes, ref_id: bytes) -> bytes:
    """An NTPv4 server-mode reply (Mode=4, stratum 3) echoing the client's transmit time as origin."""
    ts = _ntp_ts(unix_us)
    return (struct.pack("!BBbbII4s", 0x24, 3, 6, -23, 0x0000_0A00, 0x0000_1400, ref_id)
            + ts + origin + ts + ts)


def _ext(etype: int, data: bytes) -> bytes:
    return struct.pack("!HH", etype, len(data)) + data


def _rand(*parts: object) -> bytes:
    return hashlib.sha256(":".join(map(str, parts)).encode()).digest()


_SUITES_13 = (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
              0x009C, 0x009D, 0x002F, 0x0035)
_SUITES_LEGACY = (0xC02B, 0xC02F, 0xC00A, 0xC009, 0xC013, 0xC014, 0x0035, 0x002F, 0x000A)


def client_hello(sni: str, seed: object, *, legacy: bool = False) -> bytes:
    """A TLS ClientHello record: TLS 1.3-capable (RFC 8446 §4.1.2), or TLS 1.2-only when ``legacy``.

    Extensions: server_name (RFC 6066 §3), supported_groups, ec_point_formats, signature_algorithms,
    ALPN (RFC 7301) and, for 1.3, supported_versions, psk_key_exchange_modes and an X25519 key_share.
    """
    host = sni.encode()
    exts = _ext(0, struct.pack("!HBH", len(host) + 3, 0, len(host)) + host)
    exts += _ext(10, struct.pack("!H", 6) + struct.pack("!HHH", 0x001D, 0x0017, 0x0018))
    exts += _ext(11, b"\x01\x00")
    sigs = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601) if not legacy else (0x0401, 0x0201)
    exts += _ext(13, struct.pack("!H", 2 * len(sigs)) + struct.pack(f"!{len(sigs)}H", *sigs))
    protos = b"\x02h2\x08http/1.1"
    exts += _ext(16, struct.pack("!H", len(protos)) + protos)
    exts += _ext(23, b"")  # extended_master_secret (RFC 7627)
    if not legacy:
        exts += _ext(43, b"\x04\x03\x04\x03\x03")
        exts += _ext(45, b"\x01\x01")
        key = _rand("ks", seed)
        exts += _ext(51, struct.pack("!HHH", 36, 0x001D, 32) + key)
    suites = _SUITES_LEGACY if legacy else _SUITES_13
    body = (b"\x03\x03" + _rand("cr", seed) + b"\x20" + _rand("sid", seed)
            + struct.pack("!H", 2 * len(suites)) + struct.pack(f"!{len(suites)}H", *suites)
            + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_flight(seed: object, *, legacy: bool = False, encrypted_len: int = 2400) -> bytes:
    """ServerHello, ChangeCipherSpec and the encrypted remainder of the server's flight.

    For TLS 1.3 the rest of the handshake travels as application_data records (RFC 8446 §5.1); for a
    1.2 client this is an abbreviated (resumed) handshake whose Finished is encrypted (RFC 5246 §7.3).
    """
    exts = b"" if legacy else (_ext(43, b"\x03\x04") + _ext(51, struct.pack("!HH", 0x001D, 32) + _rand("sks", seed)))
    suite = 0xC02F if legacy else 0x1301
    body = (b"\x03\x03" + _rand("sr", seed) + b"\x20" + _rand("sid", seed) + struct.pack("!HB", suite, 0)
            + struct.pack("!H", len(exts)) + exts)
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    out = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01"
    rtype = 0x16 if legacy else 0x17
    size = 40 if legacy else encrypted_len
    return out + bytes((rtype,)) + b"\x03\x03" + struct.pack("!H", size) + opaque(size, "enc", seed)


def application_data(size: int, seed: object) -> bytes:
    """One TLS application_data record of ``size`` opaque bytes."""
    return b"\x17\x03\x03" + struct.pack("!H", size) + opaque(size, "app", seed)


def opaque(size: int, *seed: object) -> bytes:
    """Deterministic pseudo-random bytes (ciphertext stand-in)."""
    out = b""
    block = 0
    while len(out) < size:
        out += _rand(*seed, block)
        block += 1
    return out[:size]

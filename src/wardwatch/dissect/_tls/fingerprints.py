"""TLS client/server fingerprints: JA3 and JA3S (salesforce/ja3), JA4 (FoxIO, technical_details/JA4.md).

GREASE values (RFC 8701: 0x0A0A, 0x1A1A ... 0xFAFA) are dropped everywhere, as both specifications ask.
"""

from __future__ import annotations

import hashlib

from wardwatch.dissect._tls.records import EXT_ALPN, EXT_SNI, ClientHello, ServerHello

#: Protocol version → the name wardwatch reports (``tls.version``, ``tls.client_version``).
VERSION_NAMES = {
    0x0002: "SSL 2.0",
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
#: JA4 version codes (JA4.md "TLS and DTLS Version").
JA4_VERSIONS = {
    0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
    0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3",
}


def is_grease(value: int) -> bool:
    """RFC 8701 §2: both bytes equal and of the form 0x?A."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def version_name(version: int) -> str:
    """``TLS 1.2`` style name, ``TLS 1.3 draft 18`` for 0x7f12, or the hex code of an unknown version."""
    if version >> 8 == 0x7F:
        return f"TLS 1.3 draft {version & 0xFF}"
    return VERSION_NAMES.get(version, f"0x{version:04x}")


def client_max_version(hello: ClientHello) -> int:
    """Highest non-GREASE supported_versions entry, else the legacy ClientHello version."""
    versions = [v for v in hello.supported_versions if not is_grease(v)]
    return max(versions) if versions else hello.version


def _dash(values: list[int]) -> str:
    return "-".join(str(v) for v in values)


def ja3_string(hello: ClientHello) -> str:
    """SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats (decimal, dash-joined)."""
    return ",".join([
        str(hello.version),
        _dash([c for c in hello.ciphers if not is_grease(c)]),
        _dash([e for e, _ in hello.extensions if not is_grease(e)]),
        _dash([g for g in hello.groups if not is_grease(g)]),
        _dash(hello.point_formats),
    ])


def ja3s_string(hello: ServerHello) -> str:
    """SSLVersion,Cipher,Extensions of a ServerHello."""
    return f"{hello.version},{hello.cipher},{_dash([e for e, _ in hello.extensions if not is_grease(e)])}"


def md5_hex(text: str) -> str:
    """The JA3 digest: MD5 of the string, lower-case hex (a fingerprint, not a security use)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _sha12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _alpn_code(alpn: list[bytes]) -> str:
    """First and last character of the first ALPN value; hex digits when either is not alphanumeric."""
    if not alpn or not alpn[0]:
        return "00"
    first, last = alpn[0][0], alpn[0][-1]
    if chr(first).isascii() and chr(first).isalnum() and chr(last).isascii() and chr(last).isalnum():
        return chr(first) + chr(last)
    return f"{first:02x}"[0] + f"{last:02x}"[1]


def ja4(hello: ClientHello, protocol: str = "t") -> str:
    """The JA4 client fingerprint ``t13d1516h2_8daaf6152771_e5627efa2ab1`` (JA4.md, "JA4 Algorithm")."""
    ciphers = [c for c in hello.ciphers if not is_grease(c)]
    extensions = [e for e, _ in hello.extensions if not is_grease(e)]
    sig_algs = [s for s in hello.sig_algs if not is_grease(s)]
    version = JA4_VERSIONS.get(client_max_version(hello), "00")
    sni = "d" if EXT_SNI in extensions else "i"
    part_a = f"{protocol}{version}{sni}{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}"
    part_a += _alpn_code(hello.alpn)
    part_b = _sha12(",".join(f"{c:04x}" for c in sorted(ciphers))) if ciphers else "000000000000"
    ext_list = sorted(e for e in extensions if e not in (EXT_SNI, EXT_ALPN))
    if ext_list:
        text = ",".join(f"{e:04x}" for e in ext_list)
        if sig_algs:
            text += "_" + ",".join(f"{s:04x}" for s in sig_algs)
        part_c = _sha12(text)
    else:
        part_c = "000000000000"
    return f"{part_a}_{part_b}_{part_c}"

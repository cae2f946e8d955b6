"""NetBIOS names: first-level encoding (RFC 1001 §14.1, RFC 1002 §4.1) and display as ``NAME<xx>``."""

from __future__ import annotations

from wardwatch.dissect._wire.text import clean
from wardwatch.errors import ParseError

ENCODED_LEN = 32


def decode_first_level(label: bytes) -> bytes:
    """The 16 raw octets of a 32-character encoded label (each half-octet + ``'A'``)."""
    if len(label) != ENCODED_LEN:
        raise ParseError("NetBIOS: encoded name is not 32 characters")
    out = bytearray()
    for i in range(0, ENCODED_LEN, 2):
        hi, lo = label[i] - 0x41, label[i + 1] - 0x41
        if not (0 <= hi < 16 and 0 <= lo < 16):
            raise ParseError("NetBIOS: encoded name has a character outside A..P")
        out.append(hi << 4 | lo)
    return bytes(out)


def split_name(raw: bytes) -> tuple[str, int]:
    """The printable name (15 octets, blank padding removed) and the suffix octet (the 16th)."""
    if len(raw) != 16:
        raise ParseError("NetBIOS: name is not 16 octets")
    name = clean(raw[:15].decode("latin-1").rstrip(" \0"), 15, strip=False)
    return name, raw[15]


def display(name: str, suffix: int) -> str:
    """``NAME<xx>`` with the suffix in lower-case hex, as tools show it (``WORKGROUP<1e>``)."""
    return f"{name}<{suffix:02x}>"

"""A bounded big-endian byte reader: every read is checked, an overrun raises :class:`ParseError`.

Network byte order is big-endian (RFC 1700, "Data Notations"); the datagram protocols and TLS use it.
"""

from __future__ import annotations

from wardwatch.errors import ParseError


class Reader:
    """Reads fields from ``data[pos:end]``; never reads past ``end``."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else min(end, len(data))
        if not 0 <= pos <= self.end:
            raise ParseError("reader window out of range")

    @property
    def remaining(self) -> int:
        """Bytes left before ``end``."""
        return self.end - self.pos

    def need(self, n: int) -> None:
        """Raise ParseError unless ``n`` more bytes are available."""
        if n < 0 or self.pos + n > self.end:
            raise ParseError(f"truncated: need {n} bytes at offset {self.pos}, have {self.end - self.pos}")

    def u8(self) -> int:
        """One unsigned byte."""
        self.need(1)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        """A big-endian unsigned 16-bit integer."""
        self.need(2)
        value = int.from_bytes(self.data[self.pos : self.pos + 2], "big")
        self.pos += 2
        return value

    def u32(self) -> int:
        """A big-endian unsigned 32-bit integer."""
        self.need(4)
        value = int.from_bytes(self.data[self.pos : self.pos + 4], "big")
        self.pos += 4
        return value

    def uint(self, n: int) -> int:
        """A big-endian unsigned integer of ``n`` bytes (TLS ``uint24`` and friends, RFC 8446 §3.3)."""
        return int.from_bytes(self.take(n), "big")

    def vector(self, len_bytes: int) -> bytes:
        """A variable-length vector: a ``len_bytes`` length prefix, then that many bytes (RFC 8446 §3.4)."""
        return self.take(self.uint(len_bytes))

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        self.need(n)
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value

    def skip(self, n: int) -> None:
        """Advance ``n`` bytes."""
        self.need(n)
        self.pos += n

    def rest(self) -> bytes:
        """Everything up to ``end``."""
        value = self.data[self.pos : self.end]
        self.pos = self.end
        return value

"""Open a capture file as one read-only byte buffer (mmap), transparently un-gzipping it.

A gzip-compressed capture (RFC 1952 magic ``1f 8b``) is decompressed in streaming fashion into an
anonymous temporary file that is then memory-mapped, so the rest of the engine always sees one flat
buffer and never holds the whole capture in Python memory.
"""

from __future__ import annotations

import contextlib
import mmap
import tempfile
import zlib
from pathlib import Path
from types import TracebackType
from typing import IO

from wardwatch.errors import CaptureError

GZIP_MAGIC = b"\x1f\x8b"
_COPY_CHUNK = 1 << 20


class CaptureSource:
    """A capture file mapped into memory; use as a context manager.

    ``buf`` is the mmap (read-only), ``size`` its length, ``gzip_truncated`` is true when a compressed
    file ended early or was corrupt (what was decompressed before the damage is kept).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.gzip_truncated = False
        self.compressed = False
        self._file: IO[bytes] | None = None
        self._tmp: IO[bytes] | None = None
        self.buf: mmap.mmap | None = None
        self.size = 0

    def __enter__(self) -> CaptureSource:
        try:
            self._file = self.path.open("rb")
        except OSError as exc:
            raise CaptureError(f"cannot open capture {self.path}: {exc.strerror or exc}") from exc
        head = self._file.read(2)
        target: IO[bytes] = self._file
        if head == GZIP_MAGIC:
            self.compressed = True
            target = self._gunzip()
        target.seek(0, 2)
        self.size = target.tell()
        if self.size == 0:
            self.close()
            raise CaptureError(f"capture {self.path} is empty")
        self.buf = mmap.mmap(target.fileno(), 0, access=mmap.ACCESS_READ)
        return self

    def _gunzip(self) -> IO[bytes]:
        """Stream-decompress every gzip member (RFC 1952 §2.2) into a temporary file."""
        assert self._file is not None
        self._file.seek(0)
        self._tmp = tempfile.TemporaryFile(prefix="wardwatch-capture-")  # noqa: SIM115 - closed in close()
        dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        fed = False  # the current member has consumed input
        try:
            while chunk := self._file.read(_COPY_CHUNK):
                while chunk:
                    fed = True
                    self._tmp.write(dec.decompress(chunk))
                    chunk = b""
                    if dec.eof:  # next member, if any
                        chunk, fed = dec.unused_data, False
                        dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            self._tmp.write(dec.flush())
            self.gzip_truncated = fed and not dec.eof
        except zlib.error:
            # Corrupt member: keep the bytes decompressed so far (counted as truncation).
            self.gzip_truncated = True
        self._tmp.flush()
        return self._tmp

    def close(self) -> None:
        """Unmap and close everything (idempotent)."""
        if self.buf is not None:
            # A numpy view may still reference the map; it is then unmapped when collected.
            with contextlib.suppress(BufferError):
                self.buf.close()
            self.buf = None
        for handle in (self._tmp, self._file):
            if handle is not None:
                handle.close()
        self._tmp = self._file = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

"""Following growing log files (``tail -F``): new complete lines as they are appended.

:class:`Follower` is poll-driven (the sensor loop calls :meth:`Follower.poll`), so it needs no thread and
tests drive it deterministically. It survives rotation (the file replaced: a new inode) and truncation
(the file shorter than the read position), and keeps a partial last line until its newline arrives.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_PENDING = 1 << 20


class Follower:
    """Returns the lines appended to one file since the previous poll."""

    def __init__(self, path: Path, *, from_start: bool = True) -> None:
        self.path = path
        self._inode: int | None = None
        self._offset = 0
        self._pending = b""
        self._from_start = from_start
        self.skipped_lines = 0

    def poll(self) -> list[str]:
        """Complete new lines (decoded as UTF-8 with replacement); [] when nothing new or no file yet."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        if self._inode != stat.st_ino or stat.st_size < self._offset:
            first_open = self._inode is None
            self._inode = stat.st_ino
            self._offset = 0 if (self._from_start or not first_open) else stat.st_size
            self._pending = b""
        if stat.st_size == self._offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(stat.st_size - self._offset)
        self._offset += len(chunk)
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > MAX_PENDING:  # a "line" without end: drop it rather than grow forever
            self._pending = b""
            self.skipped_lines += 1
        return [line.decode("utf-8", "replace") + "\n" for line in lines]

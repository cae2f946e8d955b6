"""The one error hierarchy of wardwatch (ARCHITECTURE.md, Conventions).

Every error that wardwatch raises on purpose derives from :class:`WardwatchError`, so the CLI and the
web layer can turn it into one clear line instead of a traceback.
"""

from __future__ import annotations


class WardwatchError(Exception):
    """Base of every error wardwatch raises on purpose."""


class ParseError(WardwatchError):
    """Bytes, a record or a file could not be parsed. Raised by dissectors and readers."""


class CaptureError(ParseError):
    """A capture file is unreadable as a whole (wrong magic, empty, unsupported link type)."""


class ImportRejectedError(WardwatchError):
    """An import (CMMS CSV/XLSX, advisory, SBOM, feed) was rejected; nothing was stored."""


class ConfigError(WardwatchError):
    """Settings are missing or contradictory."""


class NotFoundError(WardwatchError):
    """A device, finding or other object asked for by key does not exist."""

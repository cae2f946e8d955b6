"""The built-in demo advisory set: fictional CSAF 2.0 advisories written by us for the demo's devices.

Demo data only (see :mod:`.catalogue`); ``wardwatch demo`` imports them into the knowledge base.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def advisory_files() -> list[Path]:
    """The CSAF JSON files of the demo advisory set, sorted."""
    return sorted(HERE.glob("ww-demo-*.json"))


__all__ = ["advisory_files"]

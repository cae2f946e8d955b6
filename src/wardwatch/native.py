"""The optional C extensions of the hot path, found in one place.

Each extension (built by ``pip install`` where a C compiler is available; ``setup.py`` lists them) has a
Python reference with the same functions and results, which runs where the extension is missing; tests
compare the two. ``WARDWATCH_PURE_PYTHON_KERNELS=1`` forces the references everywhere (tests, debugging).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

#: Every hot-path extension, by dotted module name (the names of ``setup.py``).
EXTENSIONS = ("wardwatch.capture._kernels", "wardwatch.capture._decode", "wardwatch.capture._flowkernel",
              "wardwatch.capture._reassembly", "wardwatch.capture._naming", "wardwatch.dissect._wire._dnsfast",
              "wardwatch._fastobj")


def extension(name: str) -> ModuleType | None:
    """The C extension ``name`` (dotted), or ``None`` when it is not built or the references are forced."""
    if os.environ.get("WARDWATCH_PURE_PYTHON_KERNELS"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def missing_extensions() -> list[str]:
    """The hot-path extensions not in use (not built, or the references forced): the portable path runs."""
    return [name for name in EXTENSIONS if extension(name) is None]

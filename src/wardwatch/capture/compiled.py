"""Which implementation of the capture hot path's loops runs: the C extensions, or their Python references.

Each C extension (built by ``pip install`` where a compiler is available; see ``setup.py``) has a Python
reference with the same functions and results, and tests run both on the same input. Callers take the
functions from the module that owns them (``kernels``, ``decode``, ``flowpath``), which asks
:func:`compiled_module` here. ``WARDWATCH_PURE_PYTHON_KERNELS=1`` forces the references everywhere.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from wardwatch.capture import kernels as reference


def compiled_module(name: str) -> ModuleType | None:
    """The C extension ``name`` (dotted), or ``None`` when it is not built or the references are forced."""
    if os.environ.get("WARDWATCH_PURE_PYTHON_KERNELS"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_walks = compiled_module("wardwatch.capture._kernels")
#: True when the compiled record walks are in use.
COMPILED = _walks is not None

pcap_walk = reference.pcap_walk if _walks is None else _walks.pcap_walk
pcapng_epb_walk = reference.pcapng_epb_walk if _walks is None else _walks.pcapng_epb_walk


def missing_extensions() -> list[str]:
    """The hot-path C extensions not in use (not built, or the references forced): the portable path runs."""
    names = ("wardwatch.capture._kernels", "wardwatch.capture._decode", "wardwatch.capture._flowkernel",
             "wardwatch.dissect._wire._dnsfast", "wardwatch._fastobj")
    return [name for name in names if compiled_module(name) is None]

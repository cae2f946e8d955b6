"""The capture hot path's sequential loops: compiled when the C extension was built, else the reference.

``wardwatch.capture._kernels`` (C, built at install time where a compiler is available) and
:mod:`wardwatch.capture.kernels` (plain Python, the readable reference) define the same functions with
the same results; tests run both on the same input. Callers import the functions from here.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from wardwatch.capture import kernels as reference


def _choose() -> ModuleType:
    if os.environ.get("WARDWATCH_PURE_PYTHON_KERNELS"):  # tests and debugging: force the reference
        return reference
    try:
        return importlib.import_module("wardwatch.capture._kernels")
    except ImportError:
        return reference


IMPLEMENTATION = _choose()
#: True when the compiled kernels are in use.
COMPILED = IMPLEMENTATION is not reference

if COMPILED:
    pcap_walk = IMPLEMENTATION.pcap_walk
    pcapng_epb_walk = IMPLEMENTATION.pcapng_epb_walk
else:
    import numpy as np

    def pcap_walk(buf: Any, pos: int, stop: int, limit: int, big: bool, out: Any) -> tuple[int, int, bool]:
        """The reference walk over a uint8 view of ``buf``."""
        return reference.pcap_walk(np.frombuffer(buf, dtype=np.uint8), pos, stop, limit, big, out)

    pcapng_epb_walk = reference.pcapng_epb_walk

"""Garbage-collector pacing while a batch of packets is processed.

CPython's cyclic collector runs a young-generation pass every 700 container allocations (the default
``gc.get_threshold()[0]``). Dissecting a capture allocates millions of small, acyclic objects (contexts,
observations, tuples) while the heap holds hundreds of thousands of long-lived ones (facts, flow slots);
at the default pace the collector re-scans survivors so often that it costs about as much as the
dissection itself. Within :func:`relaxed_gc` the first threshold is raised so young passes are about 70
times rarer; nothing is disabled (cycles are still collected) and the previous thresholds come back on
exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Container allocations between two young-generation passes while packets are processed.
YOUNG_THRESHOLD = 50_000


@contextmanager
def relaxed_gc(young: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Raise the collector's first threshold to ``young`` (never lower it) for the ``with`` block."""
    old = gc.get_threshold()
    if old[0] == 0 or old[0] >= young:  # disabled by the caller, or already relaxed (nested use)
        yield
        return
    gc.set_threshold(young, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)

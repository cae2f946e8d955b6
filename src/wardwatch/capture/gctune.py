"""Garbage-collector pacing while packets are processed.

CPython's cyclic collector runs a young-generation pass every 700 container allocations and re-scans
survivors in the older generations every tenth young pass. Dissecting a capture allocates millions of
small, acyclic objects (contexts, observations, tuples) while the heap keeps hundreds of thousands of
long-lived ones (facts, flow records): at CPython's pace the collector re-scans the kept ones so often
that it costs about as much as the dissection itself. Three tools, from the widest to the narrowest:

* :func:`relaxed_gc` raises the first threshold so young passes are about 70 times rarer (nothing is
  disabled, the previous thresholds come back on exit): for work between batches.
* :func:`paused_gc` wraps one batch of packets: no collection inside it, then a single young pass over
  what the batch allocated, which collects any cycle made inside the batch. Memory held by cycles stays
  bounded by one batch.
* :func:`settled_survivors` wraps a whole file run: after each batch's young pass, the survivors of the
  batch are moved out of the collector's sight (``gc.freeze``) so later passes never scan them again, and
  everything goes back under normal collection when the run ends (``gc.unfreeze``). Each kept object is
  scanned once instead of at every older-generation pass (measured on the reference capture: 1.75 s of
  collector time in an 11 s run at CPython's pace, about 0.1 s this way).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Container allocations between two young-generation passes while packets are processed.
YOUNG_THRESHOLD = 50_000

_settling = 0  # depth of settled_survivors scopes


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


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the ``with`` block (one batch); one young pass after it.

    Inside :func:`settled_survivors`, the batch's survivors are then frozen (see the module docstring).
    """
    if not gc.isenabled():  # disabled by the caller, or already paused (nested use)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if _settling:
            gc.freeze()
        gc.enable()


@contextmanager
def settled_survivors() -> Iterator[None]:
    """For a whole file run: survivors of each batch are scanned once, then left alone until the end."""
    global _settling
    _settling += 1
    try:
        yield
    finally:
        _settling -= 1
        if not _settling:
            gc.unfreeze()

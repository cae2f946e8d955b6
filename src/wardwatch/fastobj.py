"""Fast construction of the small frozen, slotted dataclasses the hot path makes by the hundred thousand.

A frozen dataclass's ``__init__`` routes every field through ``object.__setattr__`` (about 2 µs for an
Observation's eleven fields); filling a fresh instance through its slots' member descriptors gives the
same object for less. :func:`build` does that in C (``wardwatch._fastobj``) where the extension was built,
else with :func:`reference_build`, which is the same loop in Python. :func:`slot_descriptors` returns the
descriptors of a class in a given field order, or ``None`` when the class is not laid out that way (then
callers construct normally: slower, never wrong).

The C ``build`` also takes an instance whose values are all atomic (None, bool, int, float, str) off the
cyclic collector's lists, as CPython does for such tuples and dicts: such an object cannot be in a
reference cycle, and a run keeps hundreds of thousands of them (facts, contexts, flow records) that the
collector would otherwise scan. The Python reference cannot do that; it builds the same objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from wardwatch.native import extension

__all__ = ["COMPILED", "build", "reference_build", "slot_descriptors"]


def slot_descriptors(cls: type, names: Sequence[str]) -> tuple[Any, ...] | None:
    """The slot descriptors of dataclass ``cls`` for exactly its fields ``names`` (in that order), or None."""
    if not dataclasses.is_dataclass(cls) or tuple(f.name for f in dataclasses.fields(cls)) != tuple(names):
        return None
    found = tuple(cls.__dict__.get(name) for name in names)
    if any(type(d).__name__ != "member_descriptor" for d in found):
        return None
    return found


def reference_build(cls: type, descriptors: tuple[Any, ...], *values: Any) -> Any:
    """A new ``cls`` instance with each descriptor set to its value (the C ``build``'s reference)."""
    obj: Any = object.__new__(cls)
    for descriptor, value in zip(descriptors, values, strict=True):
        descriptor.__set__(obj, value)
    return obj


_compiled = extension("wardwatch._fastobj")
#: True when the C constructor is in use.
COMPILED = _compiled is not None
build: Callable[..., Any] = reference_build if _compiled is None else _compiled.build

"""The hot-path constructor of slotted dataclasses: the C build and its Python reference make the objects
the dataclass constructor makes, and refuse what they cannot build."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import os
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wardwatch.dissect.interface import FlowContext
from wardwatch.domain.flow import FlowRecord
from wardwatch.domain.observation import Observation
from wardwatch.fastobj import build, reference_build, slot_descriptors

BUILDERS = [reference_build]
with contextlib.suppress(ImportError):  # the C extension is optional; the reference is always tested
    BUILDERS.append(importlib.import_module("wardwatch._fastobj").build)

texts = st.one_of(st.none(), st.text(max_size=12))


@pytest.mark.parametrize("builder", BUILDERS)
@given(ts=st.floats(allow_nan=False), kind=st.text(max_size=12), value=st.text(max_size=40), mac=texts,
       confidence=st.one_of(st.none(), st.floats(0, 1)), count=st.integers(1, 10**6))
def test_an_observation_built_equals_the_constructed_one(builder: object, ts: float, kind: str, value: str,
                                                        mac: str | None, confidence: float | None,
                                                        count: int) -> None:
    names = [f.name for f in dataclasses.fields(Observation)]
    descriptors = slot_descriptors(Observation, names)
    assert descriptors is not None
    values = (ts, "s", kind, value, mac, "10.0.0.1", "x", confidence, None, "packet", count)
    built = builder(Observation, descriptors, *values)  # type: ignore[operator]
    assert built == Observation(*values) and type(built) is Observation
    assert hash(built) == hash(Observation(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.value = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("cls", [FlowContext, FlowRecord])
def test_every_hot_path_class_is_built_field_for_field(builder: object, cls: type) -> None:
    fields = dataclasses.fields(cls)
    descriptors = slot_descriptors(cls, [f.name for f in fields])
    assert descriptors is not None
    values = [f"v{n}" for n in range(len(fields))]
    built = builder(cls, descriptors, *values)  # type: ignore[operator]
    assert [getattr(built, f.name) for f in fields] == values


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_wrong_number_of_values_is_refused(builder: object) -> None:
    descriptors = slot_descriptors(FlowRecord, [f.name for f in dataclasses.fields(FlowRecord)])
    assert descriptors is not None
    with pytest.raises((TypeError, ValueError)):
        builder(FlowRecord, descriptors, "only one")  # type: ignore[operator]


def test_descriptors_only_for_the_exact_slotted_layout() -> None:
    names = [f.name for f in dataclasses.fields(Observation)]
    assert slot_descriptors(Observation, names[::-1]) is None  # another order
    assert slot_descriptors(Observation, names[:-1]) is None  # a field missing

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    assert slot_descriptors(NoSlots, ["a"]) is None


def test_the_compiled_builder_is_used_when_built() -> None:
    forced = bool(os.environ.get("WARDWATCH_PURE_PYTHON_KERNELS"))
    assert (build is not reference_build) == (len(BUILDERS) == 2 and not forced)


class _Holder:
    ctx: object = None


@pytest.mark.skipif(len(BUILDERS) < 2, reason="the C extension was not built (no compiler)")
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)))
def test_the_compiled_builder_leaves_atomic_instances_to_reference_counting(value: object) -> None:
    """Only instances holding nothing but atomic values leave the cyclic collector's sight; one holding a
    container stays tracked, so a cycle through it is still collected."""
    compiled = BUILDERS[1]
    descriptors = slot_descriptors(FlowContext, [f.name for f in dataclasses.fields(FlowContext)])
    assert descriptors is not None
    values = [1.0, "s", 17, None, None, "10.0.0.1", "10.0.0.2", 5353, 53, None, False]
    values[3] = value
    assert not gc.is_tracked(compiled(FlowContext, descriptors, *values))  # type: ignore[operator]
    holder = _Holder()
    values[3] = holder
    ctx = compiled(FlowContext, descriptors, *values)  # type: ignore[operator]
    assert gc.is_tracked(ctx)
    holder.ctx = ctx  # a cycle: ctx -> holder -> ctx
    ref = weakref.ref(holder)
    del ctx, holder, values
    gc.collect()
    assert ref() is None

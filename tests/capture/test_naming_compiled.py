"""The compiled per-flow naming (``capture._naming``) against its Python reference (``flowstate.Namer``).

Both paths name the same flows: generated flow columns (v4-mapped and real IPv6 addresses with the edge
cases of the RFC 5952 text form, unknown and extreme MACs, L2 frames, both originators, VLAN -1/0/4095),
any id order (repeats, strided and negative ids), endpoints already known, flows that already have a
slot; and every shared capture through the whole engine. Endpoints, slots and flow records must be equal,
value and type. The address and MAC caches stay bounded; malformed arguments are refused.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.capture.test_delivery import Batched, OneByOne, mixed_capture
from tests.conftest import require_shared
from wardwatch.capture import CaptureConfig, flowstate, process_capture
from wardwatch.capture.flowstate import FlowColumns, Namer, ip_text
from wardwatch.capture.sink import Endpoints, FlowSlot
from wardwatch.domain.flow import FlowRecord
from wardwatch.fastobj import build

C = pytest.importorskip("wardwatch.capture._naming")

U64 = 2**64 - 1
V4 = 0xFFFF << 32


def v4(text: str) -> tuple[int, int]:
    """Address halves of an IPv4 address stored v4-mapped."""
    return 0, V4 | int(ipaddress.IPv4Address(text))


def v6(text: str) -> tuple[int, int]:
    value = int(ipaddress.IPv6Address(text))
    return value >> 64, value & U64


EDGE_ADDRESSES = [
    v6("::"), v6("::1"), v6("::ffff:0:0"), v6("::ffff:255.255.255.255"), v6("::1.2.3.4"), v6("::0.0.0.2"),
    v6("::ffff:1:2"), v6("0:0:0:0:1:ffff:1.2.3.4"), v6("::fffe:1.2.3.4"), v6("64:ff9b::192.0.2.33"),
    v6("fe80::1"), v6("2001:db8::"), v6("2001:db8:0:0:1:0:0:1"), v6("2001:0:0:1::1"), v6("1::"),
    v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), v6("2001:db8::ffff:0:0"), v6("1:0:0:0:0:0:0:ffff"),
    v4("0.0.0.0"), v4("10.0.0.1"), v4("255.255.255.255"), (1, V4 | 1), (0, 0xFFFE << 32), (0, 0x1FFFF << 32),
]

addresses = st.one_of(
    st.sampled_from(EDGE_ADDRESSES),
    st.integers(0, 2**32 - 1).map(lambda a: (0, V4 | a)),  # v4-mapped
    st.tuples(st.integers(0, U64), st.integers(0, U64)),  # any IPv6
    # IPv6 with runs of zero groups (where RFC 5952 §4.2 compression choices differ)
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x2001, 0xDB8]), min_size=8, max_size=8).map(
        lambda g: (int.from_bytes(b"".join(x.to_bytes(2, "big") for x in g[:4]), "big"),
                   int.from_bytes(b"".join(x.to_bytes(2, "big") for x in g[4:]), "big"))),
)
macs = st.one_of(st.sampled_from([-1, -2, 0, 1, 2**48 - 1, 0x001122AABBCC]), st.integers(0, 2**48 - 1))


@st.composite
def flow(draw: st.DrawFn) -> dict[str, Any]:
    a, b = draw(addresses), draw(addresses)
    return {
        "a_hi": a[0], "a_lo": a[1], "b_hi": b[0], "b_lo": b[1],
        "a_port": draw(st.sampled_from([0, 53, 80, 65535]) | st.integers(0, 65535)),
        "b_port": draw(st.sampled_from([0, 443, 0x88CC, 0x0806]) | st.integers(0, 65535)),
        "mac_a": draw(macs), "mac_b": draw(macs),
        "orig_a": draw(st.booleans()), "l2": draw(st.booleans()),
        "proto": draw(st.sampled_from([0, 1, 6, 17, 58, 132, 255])),
        "vlan": draw(st.sampled_from([-1, 0, 1, 4095])),
        "pk": (draw(st.integers(0, 2**40)), draw(st.sampled_from([0, 1, 7]) | st.integers(0, 2**40))),
        "by": (draw(st.integers(0, 2**50)), draw(st.integers(0, 2**50))),
        "first": draw(st.floats(0, 2e9, allow_nan=False)), "last": draw(st.floats(0, 2e9, allow_nan=False)),
        "answered": draw(st.booleans()),
    }


def columns(flows: list[dict[str, Any]], cap: int | None = None) -> FlowColumns:
    """Flow columns holding ``flows`` (rows 0..n-1) in ``cap`` rows."""
    fc = FlowColumns(cap=max(cap or 0, len(flows), 1))
    fc.allocate(len(flows))
    for i, f in enumerate(flows):
        for name, value in f.items():
            fc.col[name][i] = value
    return fc


def typed(value: Any) -> Any:
    """A value with the types of its parts (True == 1 and 1.0 == 1, yet they are different results)."""
    if isinstance(value, tuple | list):
        return type(value), [typed(v) for v in value]
    if isinstance(value, FlowRecord):
        return type(value), [typed(getattr(value, f.name)) for f in dataclasses.fields(value)]
    return type(value), value


def both() -> tuple[Namer, Namer]:
    return Namer(compiled=False), Namer(compiled=True)


def check_endpoints(fc: FlowColumns, ids: Any, ref: Namer, comp: Namer) -> list[Endpoints]:
    expected = ref.endpoints(fc, ids)
    got = comp.endpoints(fc, ids)
    assert typed(got) == typed(expected)
    return expected


def check_records(fc: FlowColumns, ids: Any, ref: Namer, comp: Namer, known: dict[int, Endpoints] | None) -> None:
    expected = ref.records(fc, ids, "sensor-1", known)
    got = comp.records(fc, ids, "sensor-1", known)
    assert typed(got) == typed(expected)


def slot_view(slots: dict[int, FlowSlot]) -> list[Any]:
    return [(f, typed(s.ends), typed(s.first), s.sensor, s.state, s.skips, s.asked) for f, s in slots.items()]


# -- generated columns -------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(flows=st.lists(flow(), min_size=1, max_size=40), data=st.data())
def test_generated_flows_are_named_alike(flows: list[dict[str, Any]], data: st.DataObject) -> None:
    fc = columns(flows, cap=len(flows) + data.draw(st.integers(0, 5)))
    n = len(flows)
    ref, comp = both()
    ids = np.asarray(data.draw(st.lists(st.integers(-n, n - 1), max_size=60)), dtype=np.int64)
    ends = check_endpoints(fc, ids, ref, comp)
    for e in ends:  # the reference is the C library's text form
        if e[0] is not None:
            assert e[0] == (socket.inet_ntop(socket.AF_INET6, ipaddress.IPv6Address(e[0]).packed)
                            if ":" in e[0] else str(ipaddress.IPv4Address(e[0])))
    check_endpoints(fc, ids[::-1], ref, comp)  # strided views
    check_endpoints(fc, ids[::2], ref, comp)
    # records: nothing known, some known (by the other namer, as slots hold them), all known
    unique = np.unique(ids % n)
    check_records(fc, unique, ref, comp, None)
    check_records(fc, unique, ref, comp, {})
    some = data.draw(st.sets(st.sampled_from(range(n)), max_size=n))
    known = dict(zip(sorted(some), Namer(compiled=False).endpoints(fc, np.asarray(sorted(some), dtype=np.int64)),
                     strict=True))
    check_records(fc, unique, ref, comp, known)
    check_records(fc, ids, ref, comp, known)
    # slots: some flows have one already (kept as they are), the others get one, in id order
    before = {f: FlowSlot(("x", "y", 1, 2, None, None, 6, None), 1.0, "old") for f in sorted(some)}
    slots_ref, slots_comp = dict(before), dict(before)
    ref.make_slots(fc, ids % n, "sensor-1", slots_ref)  # any order, repeats
    comp.make_slots(fc, ids % n, "sensor-1", slots_comp)
    assert slot_view(slots_comp) == slot_view(slots_ref)
    assert list(slots_comp)[len(before):] == sorted(set((ids % n).tolist()) - some)
    assert all(slots_comp[f] is before[f] for f in before)
    assert all(type(s) is FlowSlot for s in slots_comp.values())


def test_edge_addresses_and_macs() -> None:
    flows = []
    for i, (a, b) in enumerate(zip(EDGE_ADDRESSES, EDGE_ADDRESSES[1:] + EDGE_ADDRESSES[:1], strict=True)):
        flows.append({"a_hi": a[0], "a_lo": a[1], "b_hi": b[0], "b_lo": b[1], "a_port": i, "b_port": 1000 + i,
                      "mac_a": [-1, 0, 2**48 - 1, 0x0A0B0C0D0E0F][i % 4], "mac_b": -1, "orig_a": i % 3 != 0,
                      "l2": i % 5 == 0, "proto": [6, 17, 1][i % 3], "vlan": [-1, 0, 4095][i % 3],
                      "pk": (i, i % 2), "by": (i * 100, i * 10), "first": 1.5 * i, "last": 2.5 * i,
                      "answered": i % 4 == 0})
    fc = columns(flows)
    ids = np.arange(len(flows), dtype=np.int64)
    ref, comp = both()
    ends = check_endpoints(fc, ids, ref, comp)
    check_records(fc, ids, ref, comp, None)
    texts = {e[k] for e in ends for k in (0, 1) if e[k] is not None}
    # ::ffff:0:0/96 is how IPv4 is stored (RFC 4291 §2.5.5.2): its addresses read as IPv4
    assert {"::", "::1", "0.0.0.0", "255.255.255.255", "::1.2.3.4", "::2", "fe80::1", "2001:db8::",
            "2001:db8::1:0:0:1", "2001:0:0:1::1", "1::", "0.1.0.2", "::1:ffff:102:304", "::fffe:0:0"} <= texts
    assert {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "0a:0b:0c:0d:0e:0f"} <= {e[4] for e in ends}
    assert ends[0][:3] == (None, None, 0) and ends[0][6] == 0  # an L2 frame


def test_ip_text_is_the_reference() -> None:
    for hi, lo in EDGE_ADDRESSES:
        fc = columns([{"a_hi": hi, "a_lo": lo, "orig_a": True}])
        assert Namer(compiled=True).endpoints(fc, np.zeros(1, dtype=np.int64))[0][0] == ip_text(hi, lo)


def test_caches_stay_bounded_and_texts_stay_equal() -> None:
    n = (1 << 18) + 1000
    fc = FlowColumns(cap=n)
    fc.allocate(n)
    k = np.arange(n, dtype=np.uint64)
    fc.col["a_hi"][:] = 0
    fc.col["a_lo"][:] = np.uint64(V4) | k
    fc.col["b_hi"][:] = np.uint64(0x20010DB8 << 32)
    fc.col["b_lo"][:] = k * np.uint64(7919)
    fc.col["mac_a"][:] = k.astype(np.int64)
    fc.col["mac_b"][:] = -1
    ids = np.arange(n, dtype=np.int64)
    ref, comp = both()
    assert comp.endpoints(fc, ids) == ref.endpoints(fc, ids)
    ips, mac_count = comp._texts.sizes()
    assert 0 < ips <= (1 << 18) + 1 and 0 < mac_count <= (1 << 18) + 1
    assert len(ref._ips) <= (1 << 18) + 1 and len(ref._macs) <= (1 << 18) + 1
    again = ids[::-997]  # some cached, some named afresh
    assert comp.endpoints(fc, again) == ref.endpoints(fc, again)


def test_texts_are_shared_between_flows() -> None:
    fc = columns([{"a_hi": 0, "a_lo": V4 | 1, "b_hi": 1, "b_lo": 2, "mac_a": 5, "mac_b": 6}] * 3)
    ends = Namer(compiled=True).endpoints(fc, np.arange(3, dtype=np.int64))
    assert ends[0][0] is ends[2][0] and ends[0][1] is ends[1][1] and ends[0][4] is ends[2][4]


# -- argument checks ---------------------------------------------------------------------------------------


def test_ids_out_of_bounds_raise_on_both_paths() -> None:
    fc = columns([{"a_hi": 0, "a_lo": V4 | 1}], cap=4)
    for namer in both():
        for bad in ([4], [-5], [2**62], [0, 1, 4] * 20):
            with pytest.raises(IndexError):
                namer.endpoints(fc, np.asarray(bad, dtype=np.int64))
            with pytest.raises(IndexError):
                namer.records(fc, np.asarray(bad, dtype=np.int64), "s")
        for bad in ([4], [-1], [2**62], [-2**63], [0, 1, 4] * 20, [3, -1] * 20):
            slots = {4: FlowSlot(("x", "y", 1, 2, None, None, 6, None), 1.0, "old"), -1: None}
            with pytest.raises(IndexError):  # slots take flow ids only (rows of the columns)
                namer.make_slots(fc, np.asarray(bad, dtype=np.int64), "s", slots)  # type: ignore[arg-type]
            assert len(slots) == 2


@pytest.mark.parametrize("rows", [1, 63, 64, 65, 200])
def test_many_slots_come_in_id_order(rows: int) -> None:
    fc = columns([{"a_hi": 0, "a_lo": V4 | i, "b_hi": 1, "b_lo": i, "first": i / 3} for i in range(rows)])
    rng = np.random.default_rng(rows)
    ids = rng.integers(0, rows, size=3 * rows + 40)
    ids[-1] = rows - 1
    for step in (1, -1, 3):
        slots_ref: dict[int, FlowSlot] = {}
        slots_comp: dict[int, FlowSlot] = {}
        Namer(compiled=False).make_slots(fc, ids[::step], "s", slots_ref)
        Namer(compiled=True).make_slots(fc, ids[::step], "s", slots_comp)
        assert slot_view(slots_comp) == slot_view(slots_ref)
        assert list(slots_comp) == sorted(set(ids[::step].tolist()))


def test_macs_past_48_bits_raise_on_both_paths() -> None:
    fc = columns([{"mac_a": 2**48, "orig_a": True}])
    for namer in both():
        with pytest.raises(OverflowError):
            namer.endpoints(fc, np.zeros(1, dtype=np.int64))


def test_malformed_arguments_are_refused() -> None:
    fc = columns([{"a_hi": 0, "a_lo": V4 | 1}] * 4)
    ids = np.arange(4, dtype=np.int64)
    texts = Namer(compiled=True)._texts

    def with_column(name: str, value: Any) -> dict[str, Any]:
        col = dict(fc.col)
        col[name] = value
        return col

    bad_columns = [
        with_column("a_hi", fc.col["a_hi"].astype(np.int64)),  # signed where unsigned
        with_column("a_port", fc.col["a_port"].astype(np.int32)),  # 32-bit
        with_column("vlan", fc.col["vlan"].astype(np.float64)),
        with_column("l2", fc.col["l2"].astype(np.uint8)),  # not bool
        with_column("b_lo", np.zeros(8, dtype=np.uint64)[::2]),  # not contiguous
        with_column("mac_b", fc.col["mac_b"][:-1]),  # fewer rows
        with_column("proto", fc.col["proto"].reshape(-1, 1)),  # 2-D
        with_column("pk", fc.col["pk"][:, :1].copy()),  # one direction
        with_column("by", fc.col["by"].reshape(-1)),  # flat
        with_column("first", b"\0" * 8 * fc.cap),  # bytes: unsigned char elements
        with_column("orig_a", [True] * fc.cap),  # no buffer
    ]
    for col in bad_columns:
        with pytest.raises((TypeError, ValueError)):
            texts.records(col, ids, "s", None, build, FlowRecord, flowstate._RECORD_DESCRIPTORS)
    col = dict(fc.col)
    del col["answered"]
    with pytest.raises(KeyError):
        texts.records(col, ids, "s", None, build, FlowRecord, flowstate._RECORD_DESCRIPTORS)
    texts.endpoints(col, ids)  # endpoints does not read it
    for bad_ids in (ids.astype(np.int32), ids.astype(np.float64), ids.reshape(2, 2), np.int64(1), [0, 1]):
        with pytest.raises(TypeError):
            texts.endpoints(fc.col, bad_ids)
    with pytest.raises(TypeError):
        texts.endpoints(list(fc.col.values()), ids)
    with pytest.raises(TypeError):
        texts.endpoints(fc.col)
    with pytest.raises(TypeError):
        texts.make_slots(fc.col, ids, "s", FlowSlot, [])
    with pytest.raises(TypeError):
        texts.records(fc.col, ids, "s", [], build, FlowRecord, flowstate._RECORD_DESCRIPTORS)
    with pytest.raises((TypeError, ValueError)):  # build refuses a wrong descriptor tuple
        texts.records(fc.col, ids, "s", None, build, FlowRecord, ())
    assert texts.endpoints(fc.col, ids[:0]) == []
    assert texts.records(fc.col, ids[:0], "s", None, build, FlowRecord, ()) == []


def test_errors_in_called_code_propagate() -> None:
    fc = columns([{"a_hi": 0, "a_lo": V4 | 1}] * 2)
    ids = np.arange(2, dtype=np.int64)

    class Broken(FlowSlot):
        def __init__(self, ends: Endpoints, first: float, sensor: str) -> None:
            raise RuntimeError("slot")

    slots: dict[int, FlowSlot] = {}
    with pytest.raises(RuntimeError):
        Namer(compiled=True)._texts.make_slots(fc.col, ids, "s", Broken, slots)
    assert slots == {}
    known: dict[int, Any] = {0: ("a", "b", 1)}  # too short: the reference fails on e[6]
    for namer in both():
        with pytest.raises(IndexError):
            namer.records(fc, ids, "s", known)


# -- the whole engine --------------------------------------------------------------------------------------


def engine(path: Path, compiled: bool, sink: OneByOne, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    with monkeypatch.context() as m:
        m.setattr(flowstate, "_naming", C if compiled else None)
        result = process_capture(path, sink, config=CaptureConfig(tcp_budget=256))
    return typed(sink.events), typed(result.flows)


def same_engine(path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    ref = engine(path, False, OneByOne(), monkeypatch)
    assert engine(path, True, OneByOne(), monkeypatch) == ref, path
    assert engine(path, True, Batched(), monkeypatch) == engine(path, False, Batched(), monkeypatch), path
    return len(ref[1][1])


def test_every_shared_capture_gives_identical_records(monkeypatch: pytest.MonkeyPatch) -> None:
    root = require_shared()
    captures = sorted(p for p in root.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap") and p.is_file())
    assert captures
    assert sum(same_engine(path, monkeypatch) for path in captures) > 1000


def test_the_delivery_capture_gives_identical_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.capture.builders import pcap

    path = tmp_path / "mixed.pcap"
    path.write_bytes(pcap([(100.0 + i * 0.01, f) for i, f in enumerate(mixed_capture())]))
    assert same_engine(path, monkeypatch) > 0

"""Dissector registry: plans (content first, port second), pre-filters, counting without running."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.dissect.registry import Registry
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError


def ctx(sport: int = 40000, dport: int = 53) -> FlowContext:
    return FlowContext(1.0, "t", 17, None, None, "10.0.0.1", "10.0.0.2", sport, dport)


class Fake:
    """A datagram dissector that recognises payloads starting with its ``magic``."""

    shape: ClassVar[InputShape] = InputShape.DATAGRAM

    def __init__(self, name: str, magic: bytes, ports: frozenset[int], *, refuse: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.magic = magic
        self.ports = ports  # type: ignore[misc]
        self.refuse = refuse
        self.calls = 0

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        return data.startswith(self.magic)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        self.calls += 1
        if self.refuse:
            raise ParseError("no")
        yield ctx.observation(f"{self.name}.seen", client.decode())


class Filtered(Fake):
    """With a ``prefilter``: payloads starting with ``skip`` yield nothing."""

    def __init__(self, *args: object, hook: Callable[[FlowContext], object] | None = None, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.hook = hook

    def prefilter(self, ctx: FlowContext) -> object:
        if self.hook is not None:
            return self.hook(ctx)
        return lambda data: not data.startswith(b"skip")


def test_port_dissector_that_recognises_the_bytes_wins_and_settles() -> None:
    dns, other = Fake("dns", b"D", frozenset({53})), Fake("other", b"D", frozenset())
    reg = Registry([dns, other])
    plan = reg.plan(InputShape.DATAGRAM, b"D1", ctx())
    assert plan.dissectors == (dns,) and plan.settled
    assert reg.plan(InputShape.DATAGRAM, b"D2", ctx()) is plan  # one shared object per choice


def test_content_on_any_port_then_port_fallback_unsettled() -> None:
    dns, other = Fake("dns", b"D", frozenset({53})), Fake("other", b"O", frozenset())
    reg = Registry([dns, other])
    by_content = reg.plan(InputShape.DATAGRAM, b"O1", ctx())
    assert by_content.dissectors == (other,) and by_content.settled
    fallback = reg.plan(InputShape.DATAGRAM, b"??", ctx())
    assert fallback.dissectors == (dns,) and not fallback.settled
    assert reg.select(InputShape.DATAGRAM, b"??", ctx(dport=9)) == []


def test_run_counts_and_reports_refusals() -> None:
    good, bad = Fake("good", b"X", frozenset({53})), Fake("bad", b"X", frozenset({53}), refuse=True)
    reg = Registry([bad, good])
    plan = reg.plan(InputShape.DATAGRAM, b"X1", ctx())
    app, found, refused = reg.run(plan, ctx(), b"X1")
    assert app == "good" and [o.value for o in found] == ["X1"] and refused == (0,)
    reg.recount(plan, refused)
    assert reg.stats.parsed == {"good": 2} and reg.stats.errors == {"bad": 2}
    single = Registry([bad])
    assert single.run(single.plan(InputShape.DATAGRAM, b"X", ctx()), ctx(), b"X") == (None, [], (0,))


def test_prefilter_needs_every_dissector_to_have_one() -> None:
    filtered = Filtered("f", b"A", frozenset({53}))
    reg = Registry([filtered])
    plan = reg.plan(InputShape.DATAGRAM, b"A", ctx())
    wants = reg.prefilter(plan, ctx())
    assert wants is not None and wants(b"A1") and not wants(b"skip")
    reg.count_quiet(plan)
    assert reg.stats.parsed == {"f": 1} and filtered.calls == 0
    both = Registry([filtered, Fake("plain", b"A", frozenset({53}))])
    assert both.prefilter(both.plan(InputShape.DATAGRAM, b"A", ctx()), ctx()) is None


def test_prefilter_of_two_wants_what_either_wants_and_none_or_raise_disables() -> None:
    one = Filtered("one", b"A", frozenset({53}))
    two = Filtered("two", b"A", frozenset({53}), hook=lambda c: (lambda data: data == b"skip-two"))
    reg = Registry([one, two])
    wants = reg.prefilter(reg.plan(InputShape.DATAGRAM, b"A", ctx()), ctx())
    assert wants is not None and wants(b"skip-two") and wants(b"A") and not wants(b"skip-one")
    off = Filtered("off", b"A", frozenset({53}), hook=lambda c: None)
    assert Registry([off]).prefilter(Registry([off]).plan(InputShape.DATAGRAM, b"A", ctx()), ctx()) is None

    def boom(c: FlowContext) -> object:
        raise RuntimeError("bug")

    broken = Filtered("broken", b"A", frozenset({53}), hook=boom)
    reg2 = Registry([broken])
    assert reg2.prefilter(reg2.plan(InputShape.DATAGRAM, b"A", ctx()), ctx()) is None


class Laned(Fake):
    """With a ``datagram_lane`` that reads like ``dissect`` (or a hook that raises)."""

    def __init__(self, *args: object, broken: bool = False, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.broken = broken

    def datagram_lane(self, base: FlowContext) -> Callable[[bytes, float, bool], list[Observation]]:
        if self.broken:
            raise RuntimeError("buggy hook")

        def lane(data: bytes, ts: float, truncated: bool) -> list[Observation]:
            if data.startswith(b"bad"):
                raise ParseError("no")
            return [FlowContext(ts, base.sensor, base.proto, base.src_mac, base.dst_mac, base.src_ip, base.dst_ip,
                                base.src_port, base.dst_port, base.vlan, truncated).observation(
                "laned.seen", data.decode())]

        return lane


def test_lane_runs_with_the_counts_of_run_and_only_for_one_dissector_plans() -> None:
    laned = Laned("laned", b"L", frozenset({53}))
    reg = Registry([laned])
    plan = reg.plan(InputShape.DATAGRAM, b"L1", ctx())
    lane = reg.lane(plan, ctx())
    assert lane is not None
    app, found, refused = reg.run_lane(plan, lane, b"L1", 7.0, False)
    assert app == "laned" and refused == () and [(o.value, o.ts) for o in found] == [("L1", 7.0)]
    assert reg.run_lane(plan, lane, b"bad", 8.0, False) == (None, [], (0,))
    assert reg.stats.parsed == {"laned": 1} and reg.stats.errors == {"laned": 1}
    two = Registry([laned, Fake("other", b"L", frozenset({53}))])
    assert two.lane(two.plan(InputShape.DATAGRAM, b"L", ctx()), ctx()) is None
    plain = Registry([Fake("plain", b"L", frozenset({53}))])
    assert plain.lane(plain.plan(InputShape.DATAGRAM, b"L", ctx()), ctx()) is None


def test_a_lane_hook_that_raises_only_costs_the_lane() -> None:
    broken = Laned("laned", b"L", frozenset({53}), broken=True)
    reg = Registry([broken])
    assert reg.lane(reg.plan(InputShape.DATAGRAM, b"L", ctx()), ctx()) is None


def test_ephemeral_ports_share_one_cached_port_choice() -> None:
    reg = Registry([Fake("dns", b"D", frozenset({53}))])
    for sport in range(40000, 40100):
        reg.plan(InputShape.DATAGRAM, b"D", ctx(sport=sport))
    assert len(reg._candidates) == 1

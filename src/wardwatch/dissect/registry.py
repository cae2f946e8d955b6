"""Dissector registry: built-ins and plugins through the ``wardwatch.dissectors`` entry point group.

Selection follows ARCHITECTURE.md: content signature first (every dissector of the right shape is asked
:meth:`Dissector.detect`), well-known port second. Built-in dissectors register through the same entry
points as outside plugins (pyproject.toml), so a plugin is a first-class citizen.

On the hot path the choice is made once per flow direction (:meth:`Registry.plan`, kept by the caller)
rather than for every datagram: a choice made by a content signature holds for the rest of that
direction; a choice that fell back to the port (or found nothing) is made again for the next bytes.

Optional extension of the :class:`~wardwatch.dissect.interface.Dissector` protocol: a datagram or frame
dissector may have ``prefilter(ctx) -> Callable[[bytes], bool] | None``. Asked once per flow direction
(``ctx`` at any time), it returns ``None`` (every payload is worth dissecting) or a cheap predicate over
the payload bytes that is false only when ``dissect(ctx, payload, b"")`` would yield nothing and raise
nothing, whatever ``ctx.ts`` and ``ctx.truncated`` are. The caller then skips such payloads without
building a context for them and counts them as parsed (:meth:`Registry.count_quiet`). A predicate that
is a :class:`~wardwatch.dissect.interface.ByteTest` (data, not code) may also be applied by the capture
engine to whole batches (see ``capture/sink.py``, skip rules).

A second optional extension, for datagram dissectors that see floods of small messages (DNS queries):
``datagram_lane(ctx) -> Callable[[bytes, float, bool], list[Observation]] | None``. Asked once per flow
direction (``ctx`` at any time), it returns ``None`` or a function ``lane(payload, ts, truncated)`` that
returns exactly ``list(dissect(ctx at time ts with that truncation flag, payload, b""))`` and raises
:class:`ParseError` exactly when ``dissect`` would, without needing a context per datagram. The caller
runs a one-dissector plan through :meth:`Registry.run_lane` when its dissector offers a lane.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from wardwatch.dissect.interface import Dissector, FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "wardwatch.dissectors"
_FIRST = (0,)


@dataclass
class DissectStats:
    """Counters a run keeps: what each dissector parsed and how often it refused bytes."""

    parsed: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def count(self, table: dict[str, int], name: str) -> None:
        """Add one to ``table[name]``."""
        table[name] = table.get(name, 0) + 1


@dataclass(frozen=True, slots=True)
class Plan:
    """The dissectors chosen for one flow direction.

    ``settled`` is true when a content signature chose them: later bytes of the same direction go to the
    same dissectors without asking again.
    """

    dissectors: tuple[Dissector, ...]
    settled: bool


class _PortChoice:
    """The dissectors of one port pair, the plans their detect results lead to, and the port fallback."""

    __slots__ = ("dissectors", "fallback", "plans")

    def __init__(self, dissectors: tuple[Dissector, ...], fallback: Plan) -> None:
        self.dissectors = dissectors
        self.fallback = fallback
        self.plans: dict[int, Plan] = {}


#: A payload predicate from the dissectors' ``prefilter`` hooks: false = nothing to find in these bytes.
Wants = Callable[[bytes], bool]


#: A dissector's ``datagram_lane``: (payload, ts, truncated) -> the Observations ``dissect`` would yield.
Lane = Callable[[bytes, float, bool], list[Observation]]


class Registry:
    """The set of dissectors available to a run, indexed by input shape and port."""

    def __init__(self, dissectors: Iterable[Dissector]) -> None:
        self.dissectors: list[Dissector] = list(dissectors)
        self._by_shape: dict[InputShape, list[Dissector]] = {shape: [] for shape in InputShape}
        self._by_port: dict[tuple[InputShape, int], list[Dissector]] = {}
        for dissector in self.dissectors:
            self._by_shape[dissector.shape].append(dissector)
            for port in dissector.ports:
                self._by_port.setdefault((dissector.shape, port), []).append(dissector)
        self.stats = DissectStats()
        self._candidates: dict[tuple[InputShape, int, int], _PortChoice] = {}
        self._ports = frozenset(port for _shape, port in self._by_port)
        self._plans: dict[tuple[bool, tuple[int, ...]], Plan] = {}

    @classmethod
    def from_entry_points(cls, names: Iterable[str] | None = None) -> Registry:
        """Load every registered dissector (or only ``names``). A plugin that fails to load is logged."""
        wanted = set(names) if names is not None else None
        found: list[Dissector] = []
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if wanted is not None and ep.name not in wanted:
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not stop the sensor
                log.error("dissector plugin %s failed to load: %s", ep.name, exc)
                continue
            found.append(obj)
        return cls(found)

    def by_name(self, name: str) -> Dissector | None:
        """The dissector called ``name``, if loaded."""
        return next((d for d in self.dissectors if d.name == name), None)

    def select(self, shape: InputShape, data: bytes, ctx: FlowContext) -> list[Dissector]:
        """Dissectors for these bytes: content signatures decide, ports only order the asking.

        The dissectors of the flow's well-known ports are asked first, and when one recognises the bytes
        the others are not asked (on the hot path most datagrams are DNS on port 53: one ``detect`` call
        instead of twenty). Otherwise every dissector of the shape is asked (DICOM on any port, HL7 on
        any port ...); when none recognises the content, the port's dissectors get the bytes anyway.
        """
        return list(self.plan(shape, data, ctx).dissectors)

    def plan(self, shape: InputShape, data: bytes, ctx: FlowContext) -> Plan:
        """:meth:`select` as a :class:`Plan` a caller may keep for the rest of the flow direction."""
        ports = self._port_candidates(shape, ctx)
        by_port = ports.dissectors
        if by_port:
            mask = 0
            for bit, dissector in enumerate(by_port):
                if _safe_detect(dissector, data, ctx):
                    mask |= 1 << bit
            if mask:
                plan = ports.plans.get(mask)
                if plan is None:
                    plan = ports.plans[mask] = self._plan(
                        [d for bit, d in enumerate(by_port) if mask >> bit & 1], True)
                return plan
        matched = [d for d in self._by_shape[shape] if d not in by_port and _safe_detect(d, data, ctx)]
        if matched:
            return self._plan(matched, True)
        return ports.fallback

    def _plan(self, dissectors: list[Dissector], settled: bool) -> Plan:
        """One shared Plan object per choice (flows that pick the same dissectors share it)."""
        key = (settled, tuple([id(d) for d in dissectors]))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(tuple(dissectors), settled)
        return plan

    @staticmethod
    def prefilter(plan: Plan, ctx: FlowContext) -> Wants | None:
        """The payload predicate of a flow direction: ``None`` unless every dissector of the plan has a
        ``prefilter`` that returns one (then a payload is worth dissecting when any of them wants it).

        The caller treats a predicate that raises as "dissect" (a buggy pre-filter must not hide bytes).
        """
        found: list[Wants] = []
        for dissector in plan.dissectors:
            hook = getattr(dissector, "prefilter", None)
            if not callable(hook):
                return None
            try:
                wants = hook(ctx)
            except Exception:  # a buggy hook only costs its speed-up
                log.exception("%s.prefilter raised", dissector.name)
                return None
            if wants is None:
                return None
            found.append(wants)
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        return lambda data: any(w(data) for w in found)

    @staticmethod
    def lane(plan: Plan, ctx: FlowContext) -> Lane | None:
        """The datagram lane of a one-dissector plan for one flow direction, or ``None``."""
        if len(plan.dissectors) != 1:
            return None
        dissector = plan.dissectors[0]
        hook = getattr(dissector, "datagram_lane", None)
        if not callable(hook):
            return None
        try:
            found: Lane | None = hook(ctx)
        except Exception:  # a buggy hook only costs its speed-up
            log.exception("%s.datagram_lane raised", dissector.name)
            return None
        return found

    def run_lane(
        self, plan: Plan, lane: Lane, payload: bytes, ts: float, truncated: bool,
    ) -> tuple[str | None, list[Observation], tuple[int, ...]]:
        """:meth:`run` of a one-dissector plan through its lane (same counts, same results)."""
        stats = self.stats
        name = plan.dissectors[0].name
        try:
            found = lane(payload, ts, truncated)
        except ParseError as exc:
            stats.errors[name] = stats.errors.get(name, 0) + 1
            log.debug("%s refused a flow: %s", name, exc)
            return None, [], _FIRST
        stats.parsed[name] = stats.parsed.get(name, 0) + 1
        return name, found, ()

    def count_quiet(self, plan: Plan, payloads: int = 1) -> None:
        """Count payloads the prefilter skipped as parsed by each dissector of the plan, as :meth:`run`
        would have (such a payload yields nothing and raises nothing)."""
        parsed = self.stats.parsed
        for dissector in plan.dissectors:
            parsed[dissector.name] = parsed.get(dissector.name, 0) + payloads

    def _port_candidates(self, shape: InputShape, ctx: FlowContext) -> _PortChoice:
        # Ports no dissector listens on are all alike: keyed as -1, the cache stays as small as the set of
        # well-known ports (clients use ephemeral ports, one per flow).
        known = self._ports
        dst = ctx.dst_port if ctx.dst_port in known else -1
        src = ctx.src_port if ctx.src_port in known else -1
        key = (shape, dst, src)
        cached = self._candidates.get(key)
        if cached is None:
            found = tuple(dict.fromkeys([*self._by_port.get((shape, dst), ()),
                                         *self._by_port.get((shape, src), ())]))
            cached = self._candidates[key] = _PortChoice(found, self._plan(list(found), False))
        return cached

    def dissect(
        self, shape: InputShape, ctx: FlowContext, client: bytes, server: bytes = b""
    ) -> tuple[str | None, list[Observation]]:
        """Run the selected dissectors; returns the app label of the first that parsed, and the facts.

        A :class:`ParseError` is counted per dissector and the next candidate is tried; it never
        propagates, because one hostile flow must not stop the capture.
        """
        app, out, _refused = self.run(self.plan(shape, client or server, ctx), ctx, client, server)
        return app, out

    def run(
        self, plan: Plan, ctx: FlowContext, client: bytes, server: bytes = b""
    ) -> tuple[str | None, list[Observation], tuple[int, ...]]:
        """:meth:`dissect` with a plan already made; also returns which of the plan's dissectors refused."""
        stats = self.stats
        dissectors = plan.dissectors
        if len(dissectors) == 1:  # the common case, without the bookkeeping of several
            dissector = dissectors[0]
            try:
                found = list(dissector.dissect(ctx, client, server))
            except ParseError as exc:
                stats.count(stats.errors, dissector.name)
                log.debug("%s refused a flow: %s", dissector.name, exc)
                return None, [], _FIRST
            stats.count(stats.parsed, dissector.name)
            return dissector.name, found, ()
        app: str | None = None
        out: list[Observation] = []
        refused: tuple[int, ...] = ()
        for n, dissector in enumerate(dissectors):
            try:
                found = list(dissector.dissect(ctx, client, server))
            except ParseError as exc:
                stats.count(stats.errors, dissector.name)
                refused += (n,)
                log.debug("%s refused a flow: %s", dissector.name, exc)
                continue
            stats.count(stats.parsed, dissector.name)
            app = app or dissector.name
            out.extend(found)
        return app, out, refused

    def recount(self, plan: Plan, refused: tuple[int, ...]) -> None:
        """Count a run again without running it (the caller replays a result it kept)."""
        stats = self.stats
        for n, dissector in enumerate(plan.dissectors):
            stats.count(stats.errors if n in refused else stats.parsed, dissector.name)


def _safe_detect(dissector: Dissector, data: bytes, ctx: FlowContext) -> bool:
    try:
        return bool(dissector.detect(data, ctx))
    except Exception:  # detect must not raise; a buggy one is treated as "no"
        log.exception("%s.detect raised", dissector.name)
        return False


def iter_kinds(observations: Iterable[Observation], kind: str) -> Iterator[str]:
    """Values of the observations of one kind (a helper for tests and rules)."""
    return (o.value for o in observations if o.kind == kind)

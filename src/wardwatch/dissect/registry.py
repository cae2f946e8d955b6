"""Dissector registry: built-ins and plugins through the ``wardwatch.dissectors`` entry point group.

Selection follows ARCHITECTURE.md: content signature first (every dissector of the right shape is asked
:meth:`Dissector.detect`), well-known port second. Built-in dissectors register through the same entry
points as outside plugins (pyproject.toml), so a plugin is a first-class citizen.

On the hot path the choice is made once per flow direction (:meth:`Registry.plan`, kept by the caller)
rather than for every datagram: a choice made by a content signature holds for the rest of that
direction; a choice that fell back to the port (or found nothing) is made again for the next bytes.

Optional extension of the :class:`~wardwatch.dissect.interface.Dissector` protocol: a dissector may have
``wants(data, ctx) -> bool``, a cheap look at the first bytes that returns ``False`` only when
``dissect(ctx, data, b"")`` would yield nothing and raise nothing, whatever ``ctx.ts`` and
``ctx.truncated`` are. The registry then skips building a context for such bytes and counts them as
parsed (see :meth:`Registry.quiet`).
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
    same dissectors without asking again. ``wants`` holds the dissectors' ``wants`` pre-filters when every
    one of them has one (else it is empty).
    """

    dissectors: tuple[Dissector, ...]
    settled: bool
    wants: tuple[Callable[[bytes, FlowContext], bool], ...] = ()


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
        self._candidates: dict[tuple[InputShape, int, int], list[Dissector]] = {}

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
        by_port = self._port_candidates(shape, ctx)
        if by_port:
            matched = [d for d in by_port if _safe_detect(d, data, ctx)]
            if matched:
                return _plan(matched, True)
        matched = [d for d in self._by_shape[shape] if d not in by_port and _safe_detect(d, data, ctx)]
        if matched:
            return _plan(matched, True)
        return _plan(by_port, False)

    def quiet(self, plan: Plan, data: bytes, ctx: FlowContext) -> bool:
        """True when every dissector of the plan says (``wants``) these bytes would yield nothing.

        Such bytes are counted as parsed by each of them, as :meth:`run` would; ``ctx`` may carry any time.
        """
        if not plan.wants:
            return False
        for wants in plan.wants:
            try:
                if wants(data, ctx):
                    return False
            except Exception:  # a buggy pre-filter only costs its speed-up
                log.exception("a dissector's wants() raised")
                return False
        parsed = self.stats.parsed
        for dissector in plan.dissectors:
            parsed[dissector.name] = parsed.get(dissector.name, 0) + 1
        return True

    def _port_candidates(self, shape: InputShape, ctx: FlowContext) -> list[Dissector]:
        key = (shape, ctx.dst_port, ctx.src_port)
        cached = self._candidates.get(key)
        if cached is None:
            cached = list(dict.fromkeys([*self._by_port.get((shape, ctx.dst_port), ()),
                                         *self._by_port.get((shape, ctx.src_port), ())]))
            if len(self._candidates) < 1 << 16:
                self._candidates[key] = cached
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
        app: str | None = None
        out: list[Observation] = []
        refused: tuple[int, ...] = ()
        stats = self.stats
        for n, dissector in enumerate(plan.dissectors):
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


def _plan(dissectors: list[Dissector], settled: bool) -> Plan:
    wants = [getattr(d, "wants", None) for d in dissectors]
    usable = bool(wants) and all(callable(w) for w in wants)
    return Plan(tuple(dissectors), settled, tuple(w for w in wants if callable(w)) if usable else ())


def _safe_detect(dissector: Dissector, data: bytes, ctx: FlowContext) -> bool:
    try:
        return bool(dissector.detect(data, ctx))
    except Exception:  # detect must not raise; a buggy one is treated as "no"
        log.exception("%s.detect raised", dissector.name)
        return False


def iter_kinds(observations: Iterable[Observation], kind: str) -> Iterator[str]:
    """Values of the observations of one kind (a helper for tests and rules)."""
    return (o.value for o in observations if o.kind == kind)

"""Dissector registry: built-ins and plugins through the ``wardwatch.dissectors`` entry point group.

Selection follows ARCHITECTURE.md: content signature first (every dissector of the right shape is asked
:meth:`Dissector.detect`), well-known port second. Built-in dissectors register through the same entry
points as outside plugins (pyproject.toml), so a plugin is a first-class citizen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
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
        by_port = self._port_candidates(shape, ctx)
        if by_port:
            matched = [d for d in by_port if _safe_detect(d, data, ctx)]
            if matched:
                return matched
        matched = [d for d in self._by_shape[shape] if d not in by_port and _safe_detect(d, data, ctx)]
        return matched or list(by_port)

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
        app: str | None = None
        out: list[Observation] = []
        for dissector in self.select(shape, client or server, ctx):
            try:
                found = list(dissector.dissect(ctx, client, server))
            except ParseError as exc:
                self.stats.count(self.stats.errors, dissector.name)
                log.debug("%s refused a flow: %s", dissector.name, exc)
                continue
            self.stats.count(self.stats.parsed, dissector.name)
            app = app or dissector.name
            out.extend(found)
        return app, out


def _safe_detect(dissector: Dissector, data: bytes, ctx: FlowContext) -> bool:
    try:
        return bool(dissector.detect(data, ctx))
    except Exception:  # detect must not raise; a buggy one is treated as "no"
        log.exception("%s.detect raised", dissector.name)
        return False


def iter_kinds(observations: Iterable[Observation], kind: str) -> Iterator[str]:
    """Values of the observations of one kind (a helper for tests and rules)."""
    return (o.value for o in observations if o.kind == kind)

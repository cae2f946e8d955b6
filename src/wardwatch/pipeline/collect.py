"""The sink between the capture engine and the dissectors: payloads in, Observations out.

The capture engine (``capture/``) hands each UDP datagram, each TCP connection's first bytes and each
non-IP frame to a :class:`~wardwatch.capture.sink.PayloadSink`. :class:`DissectingSink` is the sink of
the sensor loop: it asks the dissector registry for the right dissectors, keeps the Observations they
yield and remembers which application protocol each flow spoke, so FlowRecords can carry an ``app``.
"""

from __future__ import annotations

from dataclasses import replace

from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.dissect.registry import Registry
from wardwatch.domain.observation import Observation

FlowKey = tuple[int, str | None, int, str | None, int]


def flow_key(ctx: FlowContext) -> FlowKey:
    """The originator-ordered 5-tuple of a flow context (for labelling FlowRecords)."""
    return (ctx.proto, ctx.src_ip, ctx.src_port, ctx.dst_ip, ctx.dst_port)


class DissectingSink:
    """Runs the registry's dissectors on everything the capture engine hands over."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        # The same fact seen again (a client asking for the same name all day) is kept once, with the
        # time it was last seen: memory grows with distinct facts, not with packets.
        self._facts: dict[tuple[str | None, str | None, str, str], list[Observation | float]] = {}
        self.apps: dict[FlowKey, str] = {}

    @property
    def observations(self) -> list[Observation]:
        """The distinct facts gathered so far (first sighting, then the last one when later)."""
        out: list[Observation] = []
        for first, last_ts in self._facts.values():
            assert isinstance(first, Observation) and isinstance(last_ts, float)
            out.append(first)
            if last_ts > first.ts:
                out.append(replace(first, ts=last_ts))
        return out

    def _keep(self, ctx: FlowContext, app: str | None, found: list[Observation]) -> None:
        if app is not None:
            self.apps.setdefault(flow_key(ctx), app)
        facts = self._facts
        for obs in found:
            key = obs.identity()
            entry = facts.get(key)
            if entry is None:
                facts[key] = [obs, float(obs.ts)]
            elif obs.ts > entry[1]:  # type: ignore[operator]
                entry[1] = float(obs.ts)

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """One UDP payload."""
        app, found = self.registry.dissect(InputShape.DATAGRAM, ctx, payload)
        self._keep(ctx, app, found)

    def stream(self, ctx: FlowContext, client: bytes, server: bytes) -> None:
        """The first bytes of both directions of one TCP connection."""
        if not client and not server:
            return
        app, found = self.registry.dissect(InputShape.STREAM, ctx, client, server)
        self._keep(ctx, app, found)

    def frame(self, ctx: FlowContext, frame: bytes) -> None:
        """One non-IP link-layer frame."""
        app, found = self.registry.dissect(InputShape.FRAME, ctx, frame)
        self._keep(ctx, app, found)

    def drain(self) -> list[Observation]:
        """Hand over the Observations gathered so far and forget them (bounded memory on long runs)."""
        out = self.observations
        self._facts = {}
        return out

"""The sink between the capture engine and the dissectors: payloads in, Observations out.

The capture engine (``capture/``) hands each UDP datagram, each TCP connection's first bytes and each
non-IP frame to a :class:`~wardwatch.capture.sink.PayloadSink`. :class:`DissectingSink` is the sink of
the sensor loop: it asks the dissector registry for the right dissectors, keeps the Observations they
yield and remembers which application protocol each flow spoke, so FlowRecords can carry an ``app``.

Datagrams arrive in batches (:meth:`DissectingSink.datagram_batch`). Per flow direction the sink keeps
the registry's :class:`~wardwatch.dissect.registry.Plan` (the dissector is chosen once, not per
datagram), asks the dissectors' ``wants`` pre-filters before a context is even built, and remembers the
result of the last payloads it dissected: a byte-identical payload later in the same direction (an mDNS
announcement or SSDP NOTIFY repeated every few seconds) is not dissected again, its facts are only
marked as seen at the new time. The facts kept are exactly those of dissecting every datagram.
"""

from __future__ import annotations

from dataclasses import replace

from wardwatch.capture.sink import DatagramBatch
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.dissect.registry import Plan, Registry
from wardwatch.domain.observation import Observation

FlowKey = tuple[int, str | None, int, str | None, int]
FactKey = tuple[str | None, str | None, str, str]
#: Payload results remembered per flow direction (the key is the payload's hash, length and cut flag).
MEMO_SIZE = 16
_DATAGRAM = InputShape.DATAGRAM


def flow_key(ctx: FlowContext) -> FlowKey:
    """The originator-ordered 5-tuple of a flow context (for labelling FlowRecords)."""
    return (ctx.proto, ctx.src_ip, ctx.src_port, ctx.dst_ip, ctx.dst_port)


class _Replay:
    """What dissecting one payload gave: enough to count and keep it again without dissecting."""

    __slots__ = ("app", "facts", "plan", "refused")

    def __init__(self, plan: Plan, app: str | None, refused: tuple[int, ...],
                 facts: list[tuple[Observation, bool]]) -> None:
        self.plan = plan
        self.app = app
        self.refused = refused
        #: (observation, its time is the datagram's time)
        self.facts = facts


class _Direction:
    """The sink's state for one direction of one UDP flow."""

    __slots__ = ("key", "memo", "plan")

    def __init__(self, key: FlowKey) -> None:
        self.key = key
        self.plan: Plan | None = None
        self.memo: dict[tuple[int, int, bool], _Replay] = {}


class DissectingSink:
    """Runs the registry's dissectors on everything the capture engine hands over."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        # The same fact seen again (a client asking for the same name all day) is kept once, with the
        # time it was last seen: memory grows with distinct facts, not with packets.
        self._facts: dict[FactKey, list[Observation | float]] = {}
        self.apps: dict[FlowKey, str] = {}

    @property
    def observations(self) -> list[Observation]:
        """The distinct facts gathered so far (first sighting, then the last one when later)."""
        out: list[Observation] = []
        for first, last_ts, seen in self._facts.values():
            assert isinstance(first, Observation) and isinstance(last_ts, float) and isinstance(seen, int)
            if last_ts > first.ts:  # first and last sighting; the count they stand for adds up to ``seen``
                out.append(replace(first, count=seen - 1) if seen > 1 else first)
                out.append(replace(first, ts=last_ts, count=1))
            else:
                out.append(replace(first, count=seen) if seen > 1 else first)
        return out

    def _keep(self, ctx: FlowContext, app: str | None, found: list[Observation]) -> None:
        if app is not None:
            self.apps.setdefault(flow_key(ctx), app)
        self._facts_of(found)

    def _facts_of(self, found: list[Observation]) -> None:
        facts = self._facts
        for obs in found:
            key = obs.identity()
            entry = facts.get(key)
            if entry is None:
                facts[key] = [obs, float(obs.ts), obs.count]
            else:
                entry[2] += obs.count  # type: ignore[operator]
                if obs.ts > entry[1]:  # type: ignore[operator]
                    entry[1] = float(obs.ts)

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """One UDP payload."""
        app, found = self.registry.dissect(InputShape.DATAGRAM, ctx, payload)
        self._keep(ctx, app, found)

    def datagram_batch(self, batch: DatagramBatch) -> None:
        """Consecutive UDP payloads (capture order): the same facts as one :meth:`datagram` call each."""
        reg = self.registry
        apps = self.apps
        buf = batch.buf
        for slot, d, off, n, ts, cut in zip(batch.flows, batch.direction, batch.offset, batch.length,
                                            batch.ts, batch.truncated, strict=True):
            payload = bytes(buf[off : off + n])
            dirs = slot.state
            if dirs is None:
                dirs = slot.state = [None, None]
            way: _Direction | None = dirs[d]
            base = slot.base(d)
            if way is None:
                way = dirs[d] = _Direction(flow_key(base))
            plan = way.plan
            if plan is None or not plan.settled:
                plan = way.plan = reg.plan(_DATAGRAM, payload, base)
            if plan.wants and reg.quiet(plan, payload, base):
                if plan.dissectors:
                    apps.setdefault(way.key, plan.dissectors[0].name)
                continue
            memo_key = (hash(payload), n, cut)
            seen = way.memo.get(memo_key)
            if seen is not None and (seen.plan is plan or seen.plan == plan):
                self._replay(way.key, seen, ts)
                continue
            ctx = slot.context(d, ts, cut)
            app, found, refused = reg.run(plan, ctx, payload)
            if app is not None:
                apps.setdefault(way.key, app)
            self._facts_of(found)
            if len(way.memo) < MEMO_SIZE:
                way.memo[memo_key] = _Replay(plan, app, refused, [(o, o.ts == ts) for o in found])

    def _replay(self, key: FlowKey, seen: _Replay, ts: float) -> None:
        """Count and keep a remembered result again, at the time ``ts`` of the repeated payload."""
        self.registry.recount(seen.plan, seen.refused)
        if seen.app is not None:
            self.apps.setdefault(key, seen.app)
        facts = self._facts
        for obs, timed in seen.facts:
            at = ts if timed else obs.ts
            fact = obs.identity()
            entry = facts.get(fact)
            if entry is None:  # drained since: the fact starts again, as a fresh dissection would give it
                facts[fact] = [replace(obs, ts=at) if timed else obs, float(at), obs.count]
            else:
                entry[2] += obs.count  # type: ignore[operator]
                if at > entry[1]:  # type: ignore[operator]
                    entry[1] = float(at)

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

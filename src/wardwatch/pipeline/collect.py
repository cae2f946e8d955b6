"""The sink between the capture engine and the dissectors: payloads in, Observations out.

The capture engine (``capture/``) hands each UDP datagram, each TCP connection's first bytes and each
non-IP frame to a :class:`~wardwatch.capture.sink.PayloadSink`. :class:`DissectingSink` is the sink of
the sensor loop: it asks the dissector registry for the right dissectors, keeps the Observations they
yield and remembers which application protocol each flow spoke, so FlowRecords can carry an ``app``.

Datagrams arrive in batches (:meth:`DissectingSink.datagram_batch`). Per flow direction the sink keeps
the registry's :class:`~wardwatch.dissect.registry.Plan` (the dissector is chosen once, not per
datagram), asks the dissectors' ``wants`` pre-filters before a context is even built (skipped payloads
are counted once per batch), runs a dissector through its datagram lane where it offers one (no context
object per datagram, nothing remembered), and otherwise remembers the result of the last payloads it
dissected: a byte-identical payload later in the same direction (an mDNS announcement or SSDP NOTIFY
repeated every few seconds) is not dissected again, its facts are only marked as seen at the new time.

Through :meth:`DissectingSink.prepare` the flow table shows the sink each new flow direction's first
datagram before the batch; when the direction's pre-filter is a
:class:`~wardwatch.dissect.interface.ByteTest` (DNS: "not an answer"), the sink hands it to the flow table
as a skip rule, and the datagrams it rejects are withheld there, vectorially, and only counted here. The
facts, counts and labels kept are exactly those of dissecting every datagram (tested against one call per
datagram on real captures and generated traffic).
"""

from __future__ import annotations

import logging

from wardwatch.capture.sink import DatagramBatch, FlowSlot
from wardwatch.dissect._wire.observe import restamped
from wardwatch.dissect.interface import ByteTest, FlowContext, InputShape
from wardwatch.dissect.registry import Lane, Plan, Registry, Wants
from wardwatch.domain.observation import Observation

log = logging.getLogger(__name__)

FlowKey = tuple[int, str | None, int, str | None, int]
FactKey = tuple[str | None, str | None, str, str]
#: Payload results remembered per flow direction (keyed by the payload's hash and cut flag: Python's
#: hash of bytes is keyed per process (SipHash), so a peer cannot aim a collision at it).
MEMO_SIZE = 16
_DATAGRAM = InputShape.DATAGRAM


def flow_key(ctx: FlowContext) -> FlowKey:
    """The originator-ordered 5-tuple of a flow context (for labelling FlowRecords)."""
    return (ctx.proto, ctx.src_ip, ctx.src_port, ctx.dst_ip, ctx.dst_port)


def _wants(wants: Wants, payload: bytes) -> bool:
    """A pre-filter's verdict; one that raises counts as "dissect" (it must not hide bytes)."""
    try:
        return bool(wants(payload))
    except Exception:
        log.exception("a dissector's prefilter predicate raised")
        return True


#: A remembered result: plan, app label, refusing dissectors, observations, time of that datagram.
_Replay = tuple[Plan, str | None, tuple[int, ...], list[Observation], float]


def _unasked(payload: bytes, ts: float, truncated: bool) -> list[Observation]:
    """Placeholder for a direction's lane that has not been asked for yet (never called)."""
    raise AssertionError("the lane was not asked for")


_UNASKED: Lane = _unasked


class _Direction:
    """The sink's state for one direction of one UDP flow: its context, label, pre-filter and memo."""

    __slots__ = ("base", "filtered", "key", "label", "lane", "memo", "plan", "wants")

    def __init__(self, base: FlowContext) -> None:
        self.base = base
        self.key = flow_key(base)
        self.plan: Plan | None = None  # the plan ``wants``, ``lane`` and ``label`` belong to
        self.wants: Wants | None = None
        #: The app label of a payload the pre-filter skips: the plan's first dissector (None: no dissector).
        self.label: str | None = None
        #: True when the flow table applies ``wants`` (a byte test) before this sink sees a datagram.
        self.filtered = False
        self.lane: Lane | None = None  # or _UNASKED until the plan's lane is first needed
        self.memo: dict[tuple[int, bool], _Replay] | None = None  # made on first use (lanes need none)


class _Flow:
    """The sink's state for one UDP flow: the dissectors chosen for it and its two directions.

    A plan chosen by a content signature holds for the whole flow (both directions: a request and its
    answer speak the same protocol); one that fell back to the port is chosen again per datagram.
    """

    __slots__ = ("plan", "ways")

    def __init__(self) -> None:
        self.plan: Plan | None = None
        self.ways: list[_Direction | None] = [None, None]


class _Again:
    """A fact seen more than once: the time of its last sighting and the sightings it stands for in all."""

    __slots__ = ("count", "last")

    def __init__(self, last: float, count: int) -> None:
        self.last = last
        self.count = count


class DissectingSink:
    """Runs the registry's dissectors on everything the capture engine hands over."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        # The same fact seen again (a client asking for the same name all day) is kept once, with the
        # time it was last seen: memory grows with distinct facts, not with packets. ``_facts`` holds each
        # fact's first sighting; ``_again`` only the facts seen more than once (most are seen once: no
        # bookkeeping object for them).
        self._facts: dict[FactKey, Observation] = {}
        self._again: dict[FactKey, _Again] = {}
        self.apps: dict[FlowKey, str] = {}

    @property
    def observations(self) -> list[Observation]:
        """The distinct facts gathered so far (first sighting, then the last one when later)."""
        out: list[Observation] = []
        again = self._again
        for key, first in self._facts.items():
            more = again.get(key)
            if more is None:
                out.append(first)
                continue
            last_ts, seen = more.last, more.count
            if last_ts > first.ts:  # first and last sighting; the count they stand for adds up to ``seen``
                out.append(restamped(first, first.ts, seen - 1) if seen > 1 else first)
                out.append(restamped(first, last_ts, 1))
            else:
                out.append(restamped(first, first.ts, seen) if seen > 1 else first)
        return out

    def _keep(self, ctx: FlowContext, app: str | None, found: list[Observation]) -> None:
        if app is not None:
            self.apps.setdefault(flow_key(ctx), app)
        self._facts_of(found)

    def _facts_of(self, found: list[Observation]) -> None:
        facts = self._facts
        for obs in found:
            key = (obs.mac, obs.ip, obs.kind, obs.value)  # obs.identity(), without a call per fact
            first = facts.setdefault(key, obs)
            if first is not obs:
                self._seen_again(key, first, obs.ts, obs.count)

    def _seen_again(self, key: FactKey, first: Observation, ts: float, count: int) -> None:
        """Count another sighting of a kept fact, at time ``ts``."""
        more = self._again.get(key)
        if more is None:
            self._again[key] = _Again(float(max(first.ts, ts)), first.count + count)
        else:
            more.count += count
            if ts > more.last:
                more.last = float(ts)

    def datagram(self, ctx: FlowContext, payload: bytes) -> None:
        """One UDP payload."""
        app, found = self.registry.dissect(InputShape.DATAGRAM, ctx, payload)
        self._keep(ctx, app, found)

    def datagram_batch(self, batch: DatagramBatch) -> None:
        """Consecutive UDP payloads (capture order): the same facts as one :meth:`datagram` call each."""
        reg = self.registry
        apps = self.apps
        quiet: dict[int, tuple[Plan, int]] = {}  # payloads the pre-filters skipped, by plan (id: cheap hash)
        for slot, d, payload, ts, cut in zip(batch.flows, batch.direction, batch.payloads(), batch.ts,
                                             batch.truncated, strict=True):
            flow: _Flow | None = slot.state
            way = None if flow is None else flow.ways[d]
            known = None if way is None else way.plan
            plan: Plan
            if way is not None and flow is not None and known is flow.plan and known is not None and known.settled:
                plan = known
            else:  # a new direction, or a plan that is not settled yet
                way, plan = self._direction(slot, d, payload)
            wants = way.wants
            if wants is not None and not way.filtered and not _wants(wants, payload):  # nothing to find
                counted = quiet.get(id(plan))
                quiet[id(plan)] = (plan, 1 if counted is None else counted[1] + 1)
                if way.label is not None:
                    apps.setdefault(way.key, way.label)
                continue
            lane = way.lane
            if lane is _UNASKED:  # asked for on first use: most answer directions never need one
                lane = way.lane = reg.lane(plan, way.base)
            if lane is not None:  # a lane is cheaper than the memo: no context, no result kept
                app, found, _refused = reg.run_lane(plan, lane, payload, ts, cut)
                if app is not None:
                    apps.setdefault(way.key, app)
                if found:
                    self._facts_of(found)
                continue
            memo_key = (hash(payload), cut)
            memo = way.memo
            if memo is None:
                memo = way.memo = {}
            seen = memo.get(memo_key)
            if seen is not None and seen[0] == plan:
                self._replay(way.key, seen, ts)
                continue
            app, found, refused = reg.run(plan, slot.context(d, ts, cut), payload)
            if app is not None:
                apps.setdefault(way.key, app)
            if found:
                self._facts_of(found)
            if len(memo) < MEMO_SIZE:
                memo[memo_key] = (plan, app, refused, found, ts)
        for slot, d, count in batch.skipped:  # withheld by the flow table: as if the pre-filter said so
            way = slot.state.ways[d]
            plan = way.plan
            counted = quiet.get(id(plan))
            quiet[id(plan)] = (plan, count if counted is None else counted[1] + count)
            if way.label is not None:
                apps.setdefault(way.key, way.label)
        for plan, count in quiet.values():
            reg.count_quiet(plan, count)

    def _direction(self, slot: FlowSlot, d: int, payload: bytes, ahead: bool = False) -> tuple[_Direction, Plan]:
        """The state of one flow direction, its plan decided with ``payload`` where it is not settled.

        ``ahead``: called before the flow table hands over the batch (:meth:`prepare`), so a skip rule set
        here is applied to every later datagram of the direction.
        """
        reg = self.registry
        flow: _Flow | None = slot.state
        if flow is None:
            flow = slot.state = _Flow()
        way = flow.ways[d]
        if way is None:
            way = flow.ways[d] = _Direction(slot.base(d))
        plan = flow.plan
        if plan is None or not plan.settled:
            plan = flow.plan = reg.plan(_DATAGRAM, payload, way.base)
        if plan is not way.plan:
            way.plan = plan
            way.label = plan.dissectors[0].name if plan.dissectors else None
            way.wants = wants = reg.prefilter(plan, way.base)
            way.lane = _UNASKED
            # A settled plan's byte-test pre-filter can run in the flow table, vectorially.
            test = wants if plan.settled and isinstance(wants, ByteTest) else None
            slot.skip_when(d, None if test is None else (test.offset, test.mask))
            way.filtered = ahead and test is not None
        return way, plan

    def prepare(self, slot: FlowSlot, direction: int, payload: bytes) -> None:
        """Decide a new flow direction's dissectors from its first datagram before the batch is handed
        over (the :class:`~wardwatch.capture.sink.BatchSink` hook): the flow table can then withhold the
        datagrams this sink has no use for from the same batch on. Choosing a plan has no other effect,
        so deciding it early gives the facts and counts of deciding it in :meth:`datagram_batch`."""
        self._direction(slot, direction, payload, ahead=True)

    def _replay(self, key: FlowKey, seen: _Replay, ts: float) -> None:
        """Count and keep a remembered result again, at the time ``ts`` of the repeated payload."""
        plan, app, refused, found, then = seen
        self.registry.recount(plan, refused)
        if app is not None:
            self.apps.setdefault(key, app)
        facts = self._facts
        for obs in found:
            timed = obs.ts == then  # the dissector stamped it with the datagram's time
            at = ts if timed else obs.ts
            fact = obs.identity()
            first = facts.get(fact)
            if first is None:  # drained since: the fact starts again, as a fresh dissection would give it
                facts[fact] = restamped(obs, at, obs.count) if timed else obs
            else:
                self._seen_again(fact, first, at, obs.count)

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
        self._again = {}
        return out

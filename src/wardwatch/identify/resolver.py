"""The identity resolver: Observations folded into Devices (ARCHITECTURE.md, ``identify/``).

One call of :meth:`Resolver.resolve` takes a batch of Observations and a :class:`StateStore` (the
inventory, or :class:`~wardwatch.identify.state.MemoryStore`) and:

1. keys each Observation to a device: its MAC when the MAC is a unicast address and the observation
   proves the MAC owns the IP (or names no IP); otherwise the IP's owner, else ``ip:<sensor>/<ip>``
   (the ownership rule is in :mod:`wardwatch.identify.ownership`); multicast MACs name no device;
2. merges an IP-keyed device into the MAC device that is shown to own its address (the IP-keyed row
   is re-keyed when the MAC device is new, so its id survives), and moves an address from its old owner
   to a newer one (``ip_removed`` on the old owner);
3. keeps each distinct (kind, value) as a fact (first/last seen, count); the same fact seen again widens
   its span and adds no evidence;
4. re-derives the attributes of every device whose facts changed, through the kinds table and the
   fingerprint rules, with the precedence and no-flapping rule of :mod:`wardwatch.identify.decide`;
5. records history: ``new_device``, ``ip_added``/``ip_changed``/``ip_removed``, ``merged``,
   ``hostname_changed`` and ``attribute_changed`` (a value replaced, not a first value).

The resolver holds no state between calls; everything lives in the store, so replaying a batch is a
no-op and two captures merge.
"""


from __future__ import annotations

from collections.abc import Iterable, Mapping

from wardwatch.domain.device import HistoryEvent, device_key
from wardwatch.domain.observation import Observation
from wardwatch.identify.addresses import AddressFilter
from wardwatch.identify.derive import derive_attributes
from wardwatch.identify.interface import (
    ResolveResult,
    RuleEvaluator,
    RuleMatch,
    RuleMatchLike,
    StateStore,
)
from wardwatch.identify.oui import OuiRegistry, default_registry
from wardwatch.identify.ownership import (
    ADDRESS_VALUE_KINDS,
    OwnerTimeline,
    Spans,
    build_timelines,
    collect_spans,
    proves_ownership,
)
from wardwatch.identify.state import DeviceState, FactState, absorb, own_ip

__all__ = ["ResolveResult", "Resolver", "RuleEvaluator", "RuleMatch", "RuleMatchLike", "StateStore"]

_Routed = tuple[Observation, str, str | None]  # observation, device key, normalized ip


#: Observation sources that are statements about a device, not sightings of it on the network.
NOT_ON_THE_WIRE = frozenset({"import", "manual"})


class Resolver:
    """Folds Observations into device states. Stateless between calls; cheap to construct."""

    def __init__(
        self,
        *,
        evaluator: RuleEvaluator | None = None,
        registry: OuiRegistry | None = None,
        evidence_cap: int = 20,
        local_networks: Iterable[str] = (),
    ) -> None:
        self.evaluator = evaluator
        self._registry = registry
        self.evidence_cap = evidence_cap
        self._addresses = AddressFilter(local_networks)

    @property
    def registry(self) -> OuiRegistry:
        """The OUI registry (the process-wide one unless given)."""
        if self._registry is None:
            self._registry = default_registry()
        return self._registry

    # -- the batch -------------------------------------------------------------------------------------
    def resolve(self, observations: Iterable[Observation], store: StateStore) -> ResolveResult:
        """Fold ``observations`` into the devices of ``store``; return the states to write back."""
        result = ResolveResult()
        # (observation, mac, ip, whether the observation proves that the MAC owns the IP): the ownership
        # test runs once per observation and is reused when routing below
        normalized: list[tuple[Observation, str | None, str | None, bool]] = []
        events: list[tuple[str, str, float, str]] = []
        for obs in observations:
            result.observations += 1
            mac, ip = self._addresses.mac(obs.mac), self._addresses.ip(obs.ip)
            if mac is None and ip is None:
                result.skipped += 1
                continue
            proves = mac is not None and ip is not None and proves_ownership(obs.kind, obs.source, ip)
            normalized.append((obs, mac, ip, proves))
            if mac is None:
                continue
            if proves:
                assert ip is not None
                events.append((obs.sensor, ip, obs.ts, f"mac:{mac}"))
            if obs.kind in ADDRESS_VALUE_KINDS:
                owned = self._addresses.ip(obs.value)
                if owned is not None:
                    events.append((obs.sensor, owned, obs.ts, f"mac:{mac}"))

        chunk_spans = collect_spans(events)
        lookup_pairs = set(chunk_spans)
        lookup_pairs.update((o.sensor, ip) for o, _m, ip, _p in normalized if ip is not None)
        db_owners = store.ip_owners(lookup_pairs) if lookup_pairs else {}
        timelines = build_timelines(chunk_spans, db_owners)

        routed: list[_Routed] = []
        for obs, mac, ip, proves in normalized:
            if mac is not None and (ip is None or proves):
                routed.append((obs, f"mac:{mac}", ip))
                continue
            assert ip is not None
            timeline = timelines.get((obs.sensor, ip))
            if timeline is not None:
                routed.append((obs, timeline.owner_at(obs.ts), ip))
            elif self._addresses.is_local(ip):
                routed.append((obs, device_key(None, ip, obs.sensor), ip))
            else:
                result.skipped += 1

        wanted = {key for _o, key, _ip in routed}
        merge_sources = {pair: f"ip:{pair[0]}/{pair[1]}" for pair in chunk_spans}
        transfers = {
            pair: db_owners[pair][0]
            for pair in chunk_spans
            if pair in db_owners and timelines[pair].latest()[0] != db_owners[pair][0]
        }
        states = store.load_devices(wanted | set(merge_sources.values()) | set(transfers.values()))
        touched: dict[str, DeviceState] = {}
        self._merge_ip_devices(chunk_spans, timelines, merge_sources, states, touched, result)
        self._fold(routed, states, touched, result)
        self._apply_ownership(chunk_spans, timelines, db_owners, states, touched)
        deriving = [s for s in touched.values() if s.facts_changed or s.id is None]
        lazy = [s for s in deriving if not s.attributes_loaded]
        if lazy:
            store.load_attributes(lazy)
        for state in deriving:
            derive_attributes(state, self.evaluator, self.evidence_cap)
        for state in touched.values():
            result.history_events += len(state.history)
            if state.id is not None and (
                state.dirty or state.facts_changed or state.history or state.changed_attributes
                or state.removed_attributes or state.absorbed
            ):
                result.updated_devices += 1
        result.devices = list(touched.values())
        return result

    def _merge_ip_devices(
        self,
        chunk_spans: Spans,
        timelines: Mapping[tuple[str, str], OwnerTimeline],
        merge_sources: Mapping[tuple[str, str], str],
        states: dict[str, DeviceState],
        touched: dict[str, DeviceState],
        result: ResolveResult,
    ) -> None:
        for pair in chunk_spans:
            ip_key = merge_sources[pair]
            source = states.pop(ip_key, None)
            if source is None:
                continue
            owner_key, ts = timelines[pair].latest()
            target = states.get(owner_key)
            event = HistoryEvent(ts=ts, kind="merged", attribute=None, old=ip_key, new=owner_key,
                                 evidence=f"{pair[1]} owned by {owner_key[4:]} on sensor {pair[0]}")
            if target is None:  # re-key the IP device: it keeps its id
                source.key, source.mac, source.dirty = owner_key, owner_key[4:], True
                source.history.append(event)
                self._add_mac_facts(source, ts)
                states[owner_key] = touched[owner_key] = source
            else:
                absorb(target, source)
                target.history.append(event)
                touched[owner_key] = target
                result.removed_keys.append(ip_key)
            result.merged_devices += 1

    def _fold(self, routed: list[_Routed], states: dict[str, DeviceState], touched: dict[str, DeviceState],
              result: ResolveResult) -> None:
        for obs, key, ip in routed:
            state = touched.get(key)
            if state is None:
                state = states.get(key)
                if state is None:
                    state = self._new_state(key, obs)
                    states[key] = state
                    result.new_devices += 1
                touched[key] = state
            if obs.source not in NOT_ON_THE_WIRE:  # a register or a person does not make a device "seen"
                state.see(obs.ts)
            fact_key = (obs.kind, obs.value)
            fact = state.facts.get(fact_key)
            if fact is None:
                state.facts[fact_key] = FactState(obs.kind, obs.value, obs.ts, obs.ts, 1, obs.sensor,
                                                  obs.excerpt, obs.confidence, obs.source)
                state.facts_changed = True
                result.facts_added += 1
            else:
                fact.see(obs.ts, obs.confidence)
                if fact.dirty:
                    state.facts_changed = True
            if ip is not None and state.mac is None:  # an IP-keyed device owns its address
                own_ip(state, obs.sensor, ip, obs.ts, obs.ts)

    def _new_state(self, key: str, obs: Observation) -> DeviceState:
        mac = key[4:] if key.startswith("mac:") else None
        state = DeviceState(key=key, mac=mac, sensor=obs.sensor, first_seen=obs.ts, last_seen=obs.ts)
        state.history.append(HistoryEvent(ts=obs.ts, kind="new_device", attribute=None, old=None, new=key,
                                          evidence=f"{obs.kind}={obs.value}"[:160]))
        if mac is not None:
            self._add_mac_facts(state, obs.ts)
        return state

    def _add_mac_facts(self, state: DeviceState, ts: float) -> None:
        """Synthesise ``mac.vendor`` / ``mac.randomized`` facts from the IEEE registry."""
        if state.mac is None:
            return
        info = self.registry.lookup(state.mac)
        if info is None:
            return
        sensor = state.sensor
        if info.randomized:
            facts = [("mac.randomized", "true", "locally administered address (IEEE 802c)")]
        elif info.vendor:
            facts = [("mac.vendor", info.vendor, f"IEEE {info.registry} /{info.prefix_bits} {info.vendor}")]
        else:
            facts = []
        for kind, value, excerpt in facts:
            if (kind, value) not in state.facts:
                state.facts[(kind, value)] = FactState(kind, value, ts, ts, 1, sensor, excerpt, None, "oui")
                state.facts_changed = True

    def _apply_ownership(
        self,
        chunk_spans: Spans,
        timelines: Mapping[tuple[str, str], OwnerTimeline],
        db_owners: Mapping[tuple[str, str], tuple[str, float]],
        states: dict[str, DeviceState],
        touched: dict[str, DeviceState],
    ) -> None:
        for pair, owners in chunk_spans.items():
            owner_key, _ts = timelines[pair].latest()
            span = owners.get(owner_key)
            if span is None:
                continue  # the stored owner is newer than anything in this batch
            owner = states[owner_key]
            touched[owner_key] = owner
            own_ip(owner, pair[0], pair[1], span[0], span[1])
            previous = db_owners.get(pair)
            if previous is not None and previous[0] != owner_key and previous[0] in states:
                old = states[previous[0]]
                gone = old.ips.pop(pair, None)
                if gone is not None:
                    if gone.id is not None:
                        old.removed_ip_ids.append(gone.id)
                    old.history.append(HistoryEvent(ts=span[1], kind="ip_removed", attribute="ip",
                                                    old=pair[1], new=None,
                                                    evidence=f"now owned by {owner_key}"))
                    old.dirty = True
                    touched[old.key] = old

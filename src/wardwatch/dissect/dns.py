"""DNS and mDNS / DNS-SD identity dissector (RFC 1035, RFC 6762, RFC 6763).

Unicast DNS (port 53): the names a client asks for, ``dns.query`` (about the querier; at most
:data:`MAX_QUERIES` distinct names per message, reverse lookups included).

Multicast DNS (port 5353, or to 224.0.0.251 / ff02::fb), about the *sender*:

* a response (every section: answer, authority and additional, RFC 6762 §6) and the authority section of
  a query (a probe claims those records for itself, RFC 6762 §8.2) give
  ``mdns.service`` (service types such as ``_ipp._tcp.local``, from PTR owners and
  ``_services._dns-sd._udp`` enumeration, RFC 6763 §9), ``mdns.instance`` (service instance names, PTR
  targets and SRV/TXT owners), ``mdns.hostname`` (A/AAAA owners, SRV targets, reverse-PTR targets) and
  ``mdns.txt.<key>`` for TXT keys that carry make, model, firmware or OS (RFC 6763 §6, keys compared
  case-insensitively and emitted in lower case: ``mdns.txt.usb_mdl``);
* the question section of a query gives ``mdns.query`` (what the querier looks for; known answers in a
  query are about other hosts and are ignored).

TXT keys are allow-listed (:data:`TXT_KEYS`). Free-text keys such as ``note`` (printer location, may name
a person) are left out; a device serial number (``serial``/``serialnumber``) is kept: it identifies a
device, not a patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ClassVar

from wardwatch.dissect._wire import dnsmsg
from wardwatch.dissect._wire.dnsmsg import Message, Record, name_text
from wardwatch.dissect._wire.observe import observe, observer
from wardwatch.dissect._wire.text import safe_text
from wardwatch.dissect.interface import ByteTest, FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

DNS_PORT, MDNS_PORT = 53, 5353
MDNS_GROUPS = frozenset({"224.0.0.251", "ff02::fb"})  # RFC 6762 §3
MAX_QUERIES = 4
MAX_FACTS = 128
#: Datagram lanes kept for reuse (one per pair of endpoints; the cache starts over when full).
MAX_SHARED_LANES = 4096
SERVICES_ENUM = (b"_services", b"_dns-sd", b"_udp")  # RFC 6763 §9
TXT_KEYS = frozenset({
    # make and model
    "md", "model", "modelname", "model_name", "model_number", "mdl", "ty", "product", "usb_mfg", "usb_mdl",
    "manufacturer", "mfg", "mf", "vendor", "am", "deviceid", "mac",
    # software and hardware versions
    "fv", "fw", "fwver", "fw_ver", "firmware", "firmware_version", "fwversion", "hw", "hwver",
    "hardware_ver", "os", "osxvers", "srcvers", "vs", "version_name",
    # device (not patient) serial numbers
    "serial", "serialnumber",
})


def _is_reverse(labels: tuple[bytes, ...]) -> bool:
    """An in-addr.arpa or ip6.arpa owner (RFC 1035 §3.5, RFC 3596 §2.5)."""
    return len(labels) >= 2 and labels[-1].lower() == b"arpa" and labels[-2].lower() in (b"in-addr", b"ip6")


def _service_of(labels: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The service type of a PTR owner, without a ``<subtype>._sub.`` prefix (RFC 6763 §7.1)."""
    lowered = [label.lower() for label in labels]
    if b"_sub" in lowered:
        return labels[lowered.index(b"_sub") + 1 :]
    return labels


def _is_instance(labels: tuple[bytes, ...]) -> bool:
    """``<Instance>.<_service>.<_proto>.<domain>`` (RFC 6763 §4.1)."""
    return len(labels) >= 4 and labels[1].startswith(b"_") and labels[2].lower() in (b"_tcp", b"_udp")


class DnsDissector:
    """Unicast DNS queries and mDNS / DNS-SD announcements."""

    name: ClassVar[str] = "dns"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({DNS_PORT, MDNS_PORT})

    def __init__(self) -> None:
        #: Datagram lanes by endpoints (see :meth:`datagram_lane`), at most :data:`MAX_SHARED_LANES`.
        self._lanes: dict[tuple[str, str | None, str | None, str | None, str | None],
                          Callable[[bytes, float, bool], list[Observation]]] = {}

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """Port 53 or 5353 (or the mDNS group) and a plausible header: opcode 0, few records."""
        if not (DNS_PORT in (ctx.src_port, ctx.dst_port) or self._is_mdns(ctx)):
            return False
        if len(data) < dnsmsg.HEADER or (data[2] >> 3) & 0xF != 0:
            return False
        _ident, _flags, qd, an, ns, ar = dnsmsg.header_counts(data)
        return 0 < qd + an + ns + ar <= dnsmsg.MAX_RECORDS

    def prefilter(self, ctx: FlowContext) -> ByteTest | None:
        """For unicast DNS: skip responses, which :meth:`dissect` ignores (the registry's hook)."""
        return None if self._is_mdns(ctx) else NOT_A_RESPONSE

    def datagram_lane(self, ctx: FlowContext) -> Callable[[bytes, float, bool], list[Observation]] | None:
        """For unicast DNS: a lane that reads the common one-question query without a context per
        datagram (the registry's hook; results equal :meth:`dissect` at that time).

        A unicast DNS fact names its endpoints (sensor, MACs, addresses), never a port, so flow directions
        between the same two endpoints (a client asking its resolver from a new port per query) share one
        lane: the first such direction's context stands for all of them.
        """
        if self._is_mdns(ctx):
            return None
        key = (ctx.sensor, ctx.src_mac, ctx.dst_mac, ctx.src_ip, ctx.dst_ip)
        shared = self._lanes.get(key)
        if shared is None:
            if len(self._lanes) >= MAX_SHARED_LANES:
                self._lanes.clear()
            shared = self._lanes[key] = self._lane(ctx)
        return shared

    def _lane(self, ctx: FlowContext) -> Callable[[bytes, float, bool], list[Observation]]:
        fast = dnsmsg.fast_query_text
        make = observer(ctx, "dns.query")

        def lane(payload: bytes, ts: float, truncated: bool) -> list[Observation]:
            if len(payload) > 2 and payload[2] & 0x80:  # a response: see _facts
                return []
            if fast is not None:
                text = fast(payload)
                if text is not None:
                    return [make(text, "dns.query " + text, ts)]
            labels = dnsmsg.plain_query_name(payload)
            if labels is None:  # anything unusual takes the general path
                return self._facts(replace(ctx, ts=ts, truncated=truncated), payload)
            name = name_text(labels)
            return [make(name, "dns.query " + name, ts)] if name else []

        return lane

    @staticmethod
    def _is_mdns(ctx: FlowContext) -> bool:
        return MDNS_PORT in (ctx.src_port, ctx.dst_port) or ctx.dst_ip in MDNS_GROUPS

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """The facts of one DNS or mDNS message (parsed at once: ParseError comes from this call)."""
        return iter(self._facts(ctx, client))

    def _facts(self, ctx: FlowContext, client: bytes) -> list[Observation]:
        mdns = self._is_mdns(ctx)
        if not mdns:
            if len(client) > 2 and client[2] & 0x80:
                # A unicast DNS response (QR set, RFC 1035 §4.1.1) teaches nothing about its client that
                # the query did not: skip its parse, the costliest work on a resolver's busy flows.
                return []
            labels = dnsmsg.plain_query_name(client)
            if labels is not None:  # one question, nothing else: the common query, read directly
                name = name_text(labels)
                return [observe(ctx, "dns.query", name, excerpt=f"dns.query {name}")] if name else []
        msg = dnsmsg.parse_message(client)
        if msg.opcode != 0:
            return []
        facts: dict[tuple[str, str], str] = {}
        if mdns:
            self._mdns(msg, facts)
        elif not msg.is_response:
            for question in msg.questions:
                name = name_text(question.labels)
                if name and len(facts) < MAX_QUERIES:
                    facts.setdefault(("dns.query", name), "")
        return [observe(ctx, kind, value, excerpt=excerpt or f"{kind} {value}")
                for (kind, value), excerpt in facts.items() if value]

    def _mdns(self, msg: Message, facts: dict[tuple[str, str], str]) -> None:
        """Fill ``facts`` from an mDNS message."""
        if msg.is_response:
            records = msg.records
        else:
            for question in msg.questions:
                _add(facts, "mdns.query", name_text(question.labels))
            records = [r for r in msg.records if r.section == dnsmsg.AUTHORITY]
        for rec in records:
            try:
                self._record(msg, rec, facts)
            except ParseError:
                continue  # one bad RDATA does not spoil the other records of the message

    @staticmethod
    def _record(msg: Message, rec: Record, facts: dict[tuple[str, str], str]) -> None:
        owner = rec.labels
        if rec.rtype == dnsmsg.PTR:
            target = dnsmsg.rdata_name(msg, rec)
            if _is_reverse(owner):
                _add(facts, "mdns.hostname", name_text(target))
            elif tuple(label.lower() for label in owner[:3]) == SERVICES_ENUM:
                _add(facts, "mdns.service", name_text(target))
            else:
                _add(facts, "mdns.service", name_text(_service_of(owner)))
                _instance(facts, target, always=True)
        elif rec.rtype == dnsmsg.SRV:
            _instance(facts, owner, always=True)
            _add(facts, "mdns.hostname", name_text(dnsmsg.rdata_name(msg, rec, 6)))  # RFC 2782: 3 u16
        elif rec.rtype in (dnsmsg.A, dnsmsg.AAAA):
            _add(facts, "mdns.hostname", name_text(owner))
        elif rec.rtype == dnsmsg.TXT:
            _instance(facts, owner)
            for item in dnsmsg.txt_strings(msg, rec):
                key, sep, value = item.partition(b"=")
                key_text = safe_text(key, 32).lower()
                if sep and key_text in TXT_KEYS:
                    text = safe_text(value)
                    _add(facts, f"mdns.txt.{key_text}", text, f"TXT {key_text}={text}")


#: False for a DNS response: the QR bit, the top bit of the third octet, is set (RFC 1035 §4.1.1).
NOT_A_RESPONSE = ByteTest(2, 0x80)


def _instance(facts: dict[tuple[str, str], str], labels: tuple[bytes, ...], always: bool = False) -> None:
    """A service instance name and, when it has the RFC 6763 §4.1 shape, its service type."""
    if _is_instance(labels):
        _add(facts, "mdns.instance", name_text(labels))
        _add(facts, "mdns.service", name_text(labels[1:]))
    elif always:
        _add(facts, "mdns.instance", name_text(labels))


def _add(facts: dict[tuple[str, str], str], kind: str, value: str, excerpt: str = "") -> None:
    """Record one fact, deduplicated, at most :data:`MAX_FACTS` per message."""
    if value and len(facts) < MAX_FACTS:
        facts.setdefault((kind, value), excerpt)


DISSECTOR = DnsDissector()

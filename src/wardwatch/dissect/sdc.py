"""IEEE 11073 SDC: WS-Discovery on UDP 3702 and device metadata in clear over HTTP/SOAP, sans-I/O.

Two dissectors, both with the app label ``sdc``:

* :data:`DISSECTOR` (shape DATAGRAM, port 3702): WS-Discovery 1.1 (OASIS 2009, used by DPWS 1.1 and
  IEEE 11073-20702) and the 2005/04 draft. Hello, Bye, ProbeMatches and ResolveMatches describe their
  sender (a provider); Probe and Resolve mark a consumer.
* :data:`SOAP_DISSECTOR` (shape STREAM, any port by content: an HTTP POST of ``application/soap+xml``):
  the WS-Transfer GetMetadata response (DPWS 1.1 §5.1: ``dpws:ThisModel``, ``dpws:ThisDevice``,
  ``dpws:Relationship/Host``) and the BICEPS MDIB (IEEE 11073-10207: ``MdsDescriptor/Type`` and
  ``MdsDescriptor/MetaData``).

XML is read with defusedxml (no DTD, no entities, no network) under size caps. Only allow-listed
elements are read: patient and operator contexts in the MDIB are never touched, and scopes of
``sdc.ctxt.*`` kinds other than location and ensemble (patient, operator, workflow ...) are dropped.

Kinds (about the sender of the message: the provider for Hello/matches and for metadata responses):

* ``sdc.message``: ``Hello``, ``Bye``, ``Probe``, ``ProbeMatches``, ``Resolve``, ``ResolveMatches``.
* ``sdc.role``: ``provider`` or ``consumer``.
* ``sdc.epr`` (endpoint reference address), ``sdc.types`` (``{namespace}Local`` QNames),
  ``sdc.scopes``, ``sdc.xaddrs``.
* ``sdc.manufacturer``, ``sdc.model``, ``sdc.model_number``, ``sdc.serial``, ``sdc.firmware``,
  ``sdc.friendly_name``, ``sdc.manufacturer_url``, ``sdc.udi``, ``sdc.mds_type`` (MDC code of the MDS).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar
from xml.etree.ElementTree import Element

from wardwatch.dissect._medical.emit import Emitter
from wardwatch.dissect._medical.soapxml import iter_elements, iter_http, local
from wardwatch.dissect.interface import FlowContext, InputShape
from wardwatch.domain.observation import Observation
from wardwatch.errors import ParseError

#: WS-Discovery namespaces (1.1 and the 2005/04 draft) as they appear in the bytes.
WSD_MARKERS = (b"docs.oasis-open.org/ws-dd/ns/discovery", b"schemas.xmlsoap.org/ws/2005/04/discovery")
#: Body elements of WS-Discovery messages and the message each belongs to (WS-Discovery 1.1 §4-6).
WSD_BODIES = {"Hello": "Hello", "Bye": "Bye", "Probe": "Probe", "ProbeMatch": "ProbeMatches",
              "Resolve": "Resolve", "ResolveMatch": "ResolveMatches"}
CONSUMER_MESSAGES = frozenset({"Probe", "Resolve"})
#: Scopes kept: location and ensemble contexts, component types and profiles; any other ``sdc.ctxt.``
#: scope (patient, operator, workflow, means) may identify a person and is dropped.
SAFE_CONTEXT_SCOPES = ("sdc.ctxt.loc", "sdc.ctxt.ens")
#: The MDS descriptor element: ``pm:Mds`` in a GetMdibResponse (``xsi:type="pm:MdsDescriptor"``).
MDS_ELEMENTS = frozenset({"Mds", "MdsDescriptor"})
#: Most items emitted from one list (types, scopes, addresses).
MAX_ITEMS = 32


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def _qnames(text: str, prefixes: dict[str, str]) -> list[str]:
    """``ns0:Device`` → ``{http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01}Device``."""
    out = []
    for qname in text.split()[:MAX_ITEMS]:
        prefix, _, name = qname.rpartition(":")
        out.append(f"{{{prefixes[prefix]}}}{name}" if prefix in prefixes and name else qname)
    return out


def safe_scope(scope: str) -> bool:
    """True for scopes that cannot name a person (see :data:`SAFE_CONTEXT_SCOPES`)."""
    return not scope.startswith("sdc.ctxt.") or scope.startswith(SAFE_CONTEXT_SCOPES)


def _discovery_entry(em: Emitter, entry: Element, prefixes: dict[str, str], why: str, side: bool) -> None:
    """EndpointReference, Types, Scopes, XAddrs of a Hello/Bye/Probe/...Match (WS-Discovery 1.1 §4)."""
    epr = _child(entry, "EndpointReference")
    if epr is not None:
        em.emit("sdc.epr", _text(_child(epr, "Address")), about_server=side, excerpt=why)
    for qname in _qnames(_text(_child(entry, "Types")), prefixes):
        em.emit("sdc.types", qname, about_server=side, excerpt=why)
    for scope in _text(_child(entry, "Scopes")).split()[:MAX_ITEMS]:
        if safe_scope(scope):
            em.emit("sdc.scopes", scope, about_server=side, excerpt=why)
    for xaddr in _text(_child(entry, "XAddrs")).split()[:MAX_ITEMS]:
        em.emit("sdc.xaddrs", xaddr, about_server=side, excerpt=why)


def _metadata(em: Emitter, element: Element, parent: str, side: bool) -> None:
    """DPWS ThisModel/ThisDevice/Host and BICEPS MdsDescriptor Type/MetaData."""
    name = local(element.tag)
    fields: tuple[tuple[str, str], ...] = ()
    if name == "ThisModel":  # DPWS 1.1 §5.1.1
        fields = (("Manufacturer", "sdc.manufacturer"), ("ModelName", "sdc.model"),
                  ("ModelNumber", "sdc.model_number"), ("ManufacturerUrl", "sdc.manufacturer_url"))
    elif name == "ThisDevice":  # DPWS 1.1 §5.1.2
        fields = (("FriendlyName", "sdc.friendly_name"), ("FirmwareVersion", "sdc.firmware"),
                  ("SerialNumber", "sdc.serial"))
    elif name == "MetaData" and parent in MDS_ELEMENTS:  # IEEE 11073-10207 pm:MdsDescriptor/MetaData
        fields = (("Manufacturer", "sdc.manufacturer"), ("ModelName", "sdc.model"),
                  ("ModelNumber", "sdc.model_number"), ("SerialNumber", "sdc.serial"))
        udi = _child(element, "Udi")
        if udi is not None:
            em.emit("sdc.udi", _text(_child(udi, "HumanReadableForm")) or _text(_child(udi, "DeviceIdentifier")),
                    about_server=side, excerpt="MDIB MdsDescriptor/MetaData/Udi")
    elif name == "Type" and parent in MDS_ELEMENTS:
        concept = _text(_child(element, "ConceptDescription"))
        em.emit("sdc.mds_type", element.get("Code", ""), about_server=side,
                excerpt=f"MDIB MdsDescriptor/Type {concept}".strip())
    elif name == "Host" and parent == "Relationship":  # DPWS 1.1 §5.2: the hosting device
        epr = _child(element, "EndpointReference")
        if epr is not None:
            em.emit("sdc.epr", _text(_child(epr, "Address")), about_server=side, excerpt="dpws:Host")
    for child_name, kind in fields:
        em.emit(kind, _text(_child(element, child_name)), about_server=side, excerpt=f"{name}/{child_name}")


class WsDiscoveryDissector:
    """WS-Discovery datagrams (UDP 3702)."""

    name: ClassVar[str] = "sdc"
    shape: ClassVar[InputShape] = InputShape.DATAGRAM
    ports: ClassVar[frozenset[int]] = frozenset({3702})

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """An XML datagram naming a WS-Discovery namespace in its first 4 KiB."""
        head = data[:4096]
        return head.lstrip()[:1] == b"<" and any(m in head for m in WSD_MARKERS)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Facts about the sender of one WS-Discovery message."""
        if not self.detect(client, ctx):
            raise ParseError("not a WS-Discovery message")
        em = Emitter(ctx)
        seen = False
        for element, _parent, prefixes in iter_elements(client):
            message = WSD_BODIES.get(local(element.tag))
            if message is None:
                continue
            seen = True
            why = f"WS-Discovery {message}"
            em.emit("sdc.message", message, excerpt=why)
            em.emit("sdc.role", "consumer" if message in CONSUMER_MESSAGES else "provider", excerpt=why)
            _discovery_entry(em, element, prefixes, why, False)
        if not seen:
            raise ParseError("WS-Discovery datagram without a readable message body")
        return iter(em.out)


def looks_like_soap_post(data: bytes) -> bool:
    """An HTTP POST whose headers (first 2 KiB) declare a SOAP 1.2 body (RFC 3902)."""
    head = data[:2048]
    end = head.find(b"\r\n\r\n")
    return head.startswith(b"POST ") and b"application/soap+xml" in (head[:end] if end > 0 else head).lower()


class SdcSoapDissector:
    """DPWS metadata and BICEPS MDIB in clear over HTTP, both directions."""

    name: ClassVar[str] = "sdc"
    shape: ClassVar[InputShape] = InputShape.STREAM
    ports: ClassVar[frozenset[int]] = frozenset()

    def detect(self, data: bytes, ctx: FlowContext) -> bool:
        """HTTP POST of ``application/soap+xml`` from the client."""
        return looks_like_soap_post(data)

    def dissect(self, ctx: FlowContext, client: bytes, server: bytes) -> Iterator[Observation]:
        """Device identity from every SOAP body; about the side that sent it."""
        if not looks_like_soap_post(client):
            raise ParseError("not SOAP over HTTP")
        em = Emitter(ctx)
        for side, data in ((False, client), (True, server)):
            for message in iter_http(data):
                if b"<" not in message.body[:512]:
                    continue
                for element, parent, _prefixes in iter_elements(message.body):
                    _metadata(em, element, parent, side)
        return iter(em.out)


#: The entry point ``wardwatch.dissect.sdc:DISSECTOR`` (WS-Discovery, DATAGRAM).
DISSECTOR = WsDiscoveryDissector()
#: The entry point ``wardwatch.dissect.sdc:SOAP_DISSECTOR`` (HTTP/SOAP metadata, STREAM).
SOAP_DISSECTOR = SdcSoapDissector()

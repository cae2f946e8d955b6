"""Observations: the one currency of the pipeline (ARCHITECTURE.md, "One pipeline, one currency").

An Observation is a small typed fact about one endpoint: *what* was seen (``kind``, a dotted
``protocol.field`` name such as ``dhcp.hostname``), the ``value``, *when* (``ts``, seconds since the
epoch), *by whom* (``sensor``), *about whom* (``mac``/``ip`` of the subject endpoint) and the short quoted
``excerpt`` it came from. Packets, Zeek logs, Suricata EVE records and CMMS imports all produce
Observations; everything downstream consumes only Observations.

Kinds are plain strings so that a plugin can add its own without touching this module. Each dissector
documents the kinds it emits in its module docstring; ``identify.kinds`` maps kinds to device attributes.

No PHI: an Observation never carries a patient field. Dissectors of clinical protocols keep only the
allow-listed header and device fields (application and facility names, AE titles, message types, device
identifiers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: Longest excerpt kept as evidence; longer quotes are cut (evidence is a hint, not a payload store).
MAX_EXCERPT = 160
#: Longest value kept; dissectors cut longer strings (a hostile peer can send megabytes of "hostname").
MAX_VALUE = 512


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """Return ``text`` cut to ``limit`` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Observation:
    """One fact about one endpoint, with its evidence.

    ``mac`` is lower-case colon-separated (``00:1b:63:84:45:e6``) or ``None``; ``ip`` is the textual
    address (IPv4 dotted quad or compressed IPv6) or ``None``. At least one of them is set.
    ``confidence`` is the dissector's own certainty in [0, 1] for this fact; ``None`` lets the resolver
    use the default confidence of the kind. ``peer_ip`` names the other end where the fact is about a
    conversation (a DICOM peer, an HL7 receiver, a TLS server name's address).
    """

    ts: float
    sensor: str
    kind: str
    value: str
    mac: str | None = None
    ip: str | None = None
    excerpt: str = ""
    confidence: float | None = None
    peer_ip: str | None = None
    source: str = "packet"
    #: How many sightings this observation stands for (a sensor may fold repeats of the same fact).
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (used by the bus and by golden tests)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        """Rebuild an Observation from :meth:`to_dict` output."""
        return cls(**data)

    def identity(self) -> tuple[str | None, str | None, str, str]:
        """The fields that make two observations "the same fact" (for idempotent evidence)."""
        return (self.mac, self.ip, self.kind, self.value)

"""Read MUD files (RFC 8520) into a small model: the device's policies as lists of ACEs.

Both ACL container spellings are accepted: RFC 8520's ``ietf-access-control-list:acls`` with ``acl`` and
``aces``/``ace``, and the draft/mudgee ``ietf-access-control-list:access-lists`` (same inner shape).
Unknown matches are kept as names in :attr:`Ace.unsupported` rather than refused (parsers collect and go
on); a file without the ``ietf-mud:mud`` container is a :class:`~wardwatch.errors.ParseError`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from wardwatch.errors import ParseError

ACL_KEYS = ("ietf-access-control-list:acls", "ietf-access-control-list:access-lists")
MAX_FILE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PortMatch:
    """RFC 8519 port-range-or-operator."""

    operator: str = "eq"
    port: int | None = None
    lower: int | None = None
    upper: int | None = None

    def matches(self, port: int) -> bool:
        """True when ``port`` satisfies the match."""
        if self.lower is not None and self.upper is not None:
            return self.lower <= port <= self.upper
        if self.port is None:
            return True
        return {"eq": port == self.port, "neq": port != self.port, "lte": port <= self.port,
                "gte": port >= self.port}.get(self.operator, False)


@dataclass(frozen=True, slots=True)
class Ace:
    """One access-control entry."""

    acl: str
    name: str
    version: int | None  # 4, 6 or None (not restricted)
    protocol: int | None = None
    src_net: str | None = None
    dst_net: str | None = None
    src_dnsname: str | None = None
    dst_dnsname: str | None = None
    src_port: PortMatch | None = None
    dst_port: PortMatch | None = None
    direction_initiated: str | None = None
    mud: Mapping[str, Any] = field(default_factory=dict)
    forwarding: str = "accept"
    unsupported: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MudProfile:
    """A parsed MUD file."""

    url: str
    systeminfo: str
    mfg_name: str
    model_name: str
    from_device: tuple[Ace, ...]
    to_device: tuple[Ace, ...]
    acl_key: str
    source: str = ""
    ace_count: int = 0  # ACEs in the ACL container, referenced by a policy or not


def _port(data: Any) -> PortMatch | None:
    if not isinstance(data, Mapping):
        return None
    if "lower-port" in data or "upper-port" in data:
        return PortMatch(lower=_int(data.get("lower-port")), upper=_int(data.get("upper-port")))
    return PortMatch(operator=str(data.get("operator", "eq")), port=_int(data.get("port")))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _net(value: Any, bad: list[str], name: str) -> str | None:
    """A prefix as text, or ``None``; a malformed one is recorded (the ACE then matches nothing)."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        bad.append(name)
        return None


def _text(value: Any, bad: list[str], name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    bad.append(name)
    return None


def _ace(acl: str, acl_type: str, data: Mapping[str, Any]) -> Ace:
    matches = data.get("matches") or {}
    if not isinstance(matches, Mapping):
        matches = {}
    version = 6 if "ipv6" in acl_type else 4 if "ipv4" in acl_type else None
    l3: Mapping[str, Any] = {}
    for key, v in (("ipv4", 4), ("ipv6", 6)):
        if isinstance(matches.get(key), Mapping):
            l3, version = matches[key], v
    l4_name = next((k for k in ("tcp", "udp", "icmp") if isinstance(matches.get(k), Mapping)), None)
    l4: Mapping[str, Any] = matches.get(l4_name, {}) if l4_name else {}
    protocol = _int(l3.get("protocol"))
    if protocol is None and l4_name:
        protocol = {"tcp": 6, "udp": 17, "icmp": 1 if version != 6 else 58}[l4_name]
    known = {"ipv4", "ipv6", "tcp", "udp", "icmp", "ietf-mud:mud", "eth"}
    bad: list[str] = []
    actions = data.get("actions") or {}
    forwarding = str(actions.get("forwarding", "accept")) if isinstance(actions, Mapping) else "accept"
    src_net = _net(l3.get(f"source-ipv{version}-network"), bad, "source-network") if version else None
    dst_net = _net(l3.get(f"destination-ipv{version}-network"), bad, "destination-network") if version else None
    src_dns = _text(l3.get("ietf-acldns:src-dnsname"), bad, "src-dnsname")
    dst_dns = _text(l3.get("ietf-acldns:dst-dnsname"), bad, "dst-dnsname")
    direction = _text(l4.get("ietf-mud:direction-initiated"), bad, "direction-initiated")
    if bad:
        forwarding = "malformed"  # an ACE we cannot read allows nothing (judged conservatively)
    return Ace(
        acl=acl, name=str(data.get("name", "")), version=version, protocol=protocol, src_net=src_net,
        dst_net=dst_net, src_dnsname=src_dns, dst_dnsname=dst_dns,
        src_port=_port(l4.get("source-port")), dst_port=_port(l4.get("destination-port")),
        direction_initiated=direction,
        mud=dict(matches.get("ietf-mud:mud") or {}) if isinstance(matches.get("ietf-mud:mud"), Mapping) else {},
        forwarding=forwarding.split(":")[-1], unsupported=tuple(sorted((set(matches) - known) | set(bad))),
    )


def _policy_names(mud: Mapping[str, Any], key: str) -> list[str]:
    """The ACL names a policy references (RFC 8520 §2.1: ``<key>/access-lists/access-list[]/name``).

    TypeError when the path holds something else than those containers and that list (the caller makes it
    a ParseError).
    """
    lists = ((mud.get(key) or {}).get("access-lists") or {}).get("access-list") or []
    if not isinstance(lists, list):
        raise TypeError(f"{key}/access-lists/access-list is a {type(lists).__name__}, not a list")
    return [str(item.get("name")) for item in lists if isinstance(item, Mapping)]


def parse_mud(data: Any, source: str = "") -> MudProfile:
    """A :class:`MudProfile` from decoded MUD JSON."""
    if not isinstance(data, Mapping) or not isinstance(data.get("ietf-mud:mud"), Mapping):
        raise ParseError(f"{source or 'MUD file'}: no ietf-mud:mud container")
    mud = data["ietf-mud:mud"]
    acl_key = next((k for k in ACL_KEYS if k in data), "")
    container = data.get(acl_key) or {}
    acls: dict[str, list[Ace]] = {}
    try:
        for acl in container.get("acl") or []:
            name = str(acl.get("name"))
            acl_type = str(acl.get("type", ""))
            entries = (acl.get("aces") or {}).get("ace") or []
            acls[name] = [_ace(name, acl_type, entry) for entry in entries if isinstance(entry, Mapping)]
    except (AttributeError, TypeError) as exc:
        raise ParseError(f"{source or 'MUD file'}: malformed ACL container ({exc})") from None

    def collect(key: str) -> tuple[Ace, ...]:
        return tuple(ace for name in _policy_names(mud, key) for ace in acls.get(name, ()))

    try:
        return MudProfile(url=str(mud.get("mud-url", "")), systeminfo=str(mud.get("systeminfo", "")),
                          mfg_name=str(mud.get("mfg-name", "")), model_name=str(mud.get("model-name", "")),
                          from_device=collect("from-device-policy"), to_device=collect("to-device-policy"),
                          acl_key=acl_key, source=source, ace_count=sum(len(a) for a in acls.values()))
    except (AttributeError, TypeError) as exc:
        raise ParseError(f"{source or 'MUD file'}: malformed policy references ({exc})") from None


def load_mud(path: Path) -> MudProfile:
    """Read and parse one MUD file."""
    raw = path.read_bytes()[: MAX_FILE + 1]
    if len(raw) > MAX_FILE:
        raise ParseError(f"{path}: larger than {MAX_FILE} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{path}: not JSON ({exc})") from None
    return parse_mud(data, str(path))


class MudLibrary:
    """MUD files on disk, found by their ``mud-url`` (how an announced URL is resolved offline)."""

    def __init__(self, folder: Path) -> None:
        self.profiles: dict[str, MudProfile] = {}
        self.errors: list[str] = []
        for path in sorted(folder.rglob("*.json")):
            try:
                profile = load_mud(path)
            except ParseError as exc:
                self.errors.append(str(exc))
                continue
            self.profiles.setdefault(profile.url, profile)

    def get(self, url: str) -> MudProfile | None:
        """The profile announced at ``url``."""
        return self.profiles.get(url.strip())


def schema() -> dict[str, Any]:
    """The JSON Schema of RFC 8520 MUD files shipped with wardwatch."""
    text = resources.files("wardwatch.prevent.mud").joinpath("mud.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def validate(document: Mapping[str, Any]) -> list[str]:
    """Schema errors of a MUD document (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]

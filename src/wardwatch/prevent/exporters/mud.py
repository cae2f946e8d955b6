"""RFC 8520 MUD files, one per device model: what devices of that model may do, as ACLs (RFC 8519).

For each model (the member's ``model`` attribute, else its zone), the rules whose source holds a member
become the from-device ACL and the rules whose destination holds a member the to-device ACL; each rule
is written twice, once for the opening packet and once, mirrored, for the replies, with
``ietf-mud:direction-initiated`` on TCP (RFC 8520 §5.1) as in the RFC's own example (§9). The peers
are written as addresses (``destination-ipv4-network``): a policy is site-specific, unlike a
manufacturer's MUD file, which would use names and abstractions. Every file validates against the
shipped JSON Schema of the YANG model (``prevent/mud/mud.schema.json``).
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from wardwatch.domain.policy import Member, Policy
from wardwatch.prevent.exporters.interface import ExportError, FamilyRule, by_family
from wardwatch.prevent.mud.profile import validate

BASE_URL = "https://mud.wardwatch.invalid"
_SLUG = re.compile(r"[^a-z0-9-]+")
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def slug(text: str) -> str:
    """File- and URL-safe name."""
    return _SLUG.sub("-", text.lower()).strip("-")[:48] or "device"


def _l4(fr: FamilyRule, *, reply: bool, initiated: str) -> dict[str, Any]:
    rule = fr.rule
    if rule.proto not in (6, 17):
        return {}
    name = "tcp" if rule.proto == 6 else "udp"
    body: dict[str, Any] = {}
    if rule.port:
        body["source-port" if reply else "destination-port"] = {"operator": "eq", "port": rule.port}
    if rule.proto == 6:
        body["ietf-mud:direction-initiated"] = initiated
    return {name: body}


def _ace(name: str, fr: FamilyRule, peer: Net, *, peer_is_dst: bool, reply: bool, initiated: str) -> dict[str, Any]:
    family = f"ipv{fr.version}"
    l3: dict[str, Any] = {f"{'destination' if peer_is_dst else 'source'}-{family}-network": str(peer)}
    if fr.rule.proto is not None:
        l3["protocol"] = fr.rule.proto
    return {"name": name[:64], "matches": {family: l3, **_l4(fr, reply=reply, initiated=initiated)},
            "actions": {"forwarding": "accept"}}


def _covers(net: Net, hosts: set[Net]) -> bool:
    """True when ``net`` holds one of the members' host prefixes."""
    return any(h.version == net.version and h.network_address in net for h in hosts)


def document(policy: Policy, model: str, members: list[Member], *, base_url: str = BASE_URL,
             now: float | None = None) -> dict[str, Any]:
    """The MUD document for the devices ``members`` of one model."""
    hosts = {ipaddress.ip_network(ip) for m in members for ip in m.ips}
    name = slug(model)
    aces: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for fr in by_family(policy):
        mine_src = any(_covers(n, hosts) for n in fr.src)
        mine_dst = any(_covers(n, hosts) for n in fr.dst)
        if mine_src:  # the device opens: from-device for the request, to-device for the replies
            for peer in fr.dst:
                index = len(aces[("fr", fr.version)])
                aces[("fr", fr.version)].append(_ace(f"cl{index}-frdev", fr, peer, peer_is_dst=True, reply=False,
                                                     initiated="from-device"))
                aces[("to", fr.version)].append(_ace(f"cl{index}-todev-reply", fr, peer, peer_is_dst=False,
                                                     reply=True, initiated="from-device"))
        if mine_dst:  # the device answers: to-device for the request, from-device for the replies
            for peer in fr.src:
                index = len(aces[("to", fr.version)])
                aces[("to", fr.version)].append(_ace(f"sv{index}-todev", fr, peer, peer_is_dst=False, reply=False,
                                                     initiated="to-device"))
                aces[("fr", fr.version)].append(_ace(f"sv{index}-frdev-reply", fr, peer, peer_is_dst=True,
                                                     reply=True, initiated="to-device"))
    acls, refs = [], {"fr": [], "to": []}  # type: ignore[var-annotated]
    for (way, version), entries in sorted(aces.items()):
        acl_name = f"mud-{name}-v{version}{way}"[:64]
        acls.append({"name": acl_name, "type": f"ipv{version}-acl-type", "aces": {"ace": entries}})
        refs[way].append({"name": acl_name})
    vendor = next((m.vendor for m in members if m.vendor), "")
    stamp = datetime.fromtimestamp(now if now is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    mud: dict[str, Any] = {
        "mud-version": 1, "mud-url": f"{base_url.rstrip('/')}/{name}.json", "last-update": stamp,
        "cache-validity": 48, "is-supported": True, "systeminfo": f"{model} ({policy.name} policy)"[:60],
        "model-name": model,
        "from-device-policy": {"access-lists": {"access-list": refs["fr"]}},
        "to-device-policy": {"access-lists": {"access-list": refs["to"]}},
    }
    if vendor:
        mud["mfg-name"] = vendor
    return {"ietf-mud:mud": mud, "ietf-access-control-list:acls": {"acl": acls}}


def models(policy: Policy) -> dict[str, list[Member]]:
    """Members grouped by model (the zone name when the model is unknown)."""
    out: dict[str, list[Member]] = defaultdict(list)
    for zone in policy.zones:
        for m in zone.members:
            if m.ips:
                out[m.model or zone.name].append(m)
    return dict(out)


class MudExporter:
    """Exporter ``mud``: ``<model>.mud.json`` per device model, each schema-validated."""

    name = "mud"

    def __init__(self, base_url: str = BASE_URL) -> None:
        self.base_url = base_url

    def render(self, policy: Policy) -> Mapping[str, str]:
        """One MUD file per model; raises :class:`ExportError` if one does not validate."""
        out = {}
        for model, members in sorted(models(policy).items()):
            doc = document(policy, model, members, base_url=self.base_url)
            errors = validate(doc)
            if errors:
                raise ExportError(f"MUD file for {model!r} does not validate: {errors[0]}")
            out[f"{slug(model)}.mud.json"] = json.dumps(doc, indent=2) + "\n"
        return out


EXPORTER = MudExporter()

"""Cisco IOS extended access lists (``ip access-list extended`` / ``ipv6 access-list``).

IOS ACLs are stateless, so:
* TCP replies pass with ``permit tcp any any established`` (matches segments with ACK or RST set: the
  classic IOS idiom; a new connection's SYN has neither, so it still needs an explicit permit);
* UDP replies get a mirrored line per rule (source port = the service port), ICMP rules a mirrored
  ``echo-reply`` line (the answer to a permitted ping);
* IPv6 lists permit neighbour discovery (``nd-na``, ``nd-ns``) before the final deny: IOS puts these
  implicit permits *before* its implicit deny, and an explicit ``deny ipv6 any any`` would shadow them.
Addresses: ``host A`` for a host, ``A W`` with a wildcard mask (inverse netmask) for a prefix. The list
ends with an explicit ``deny ... any any log`` so that denials are counted and logged (the implicit
deny at the end of every IOS ACL does not log).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from wardwatch.domain.policy import Policy
from wardwatch.prevent.exporters.interface import PROTO_NAMES, by_family, comment

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def address(net: Net) -> str:
    """IOS address: ``host 10.0.0.5``, ``10.1.0.0 0.0.255.255`` (v4), ``2001:db8::/64`` (v6)."""
    if net.prefixlen == net.max_prefixlen:
        return f"host {net.network_address}"
    if net.version == 4:
        return f"{net.network_address} {net.hostmask}"
    return str(net)


def acl_name(policy: Policy, version: int) -> str:
    """``WARDWATCH-<NAME>-V4``."""
    return f"WARDWATCH-{policy.name.upper()}-V{version}"


def render(policy: Policy, version: int) -> str:
    """The ACL of one family."""
    head = "ip access-list extended" if version == 4 else "ipv6 access-list"
    any_ip = "ip" if version == 4 else "ipv6"
    lines = [f"! wardwatch policy {policy.name}: IPv{version}, default deny", f"{head} {acl_name(policy, version)}",
             " remark replies of allowed TCP connections (ACK or RST set)", " permit tcp any any established"]
    for fr in by_family(policy):
        if fr.version != version:
            continue
        rule = fr.rule
        name = PROTO_NAMES.get(rule.proto, str(rule.proto)) if rule.proto is not None else any_ip
        if version == 6 and name == "icmpv6":
            name = "icmp"  # IOS spells ICMPv6 "icmp" inside an ipv6 access-list
        elif (version == 6 and name == "icmp" and rule.proto == 1) or (version == 4 and rule.proto == 58):
            continue
        port = f" eq {rule.port}" if rule.proto in (6, 17) and rule.port else ""
        lines.append(f" remark {comment(rule, 90)}")
        for src in fr.src:
            for dst in fr.dst:
                lines.append(f" permit {name} {address(src)} {address(dst)}{port}")
        if rule.proto == 17 and rule.port:
            for src in fr.src:
                for dst in fr.dst:
                    lines.append(f" permit udp {address(dst)} eq {rule.port} {address(src)}")
        if name == "icmp":
            for src in fr.src:
                for dst in fr.dst:
                    lines.append(f" permit icmp {address(dst)} {address(src)} echo-reply")
    if version == 6:
        lines += [" remark IPv6 neighbour discovery (IOS permits it implicitly only without an explicit deny)",
                  " permit icmp any any nd-na", " permit icmp any any nd-ns"]
    lines.append(f" deny {any_ip} any any log")
    return "\n".join(lines) + "\n"


class CiscoExporter:
    """Exporter ``cisco``: ``<policy>.ios.acl`` with the IPv4 and IPv6 lists."""

    name = "cisco"

    def render(self, policy: Policy) -> Mapping[str, str]:
        """Both lists in one file (paste into configuration mode)."""
        return {f"{policy.name}.ios.acl": render(policy, 4) + "!\n" + render(policy, 6)}


EXPORTER = CiscoExporter()

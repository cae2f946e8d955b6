"""iptables-restore / ip6tables-restore files (iptables-restore(8) format: ``*filter`` ... ``COMMIT``).

The FORWARD chain drops by default; conntrack (``-m conntrack --ctstate``) passes replies of allowed
connections; one ``-A FORWARD`` line per rule and family (``-s``/``-d`` take comma-separated lists).
"""

from __future__ import annotations

from collections.abc import Mapping

from wardwatch.domain.policy import Policy
from wardwatch.prevent.exporters.interface import PROTO_NAMES, by_family, comment


def render(policy: Policy, version: int) -> str:
    """The restore file for IPv4 (``version`` 4) or IPv6 (6)."""
    lines = [f"# wardwatch policy {policy.name} (IPv{version}); load with "
             f"{'iptables' if version == 4 else 'ip6tables'}-restore", "*filter",
             ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
             "-A FORWARD -m conntrack --ctstate INVALID -j DROP"]
    for fr in by_family(policy):
        if fr.version != version:
            continue
        rule = fr.rule
        parts = ["-A FORWARD", "-s " + ",".join(map(str, fr.src)), "-d " + ",".join(map(str, fr.dst))]
        if rule.proto is not None:
            name = PROTO_NAMES.get(rule.proto, str(rule.proto))
            if (name == "icmp" and version == 6) or (name == "icmpv6" and version == 4):
                continue
            parts.append(f"-p {name}")
            if rule.proto in (6, 17) and rule.port:
                parts.append(f"-m {name} --dport {rule.port}")
        parts.append(f'-m comment --comment "{comment(rule, 250)}" -j ACCEPT')
        lines.append(" ".join(parts))
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


class IptablesExporter:
    """Exporter ``iptables``: ``<policy>.rules.v4`` and ``<policy>.rules.v6``."""

    name = "iptables"

    def render(self, policy: Policy) -> Mapping[str, str]:
        """Both restore files."""
        return {f"{policy.name}.rules.v4": render(policy, 4), f"{policy.name}.rules.v6": render(policy, 6)}


EXPORTER = IptablesExporter()

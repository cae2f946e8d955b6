"""nftables ruleset for a Linux gateway (nft(8), "inet" family: one table for IPv4 and IPv6).

Forward chain with ``policy drop`` (default deny); connection tracking lets the replies of allowed
connections through (``ct state established,related accept``) and drops invalid packets; each rule then
accepts new connections from its sources to its destinations on its protocol/port.
"""

from __future__ import annotations

from collections.abc import Mapping

from wardwatch.domain.policy import Policy
from wardwatch.prevent.exporters.interface import PROTO_NAMES, by_family, comment, host_text

TABLE = "wardwatch"


def _set(items: tuple[object, ...]) -> str:
    texts = [host_text(n) for n in items]  # type: ignore[arg-type]
    return texts[0] if len(texts) == 1 else "{ " + ", ".join(texts) + " }"


def render_table(policy: Policy, table: str = TABLE) -> str:
    """The ``table inet <table> { ... }`` block."""
    lines = [f"table inet {table} {{",
             "\tchain forward {",
             "\t\ttype filter hook forward priority filter; policy drop;",
             "\t\tct state established,related accept",
             "\t\tct state invalid drop"]
    for fr in by_family(policy):
        rule = fr.rule
        family = "ip" if fr.version == 4 else "ip6"
        match = [f"{family} saddr {_set(fr.src)}", f"{family} daddr {_set(fr.dst)}"]
        if rule.proto in (6, 17) and rule.port:
            match.append(f"{PROTO_NAMES[rule.proto]} dport {rule.port}")
        elif rule.proto is not None:
            name = PROTO_NAMES.get(rule.proto, str(rule.proto))
            if (name == "icmp" and fr.version == 6) or (name == "icmpv6" and fr.version == 4):
                continue
            match.append(f"meta l4proto {name}")
        lines.append("\t\t" + " ".join(match) + f' accept comment "{comment(rule)}"')
    lines += [f'\t\tcounter comment "{policy.name}: default deny"', "\t}", "}"]
    return "\n".join(lines) + "\n"


def replace_script(policy: Policy, table: str = TABLE) -> str:
    """A script that replaces the table atomically (``nft -f`` applies one file as one transaction):
    create the table if missing, delete it, define it anew."""
    return f"table inet {table}\ndelete table inet {table}\n" + render_table(policy, table)


class NftablesExporter:
    """Exporter ``nftables``: ``<policy>.nft``."""

    name = "nftables"

    def render(self, policy: Policy) -> Mapping[str, str]:
        """One ``.nft`` file that ``nft -f`` loads (replacing an earlier wardwatch table)."""
        return {f"{policy.name}.nft": replace_script(policy)}


EXPORTER = NftablesExporter()

"""A small hand-written policy used by the exporter tests (golden files were checked by hand against it)."""

from __future__ import annotations

from wardwatch.domain.policy import Member, Policy, Rule, RuleOrigin, Zone

CT = Member(key="mac:02:00:00:00:00:10", ips=("10.10.1.10",), model="Revolution CT", vendor="GE Healthcare")
PACS = Member(key="mac:02:00:00:00:00:20", ips=("10.10.2.20", "2001:db8:2::20"), model="Enterprise Imaging")
DNS = Member(key="mac:02:00:00:00:00:53", ips=("10.10.0.53",), model="BIND")

POLICY = Policy(
    name="radiology",
    zones=(Zone("imaging_modality", (CT,), basis="class"),
           Zone("pacs_archive", (PACS,), basis="class"),
           Zone("infra", (DNS,), subnets=("10.10.0.0/24",), basis="manual")),
    rules=(
        Rule("imaging_modality", "pacs_archive", 6, 104, ("10.10.1.10/32",), ("10.10.2.20/32",), RuleOrigin.CLINICAL,
             "DICOM modality to PACS"),
        Rule("imaging_modality", "infra", 17, 53, ("10.10.1.10/32",), ("10.10.0.53/32",),
             RuleOrigin.INFRASTRUCTURE, "DNS"),
        Rule("infra", "pacs_archive", 1, 0, ("10.10.0.0/24",), (), RuleOrigin.MANUAL, "monitoring ping"),
        Rule("pacs_archive", "pacs_archive", 6, 443, ("2001:db8:2::/64",), ("2001:db8:2::20/128",),
             RuleOrigin.MANUAL, "replication"),
    ),
)

"""Which team owns an alert, and which notifiers it goes to (per team and severity), TLP respected.

Ownership: a device of a clinical class (``identify/data/taxonomy.toml`` group ``clinical``) belongs to
clinical engineering, anything else to IT, unless the site maps a class (or its parent) to another team.
An alert goes to every team owning one of its devices.

Delivery: each team has routes (a notifier with its recipient and a minimum severity). Every send passes
the TLP gate (FIRST TLP 2.0): an alert carrying ``details["tlp"]`` above GREEN only goes to recipients
the :class:`~wardwatch.intel.indicators.SharingPolicy` clears for that level; others are refused and
reported, never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wardwatch.alerting.notifiers.interface import Notifier, NotifyError
from wardwatch.domain.alert import Alert, Severity
from wardwatch.domain.device import Device
from wardwatch.identify.taxonomy import Taxonomy, default_taxonomy
from wardwatch.intel.indicators import SharingPolicy, Tlp, TlpError, may_share

log = logging.getLogger(__name__)

CLINICAL_ENGINEERING = "clinical-engineering"
IT = "it"


@dataclass(frozen=True, slots=True)
class Route:
    """One delivery path of a team."""

    notifier: Notifier
    recipient: str  # who receives (an address, a URL, a syslog collector): checked against TLP
    min_severity: Severity = Severity.LOW


@dataclass
class Routing:
    """Teams, their routes, and the class → team map."""

    routes: dict[str, list[Route]] = field(default_factory=dict)
    class_teams: dict[str, str] = field(default_factory=dict)
    sharing: SharingPolicy = field(default_factory=SharingPolicy)
    taxonomy: Taxonomy = field(default_factory=default_taxonomy)
    clinical_team: str = CLINICAL_ENGINEERING
    default_team: str = IT

    def team_of_class(self, device_class: str | None) -> str:
        """The team owning devices of ``device_class``."""
        if device_class:
            for name in self.taxonomy.lineage(device_class) or (device_class,):
                if name in self.class_teams:
                    return self.class_teams[name]
            found = self.taxonomy.get(device_class)
            if found is not None and found.clinical:
                return self.clinical_team
        return self.default_team

    def team_of(self, device: Device) -> str:
        """The team owning one device (an explicit ``owner`` attribute naming a team wins)."""
        owner = device.value("owner")
        if owner and owner in self.routes:
            return owner
        return self.team_of_class(device.value("device_class"))

    def teams_for(self, devices: Iterable[Device]) -> list[str]:
        """The owning teams of ``devices`` (sorted; the default team when there are none)."""
        teams = sorted({self.team_of(d) for d in devices})
        return teams or [self.default_team]

    def deliver(self, alert: Alert, teams: Sequence[str]) -> DeliveryReport:
        """Send ``alert`` through every route of ``teams`` its severity reaches, passing the TLP gate."""
        report = DeliveryReport()
        level = alert_tlp(alert)
        for team in teams:
            for route in self.routes.get(team, []):
                if alert.severity < route.min_severity:
                    continue
                target = f"{team}/{route.notifier.name}:{route.recipient}"
                try:
                    may_share(level, route.recipient, self.sharing)
                    route.notifier.send(alert)
                except TlpError as exc:
                    log.warning("alert %s not sent to %s: %s", alert.id, target, exc)
                    report.refused.append(f"{target}: {exc}")
                except NotifyError as exc:
                    log.warning("alert %s delivery to %s failed: %s", alert.id, target, exc)
                    report.failed.append(f"{target}: {exc}")
                else:
                    report.sent.append(target)
        return report


@dataclass
class DeliveryReport:
    """Where an alert went."""

    sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # TLP
    failed: list[str] = field(default_factory=list)


def alert_tlp(alert: Alert) -> Tlp:
    """The TLP of an alert (``details["tlp"]``, e.g. from the indicator that raised it); CLEAR when none."""
    return Tlp.parse(str(alert.details.get("tlp", ""))) or Tlp.CLEAR


def routing_from_config(config: Mapping[str, object], notifiers: Mapping[str, Notifier]) -> Routing:
    """A routing from the ``[alerting]`` settings table::

        [alerting.class_teams]
        pacs_archive = "imaging-it"
        [[alerting.routes]]
        team = "clinical-engineering"; notifier = "email"; recipient = "ce@hospital.example"; min_severity = "medium"
        [alerting.tlp]
        amber = ["soc@hospital.example"]; red = ["ciso@hospital.example"]
    """
    routing = Routing()
    class_teams = config.get("class_teams")
    if isinstance(class_teams, Mapping):
        routing.class_teams = {str(k): str(v) for k, v in class_teams.items()}
    routes = config.get("routes")
    for entry in routes if isinstance(routes, list) else []:
        if not isinstance(entry, Mapping) or str(entry.get("notifier")) not in notifiers:
            continue
        severity = Severity[str(entry.get("min_severity", "low")).upper()]
        routing.routes.setdefault(str(entry.get("team", IT)), []).append(
            Route(notifiers[str(entry["notifier"])], str(entry.get("recipient", "")), severity))
    tlp = config.get("tlp")
    if isinstance(tlp, Mapping):
        def names(key: str) -> frozenset[str]:
            value = tlp.get(key)
            return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()

        routing.sharing = SharingPolicy(names("amber"), names("amber_strict"), names("red"))
    return routing

"""The notifier contract and delivery to several notifiers at once (one failing does not stop others)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from wardwatch.domain.alert import Alert
from wardwatch.errors import WardwatchError

log = logging.getLogger(__name__)


class NotifyError(WardwatchError):
    """An alert could not be delivered."""


class Notifier(Protocol):
    """Delivers alerts somewhere."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raises :class:`NotifyError` on failure."""
        ...


def deliver(alert: Alert, notifiers: Iterable[Notifier]) -> list[str]:
    """Send ``alert`` through every notifier; returns the failures (``name: reason``)."""
    failures = []
    for notifier in notifiers:
        try:
            notifier.send(alert)
        except NotifyError as exc:
            log.warning("alert delivery through %s failed: %s", notifier.name, exc)
            failures.append(f"{notifier.name}: {exc}")
    return failures

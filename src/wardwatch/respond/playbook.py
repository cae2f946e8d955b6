"""Incident phases (NIST SP 800-61r2 §3) and playbooks per device class (data files in ``playbooks/``).

A playbook is a TOML file: ``name``, ``title``, the device ``classes`` it covers (a class's parent in the
taxonomy counts too), a ``priority`` (the most clinical playbook wins when an incident spans classes), and
``[[tasks]]`` each with a ``phase``, a ``key``, a ``title``, a ``kind`` (``clinical``, ``technical`` or
``notify``) and, for notifications, a ``template`` in ``templates/`` (``manufacturer``,
``clinical_lead``, ``authority``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from string import Template

from wardwatch.errors import ConfigError
from wardwatch.identify.taxonomy import default_taxonomy


class Phase(StrEnum):
    """The incident response life cycle of NIST SP 800-61r2 §3 (Figure 3-1), in order."""

    PREPARATION = "preparation"
    DETECTION_ANALYSIS = "detection_analysis"
    CONTAINMENT = "containment"
    ERADICATION_RECOVERY = "eradication_recovery"
    POST_INCIDENT = "post_incident"

    @property
    def label(self) -> str:
        """Human label as the NIST guide writes it."""
        return {"preparation": "Preparation", "detection_analysis": "Detection & Analysis",
                "containment": "Containment", "eradication_recovery": "Eradication & Recovery",
                "post_incident": "Post-Incident Activity"}[self.value]

    def next(self) -> Phase | None:
        """The following phase, or ``None`` after post-incident activity."""
        order = list(Phase)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


TASK_KINDS = ("clinical", "technical", "notify")


@dataclass(frozen=True, slots=True)
class PlaybookTask:
    """One step of a playbook."""

    phase: Phase
    key: str
    title: str
    kind: str
    template: str | None = None


@dataclass(frozen=True, slots=True)
class Playbook:
    """The tasks to run for incidents on one family of device classes."""

    name: str
    title: str
    classes: tuple[str, ...]
    priority: int
    tasks: tuple[PlaybookTask, ...]


def parse_playbook(text: str, origin: str) -> Playbook:
    """Read and check one playbook file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    tasks = []
    keys: set[str] = set()
    for i, raw in enumerate(data.get("tasks", [])):
        where = f"{origin}: tasks[{i}]"
        try:
            phase = Phase(raw.get("phase"))
        except ValueError:
            raise ConfigError(f"{where}.phase: one of {[p.value for p in Phase]}") from None
        if raw.get("kind") not in TASK_KINDS:
            raise ConfigError(f"{where}.kind: one of {list(TASK_KINDS)}")
        key, title = raw.get("key"), raw.get("title")
        if not isinstance(key, str) or not key or key in keys or not isinstance(title, str) or not title:
            raise ConfigError(f"{where}: a unique 'key' and a 'title' are required")
        keys.add(key)
        template = raw.get("template")
        if template is not None and template not in templates():
            raise ConfigError(f"{where}.template: unknown template {template!r}")
        tasks.append(PlaybookTask(phase, key, title, raw["kind"], template))
    name = data.get("name")
    if not isinstance(name, str) or not tasks:
        raise ConfigError(f"{origin}: 'name' and at least one task are required")
    return Playbook(name, str(data.get("title", name)), tuple(data.get("classes", ())), int(data.get("priority", 0)),
                    tuple(tasks))


@cache
def templates() -> dict[str, str]:
    """Notification templates shipped in ``respond/templates`` by name."""
    folder = resources.files("wardwatch.respond").joinpath("templates")
    return {p.name.removesuffix(".txt"): p.read_text("utf-8") for p in folder.iterdir() if p.name.endswith(".txt")}


@cache
def playbooks() -> dict[str, Playbook]:
    """The playbooks shipped in ``respond/playbooks`` by name."""
    folder = resources.files("wardwatch.respond").joinpath("playbooks")
    found = [parse_playbook(p.read_text("utf-8"), f"respond/playbooks/{p.name}")
             for p in folder.iterdir() if p.name.endswith(".toml")]
    return {p.name: p for p in found}


def playbook_for(device_classes: Iterable[str | None]) -> Playbook:
    """The playbook of the most clinical class among ``device_classes`` (``generic_it`` when none fits)."""
    books = playbooks()
    taxonomy = default_taxonomy()
    best = books["generic_it"]
    for device_class in device_classes:
        if not device_class:
            continue
        lineage = taxonomy.lineage(device_class) or (device_class,)
        for book in books.values():
            if set(lineage) & set(book.classes) and book.priority > best.priority:
                best = book
    return best


def render(template: str, **values: object) -> str:
    """A notification template with ``$placeholders`` filled (unknown ones are left as written)."""
    return Template(templates()[template]).safe_substitute({k: str(v) for k, v in values.items()})

"""The device taxonomy: classes, default clinical criticality, FDA product codes and labels.

The classes live in ``identify/data/taxonomy.toml`` (data, not code): clinical classes (infusion pumps,
monitors, ventilators, imaging modalities by DICOM modality, PACS, laboratory and point-of-care
analyzers, nurse call, dispensing ...) and IT/IoT classes (workstation, printer, IP phone, camera ...).
Each class has a human label, a group (``clinical``/``it``/``iot``), an optional parent, FDA product
classification codes where known (21 CFR parts 862-892) and a default :class:`Criticality`.

A site overrides criticality per class, per model or per device (:class:`CriticalityOverrides`); the
most specific override wins: device, then model, then class, then the taxonomy default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from wardwatch.errors import ConfigError


class Criticality(StrEnum):
    """Default clinical criticality of a device class, most critical first."""

    LIFE_SUSTAINING = "life_sustaining"
    LIFE_SUPPORTING = "life_supporting"
    DIAGNOSTIC = "diagnostic"
    NON_CLINICAL = "non_clinical"

    @property
    def rank(self) -> int:
        """0 for the most critical level, 3 for non-clinical (for sorting)."""
        return list(Criticality).index(self)


@dataclass(frozen=True, slots=True)
class DeviceClass:
    """One class of the taxonomy."""

    name: str
    label: str
    group: str
    criticality: Criticality
    parent: str | None = None
    fda_product_codes: tuple[str, ...] = ()
    dicom_modalities: tuple[str, ...] = ()

    @property
    def clinical(self) -> bool:
        """True for medical device classes."""
        return self.group == "clinical"


_GROUPS = frozenset({"clinical", "it", "iot"})


@dataclass(frozen=True)
class Taxonomy:
    """All device classes by name, and the DICOM modality index."""

    classes: Mapping[str, DeviceClass]
    by_modality: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "taxonomy") -> Taxonomy:
        """Build and validate a taxonomy from parsed TOML; errors name ``origin`` and the field."""
        raw = data.get("classes")
        if not isinstance(raw, Mapping) or not raw:
            raise ConfigError(f"{origin}: [classes] table missing or empty")
        classes: dict[str, DeviceClass] = {}
        modalities: dict[str, str] = {}
        for name, entry in raw.items():
            where = f"{origin}: classes.{name}"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where}: must be a table")
            try:
                crit = Criticality(entry.get("criticality", ""))
            except ValueError:
                raise ConfigError(f"{where}.criticality: one of {[c.value for c in Criticality]}") from None
            group = entry.get("group")
            if group not in _GROUPS:
                raise ConfigError(f"{where}.group: one of {sorted(_GROUPS)}")
            label = entry.get("label")
            if not isinstance(label, str) or not label:
                raise ConfigError(f"{where}.label: a non-empty string is required")
            codes = tuple(entry.get("fda_product_codes", ()))
            if not all(isinstance(c, str) and len(c) == 3 and c.isalpha() and c.isupper() for c in codes):
                raise ConfigError(f"{where}.fda_product_codes: three upper-case letters each")
            mods = tuple(str(m).upper() for m in entry.get("dicom_modalities", ()))
            for mod in mods:
                modalities[mod] = name
            classes[name] = DeviceClass(
                name=name, label=label, group=group, criticality=crit, parent=entry.get("parent"),
                fda_product_codes=codes, dicom_modalities=mods,
            )
        for dc in classes.values():
            if dc.parent is not None and dc.parent not in classes:
                raise ConfigError(f"{origin}: classes.{dc.name}.parent: unknown class {dc.parent!r}")
        return cls(classes=classes, by_modality=modalities)

    def __contains__(self, name: object) -> bool:
        return name in self.classes

    def get(self, name: str) -> DeviceClass | None:
        """The class called ``name`` or ``None``."""
        return self.classes.get(name)

    def lineage(self, name: str) -> tuple[str, ...]:
        """``name`` and its ancestors, nearest first (``("ct_scanner", "imaging_modality")``)."""
        out: list[str] = []
        current: str | None = name
        while current is not None and current in self.classes and current not in out:
            out.append(current)
            current = self.classes[current].parent
        return tuple(out)

    def class_for_modality(self, modality: str) -> str | None:
        """The class of a DICOM modality code (PS3.3 C.7.3.1.1.1): ``CT`` -> ``ct_scanner``."""
        return self.by_modality.get(modality.strip().upper())

    def label(self, name: str) -> str:
        """Human label of a class (the name itself when unknown)."""
        dc = self.classes.get(name)
        return dc.label if dc else name


@cache
def default_taxonomy() -> Taxonomy:
    """The taxonomy shipped in ``identify/data/taxonomy.toml`` (parsed once)."""
    text = resources.files("wardwatch.identify").joinpath("data/taxonomy.toml").read_text("utf-8")
    return Taxonomy.from_mapping(tomllib.loads(text), origin="identify/data/taxonomy.toml")


@dataclass(frozen=True)
class CriticalityOverrides:
    """A site's overrides: per device id, per model (case-insensitive) and per class."""

    by_device: Mapping[str, Criticality] = field(default_factory=dict)
    by_model: Mapping[str, Criticality] = field(default_factory=dict)
    by_class: Mapping[str, Criticality] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, str]]) -> CriticalityOverrides:
        """From ``{"device": {...}, "model": {...}, "class": {...}}`` (e.g. a settings TOML table).

        Raises :class:`ConfigError` naming the entry when a level is not a :class:`Criticality`.
        """
        unknown = set(data) - {"device", "model", "class"}
        if unknown:
            raise ConfigError(f"criticality overrides: unknown section(s) {sorted(unknown)}")

        def conv(section: str) -> dict[str, Criticality]:
            out: dict[str, Criticality] = {}
            for key, value in data.get(section, {}).items():
                try:
                    out[key.lower() if section == "model" else key] = Criticality(value)
                except ValueError:
                    raise ConfigError(f"criticality overrides: {section}.{key} = {value!r} is not a level "
                                      f"({', '.join(c.value for c in Criticality)})") from None
            return out

        return cls(by_device=conv("device"), by_model=conv("model"), by_class=conv("class"))


def criticality_for(
    device_class: str | None,
    model: str | None = None,
    overrides: CriticalityOverrides | Mapping[str, Mapping[str, str]] | None = None,
    *,
    device_id: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> Criticality:
    """The clinical criticality of one device.

    Precedence: a device override (``device_id``), a model override (case-insensitive), a class override
    (also inherited by subclasses), the taxonomy default of the class (or of its nearest ancestor), and
    ``non_clinical`` for an unknown or missing class.
    """
    tax = taxonomy or default_taxonomy()
    ov = (
        overrides
        if isinstance(overrides, CriticalityOverrides) or overrides is None
        else CriticalityOverrides.from_mapping(overrides)
    )
    if ov is not None:
        if device_id is not None and device_id in ov.by_device:
            return ov.by_device[device_id]
        if model and model.lower() in ov.by_model:
            return ov.by_model[model.lower()]
    lineage = tax.lineage(device_class) if device_class else ()
    if ov is not None:
        for name in lineage:
            if name in ov.by_class:
                return ov.by_class[name]
    if lineage:
        return tax.classes[lineage[0]].criticality
    return Criticality.NON_CLINICAL

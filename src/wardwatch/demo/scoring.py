"""Score wardwatch's classification of a demo capture against the generator's ground truth.

A truth device is joined to the inventory by MAC; a device the inventory only knows by address (a
statically addressed server whose MAC was never bound to its IP) is joined by IP. Per attribute
(device_class, vendor, model) and per class: precision = correct predictions of the class / all
predictions of it; recall = correct / all truth devices of it. A device left unclassified counts
against recall only. Vendors compare by their canonical key (``intel.normalize.vendor_key``: "GE
HealthCare" = "GE Healthcare"); models by token containment (``family_match``: "Alaris" is the family
of "Alaris PC Unit 8015").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wardwatch.domain.device import Device


@dataclass
class ClassScore:
    """Counts of one class."""

    truth: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float | None:
        """Correct / predicted (``None`` when the class was never predicted)."""
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float:
        """Correct / truth."""
        return self.correct / self.truth if self.truth else 0.0


@dataclass
class Scorecard:
    """Classification quality over one capture."""

    classes: dict[str, ClassScore] = field(default_factory=dict)
    devices: int = 0
    joined: int = 0
    vendor_correct: int = 0
    model_correct: int = 0
    misses: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)

    @property
    def macro_recall(self) -> float:
        """Mean recall over the classes of the truth."""
        present = [c for c in self.classes.values() if c.truth]
        return sum(c.recall for c in present) / len(present) if present else 0.0

    @property
    def macro_precision(self) -> float:
        """Mean precision over the classes that were predicted."""
        values = [c.precision for c in self.classes.values() if c.precision is not None]
        return sum(values) / len(values) if values else 0.0

    @property
    def accuracy(self) -> float:
        """Devices whose class is right / all truth devices."""
        return sum(c.correct for c in self.classes.values()) / self.devices if self.devices else 0.0


def join(truth: Sequence[Mapping[str, Any]], devices: Iterable[Device]
         ) -> list[tuple[Mapping[str, Any], Device | None]]:
    """Each truth device with its inventory device (by MAC, else by IP of a MAC-less device)."""
    by_mac: dict[str, Device] = {}
    by_ip: dict[str, Device] = {}
    for device in devices:
        if device.mac:
            by_mac[device.mac.lower()] = device
        else:
            for ip in device.ips:
                by_ip.setdefault(ip, device)
    return [(t, by_mac.get(str(t["mac"]).lower()) or by_ip.get(str(t["ip"]))) for t in truth]


def _vendor_ok(want: str, got: str | None) -> bool:
    from wardwatch.intel.normalize import vendor_key

    return bool(got) and vendor_key(want) == vendor_key(got or "")


def _model_ok(vendor: str, want: str, got: str | None) -> bool:
    from wardwatch.intel.normalize import family_match, product_tokens

    if not got:
        return False
    return family_match(product_tokens(want, vendor), product_tokens(got, vendor)) > 0


def score(truth: Sequence[Mapping[str, Any]], devices: Iterable[Device]) -> Scorecard:
    """The scorecard of ``devices`` (an inventory's) against the truth records of a demo capture."""
    card = Scorecard()
    for t, device in join(truth, devices):
        want = str(t["device_class"])
        got = device.value("device_class") if device is not None else None
        card.devices += 1
        card.joined += device is not None
        card.classes.setdefault(want, ClassScore()).truth += 1
        if got:
            card.classes.setdefault(got, ClassScore()).predicted += 1
        if got == want:
            card.classes[want].correct += 1
        else:
            card.misses[(str(t["catalogue_key"]), want, got)] += 1
        if device is not None:
            card.vendor_correct += _vendor_ok(str(t["vendor"]), device.value("vendor"))
            card.model_correct += _model_ok(str(t["vendor"]), str(t["model"]), device.value("model"))
    return card


def markdown(card: Scorecard) -> list[str]:
    """The per-class table and the summary lines."""
    lines = ["| class | precision | recall | n |", "|---|---|---|---|"]
    for name, c in sorted(card.classes.items()):
        if not c.truth:
            continue
        precision = "-" if c.precision is None else f"{c.precision:.2f}"
        lines.append(f"| {name} | {precision} | {c.recall:.2f} | {c.truth} |")
    lines += ["", f"Macro recall {card.macro_recall:.2f}, macro precision {card.macro_precision:.2f}; class accuracy "
                  f"{card.accuracy:.2f} ({card.devices} devices, {card.joined} found in the inventory); vendor right "
                  f"for {card.vendor_correct}, model (or its family) for {card.model_correct}."]
    return lines

"""Value types of the device catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Firmware:
    """A firmware/software version a model may run and what the advisory says about it.

    ``advisory`` is the ICSMA id whose product tree names this version (or a range containing it) as
    known_affected; ``None`` for versions outside every range we know of (fixed or never affected).
    """

    version: str
    advisory: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """One make and model, with how it shows itself on the network.

    ``ouis`` are IEEE-registered prefixes of the vendor (24-bit ``aa:bb:cc`` or 36-bit MA-S
    ``aa:bb:cc:dd:e``); ``dhcp`` names a client profile in ``traffic.dhcp.PROFILES`` (``None``: static
    address); ``behaviours`` name the traffic the generator makes it speak.
    """

    key: str
    device_class: str
    vendor: str
    model: str
    ouis: tuple[str, ...]
    os: str
    dhcp: str | None
    hostname: str
    firmware: tuple[Firmware, ...]
    behaviours: frozenset[str] = field(default_factory=frozenset)
    checked_advisories: tuple[str, ...] = ()
    modality: str | None = None
    ae_prefix: str | None = None
    dicom_impl: tuple[str, str] | None = None
    hl7_app: str | None = None
    cloud: str | None = None
    end_of_life: bool = False


def fw(*versions: str, advisory: str | None = None) -> tuple[Firmware, ...]:
    """Firmware entries sharing one advisory status."""
    return tuple(Firmware(v, advisory) for v in versions)


def b(*names: str) -> frozenset[str]:
    """A behaviour set."""
    return frozenset(names)

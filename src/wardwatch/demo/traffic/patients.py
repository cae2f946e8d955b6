"""Fictitious patients: obviously synthetic names and identifiers, never real people."""

from __future__ import annotations

import random
from dataclasses import dataclass

_GIVEN = ("ALEX", "SAM", "ROBIN", "KIM", "JORDAN", "TAYLOR", "CASEY", "MORGAN", "JAMIE", "RILEY")
_FAMILY = ("TESTPATIENT", "DEMOSON", "SAMPLEMAN", "FICTIVA", "PLACEHOLD", "MOCKINGTON")


@dataclass(frozen=True, slots=True)
class Patient:
    """A synthetic patient record used only inside generated HL7/DICOM/POCT payloads."""

    family: str
    given: str
    mrn: str
    birth_date: str
    sex: str

    @property
    def dicom_name(self) -> str:
        """PN value ``FAMILY^GIVEN``."""
        return f"{self.family}^{self.given}"


def patient(rng: random.Random) -> Patient:
    """A deterministic fictitious patient drawn from ``rng``."""
    return Patient(
        family=rng.choice(_FAMILY),
        given=rng.choice(_GIVEN),
        mrn=f"DEMO{rng.randrange(10**7):07d}",
        birth_date=f"19{rng.randrange(30, 99)}{rng.randrange(1, 13):02d}{rng.randrange(1, 28):02d}",
        sex=rng.choice("MF"),
    )

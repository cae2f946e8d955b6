"""CVSS vectors into scores with the ``cvss`` package (FIRST CVSS v3.0/v3.1 §7, v4.0 §8)."""

from __future__ import annotations

from wardwatch.domain.advisory import CvssScore


def score_from_vector(vector: str) -> CvssScore | None:
    """Base score and severity of a CVSS v3.x or v4.0 vector, or ``None`` when it does not parse."""
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4.0/"):
            v4 = CVSS4(vector)
            return CvssScore("4.0", v4.clean_vector(), float(v4.base_score), str(v4.severity).upper())
        if vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            v3 = CVSS3(vector)
            severity = str(v3.severities()[0]).upper()
            return CvssScore(vector[5:8], v3.clean_vector(), float(v3.base_score), severity)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return None

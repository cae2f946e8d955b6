"""Safe text and a de-duplicating, capped Observation emitter for the clinical-protocol dissectors.

The emitter cleans every value and excerpt (:func:`~wardwatch.dissect._wire.text.collapse`) and keeps at
most :data:`MAX_OBSERVATIONS` per flow. It only ever receives allow-listed header and device fields:
callers must never hand it a patient field (no PHI, ARCHITECTURE.md).
"""

from __future__ import annotations

from wardwatch.dissect._wire.emit import Emitter as _Emitter
from wardwatch.dissect._wire.text import MAX_RAW
from wardwatch.dissect._wire.text import collapse as clean
from wardwatch.dissect.interface import FlowContext

__all__ = ["MAX_OBSERVATIONS", "MAX_RAW", "Emitter", "clean"]

#: Most observations one flow may yield (a hostile peer cannot make us emit millions).
MAX_OBSERVATIONS = 512


class Emitter(_Emitter):
    """The shared emitter with values cleaned and at most :data:`MAX_OBSERVATIONS` per flow."""

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx, clean_values=True, limit=MAX_OBSERVATIONS)

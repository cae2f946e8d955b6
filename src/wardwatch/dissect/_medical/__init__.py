"""Private helpers of the clinical-protocol dissectors (dicom, hl7, sdc).

Not a public API. Holds the safe-text and de-duplicating emitter shared by those dissectors and the
DICOM SOP-class tables kept as data (``dicom_sop.toml``).
"""

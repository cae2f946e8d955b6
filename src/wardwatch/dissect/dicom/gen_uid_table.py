"""Write ``uid_table.json``: pydicom's and pynetdicom's answers for every UID they know.

Run ``python -m wardwatch.dissect.dicom.gen_uid_table`` after upgrading pydicom or pynetdicom;
tests/dissect/test_dicom_uids.py fails while the table and the installed libraries disagree. The UIDs
are those of pydicom's UID dictionary (PS3.6 Annex A) and the SOP classes pynetdicom defines; each row
is :func:`wardwatch.dissect.dicom.infer.library_facts` of the UID, so the table answers exactly what the
run-time fallback would.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

from wardwatch.dissect.dicom.infer import TABLE_FILE, UidFacts, library_facts

#: The command that writes the table (named in its header).
COMMAND = "python -m wardwatch.dissect.dicom.gen_uid_table"


def known_uids() -> list[str]:
    """Every UID the libraries know: pydicom's dictionary and pynetdicom's SOP class objects, sorted."""
    import pynetdicom.sop_class as sop
    from pydicom._uid_dict import UID_dictionary  # what pydicom.uid.UID.name and .keyword consult

    classes = (str(value) for value in vars(sop).values() if isinstance(value, sop.SOPClass))
    return sorted({*UID_dictionary, *classes})


def build() -> dict[str, UidFacts]:
    """UID → the libraries' answers, for every known UID."""
    return {uid: library_facts(uid) for uid in known_uids()}


def render(table: dict[str, UidFacts]) -> str:
    """The JSON text: a header saying how it was made, then one UID per line (readable diffs)."""
    note = f"by `{COMMAND}` from pydicom {version('pydicom')} and pynetdicom {version('pynetdicom')}"
    rows = ",\n".join(f"  {json.dumps(uid)}: {json.dumps(list(facts), ensure_ascii=False)}"
                      for uid, facts in table.items())
    return (f'{{\n "generated": {json.dumps(note + "; do not edit")},\n'
            f' "fields": {json.dumps(UidFacts._fields)},\n "uids": {{\n{rows}\n }}\n}}\n')


def main() -> None:
    """Regenerate the table next to :mod:`wardwatch.dissect.dicom.infer`."""
    path = Path(__file__).with_name(TABLE_FILE)
    table = build()
    path.write_text(render(table), encoding="utf-8")
    print(f"{path}: {len(table)} UIDs", file=sys.stderr)


if __name__ == "__main__":
    main()

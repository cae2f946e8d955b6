"""The shipped UID table says what pydicom and pynetdicom say, and dissecting DICOM does not import them.

``uid_table.json`` is checked against the installed libraries for every UID they know; the lookups of
:mod:`wardwatch.dissect.dicom.infer` answer the same through the table and through the library fallback;
a whole capture run on a DICOM association, in a fresh interpreter, leaves both libraries unimported
(and one naming a UID the table does not hold imports them, so the check can fail).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from pydicom.uid import UID
from pynetdicom.sop_class import uid_to_service_class

from tests.dissect.test_dicom_walks import CT_IMAGE, _associate_rq, _c_store_rq, _p_data, _pdv
from tests.support.streams import write_tcp_pcap
from wardwatch.dissect.dicom import gen_uid_table, infer

#: Well-formed UIDs no library knows (a private SOP class, an unassigned one under the storage root).
UNKNOWN = ("1.2.826.0.1.3680043.8.498.1", "1.2.840.10008.5.1.4.1.1.999")
#: Strings that are not UIDs (PS3.5 §9.1): answered without any lookup.
MALFORMED = ("", "not a uid", "1.02.3", "1..2", "1" * 65)

_LOOKUPS = (infer.sop_name, infer.modality_of, infer.service_of, infer.roles_of)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    def clear() -> None:
        infer.uid_table.cache_clear()
        for lookup in _LOOKUPS:
            lookup.cache_clear()

    clear()
    yield
    clear()


def test_table_matches_the_installed_libraries() -> None:
    expected = gen_uid_table.build()
    shipped = infer.uid_table()
    stale = sorted(uid for uid in expected.keys() | shipped.keys() if expected.get(uid) != shipped.get(uid))
    first = stale[0] if stale else ""
    assert not stale, (
        f"{infer.TABLE_FILE} disagrees with pydicom {version('pydicom')} / pynetdicom {version('pynetdicom')} "
        f"on {len(stale)} UIDs, e.g. {first}: table {shipped.get(first)} vs libraries {expected.get(first)}; "
        f"regenerate it with `{gen_uid_table.COMMAND}` and commit the result")
    assert len(shipped) > 400 and "1.2.840.10008.5.1.4.1.1.2" in shipped  # CT Image Storage


def _answers(uids: list[str]) -> list[tuple[object, ...]]:
    return [tuple(lookup(uid) for lookup in _LOOKUPS) for uid in uids]


def test_table_and_fallback_give_the_libraries_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    uids = [*gen_uid_table.known_uids(), *UNKNOWN, *MALFORMED]
    through_table = _answers(uids)
    for lookup in _LOOKUPS:
        lookup.cache_clear()
    monkeypatch.setattr(infer, "uid_table", dict)  # an empty table: every UID goes to the libraries
    assert _answers(uids) == through_table
    for uid, (name, _modality, service, _roles) in zip(uids, through_table, strict=True):
        if uid in MALFORMED:
            assert (name, service) == (uid, "")
        else:
            assert (name, service) == (UID(uid).name, uid_to_service_class(uid).__name__)
    assert through_table[uids.index("1.2.840.10008.5.1.4.1.1.2")][:3] == (
        "CT Image Storage", ("CT", True), "StorageServiceClass")


_ANALYZE = """
import json, sys
from pathlib import Path
from wardwatch.capture import process_capture
from wardwatch.dissect.registry import Registry
from wardwatch.pipeline.collect import DissectingSink
sink = DissectingSink(Registry.from_entry_points())
process_capture(Path(sys.argv[1]), sink)
print(json.dumps({
    "facts": sorted({(o.kind, o.value) for o in sink.observations if o.kind.startswith("dicom.")}),
    "excerpts": sorted({o.excerpt for o in sink.observations if o.kind == "dicom.command"}),
    "imported": sorted(m for m in ("pydicom", "pynetdicom") if m in sys.modules),
}))
"""


def _analyze(tmp_path: Path, client: bytes) -> dict[str, list[object]]:
    """Run the capture pipeline (all dissectors) on one association in a fresh interpreter."""
    capture = tmp_path / "association.pcap"
    write_tcp_pcap(capture, [(True, client)], server=("10.0.0.2", 104))
    done = subprocess.run([sys.executable, "-c", _ANALYZE, str(capture)], capture_output=True, text=True,
                          check=True)
    result: dict[str, list[object]] = json.loads(done.stdout)
    return result


def test_analyzing_an_association_does_not_import_pydicom(tmp_path: Path) -> None:
    client = _associate_rq(b"CT_SCANNER", b"PACS", CT_IMAGE) + _p_data(_pdv(1, 0x03, _c_store_rq()))
    result = _analyze(tmp_path, client)
    assert ["dicom.modality", "CT"] in result["facts"] and ["dicom.role", "pacs_archive"] in result["facts"]
    assert result["excerpts"] == ["C-STORE-RQ CT Image Storage"]
    assert result["imported"] == []


def test_a_uid_the_table_lacks_is_asked_of_the_libraries(tmp_path: Path) -> None:
    result = _analyze(tmp_path, _associate_rq(b"VIEWER", b"PACS", UNKNOWN[0].encode()))
    assert ["dicom.proposed_sop", UNKNOWN[0]] in result["facts"]
    assert result["imported"] == ["pydicom", "pynetdicom"]

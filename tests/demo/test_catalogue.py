"""The catalogue speaks the identify taxonomy's class names and cites advisories that exist."""

from __future__ import annotations

import json

from tests.conftest import require_shared
from wardwatch.demo.catalogue import CATALOGUE
from wardwatch.identify.taxonomy import default_taxonomy


def test_classes_are_taxonomy_classes() -> None:
    classes = set(default_taxonomy().classes)
    assert {m.device_class for m in CATALOGUE.values()} <= classes


def test_advisories_exist_and_name_the_vendor() -> None:
    folder = require_shared("csaf-icsma")
    ids = {}
    for f in folder.glob("*.json"):
        doc = json.loads(f.read_text(encoding="utf-8"))["document"]
        ids[doc["tracking"]["id"]] = doc["title"]
    cited = {fw.advisory for m in CATALOGUE.values() for fw in m.firmware if fw.advisory}
    cited |= {a for m in CATALOGUE.values() for a in m.checked_advisories}
    assert cited <= set(ids), cited - set(ids)
    assert len(cited) >= 20

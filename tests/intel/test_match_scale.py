"""Matching groups devices by (vendor, model, version) and matches each distinct triple once."""

from __future__ import annotations

from tests.intel.conftest import make_device
from wardwatch.domain.advisory import Advisory
from wardwatch.intel.interface import Problem
from wardwatch.intel.match import Matcher, Triple


def test_devices_grouped_by_triple(icsma: tuple[list[Advisory], list[Problem]]) -> None:
    advisories, _ = icsma
    conds = [(c.vendor, c.product, c.version) for a in advisories for v in a.vulnerabilities for c in v.conditions]
    triples = [Triple(v, p, ver) for v, p, ver in conds[:40]] + [Triple("Acme", f"Model {i}", "1.0") for i in range(10)]
    devices = [make_device(i, t.vendor, t.model, t.version) for i, t in enumerate(triples * 400)]  # 20 000
    matcher = Matcher(advisories)
    findings = matcher.match_devices(devices)
    assert len(matcher._cache) == len(set(triples))
    per_device: dict[object, int] = {}
    for f in findings:
        per_device[f.device_id] = per_device.get(f.device_id, 0) + 1
    for device in devices[:50]:
        expected = len(
            Matcher(advisories).match_triple(
                Triple(device.value("vendor") or "", device.value("model") or "", device.value("firmware"))
            )
        )
        assert per_device.get(device.id, 0) == expected
    assert all(per_device.get(d.id, 0) == 0 for d in devices if d.value("vendor") == "Acme")

"""Must show 2: importing a newer advisory (a CSAF file not yet in the knowledge base) that names a model
present in the inventory raises exactly one early-warning alert listing exactly the affected devices.

Expected devices come from reading ICSMA-20-317-01 by hand (and tests/intel/test_handchecked.py): BD Alaris
PC Unit Model 8015 versions up to 9.33.1 are affected, 9.33.2 is not.
"""

from __future__ import annotations

from tests.conftest import require_shared
from wardwatch.alerting.lifecycle import AlertDesk
from wardwatch.alerting.routing import CLINICAL_ENGINEERING, Routing
from wardwatch.detect.early_warning import ADVISORY_RULE, EarlyWarning
from wardwatch.domain.observation import Observation
from wardwatch.intel.service import import_paths
from wardwatch.intel.store import KnowledgeBase
from wardwatch.inventory import Inventory

T0 = 1_700_000_000.0


def _device(mac: str, ip: str, vendor: str, model: str, firmware: str, device_class: str) -> list[Observation]:
    facts = {"vendor": vendor, "model": model, "firmware": firmware, "device_class": device_class}
    return [Observation(ts=T0, sensor="s1", kind=f"manual.{k}", value=v, mac=mac, ip=ip, confidence=1.0,
                        source="manual", excerpt="asset register") for k, v in facts.items()]


def test_new_advisory_raises_one_alert_with_exactly_the_affected_devices(inventory: Inventory) -> None:
    obs = _device("00:0a:0b:00:00:01", "10.2.0.1", "BD", "Alaris PC Unit Model 8015", "9.33.1", "infusion_pump")
    obs += _device("00:0a:0b:00:00:02", "10.2.0.2", "Becton Dickinson", "Alaris PC Unit Model 8015", "9.33.1",
                   "infusion_pump")
    obs += _device("00:0a:0b:00:00:03", "10.2.0.3", "BD", "Alaris PC Unit Model 8015", "9.33.2", "infusion_pump")
    obs += _device("00:0a:0b:00:00:04", "10.2.0.4", "Philips", "IntelliVue MX40 Patient Worn Monitor (WLAN only)",
                   "B.06.17", "patient_monitor")
    inventory.ingest(obs, source="asset register")
    kb = KnowledgeBase(inventory.engine)
    import_paths(kb, [require_shared("csaf-icsma", "icsma-17-255-01.json")])  # already known: no alert later
    desk = AlertDesk(inventory.engine, Routing())
    warning = EarlyWarning(inventory, desk, kb=kb)

    report, raised = warning.import_and_warn([require_shared("csaf-icsma", "icsma-20-317-01.json")], T0 + 10)

    assert len(report.imported) == 1 and not report.rejected
    alerts = [v for v in desk.views() if v.alert.rule == ADVISORY_RULE]
    assert len(alerts) == 1 and len(raised) == 1
    affected = {inventory.get_device("00:0a:0b:00:00:01").key, inventory.get_device("00:0a:0b:00:00:02").key}
    assert set(alerts[0].alert.devices) == affected
    assert set(alerts[0].alert.details["affected"]) == affected
    assert alerts[0].alert.details["advisory"].upper() == "ICSMA-20-317-01"
    assert alerts[0].teams == (CLINICAL_ENGINEERING,)  # infusion pumps belong to clinical engineering

    # the same file again: nothing new, still exactly one alert
    _report, again = warning.import_and_warn([require_shared("csaf-icsma", "icsma-20-317-01.json")], T0 + 20)
    assert again == []
    assert len([v for v in desk.views() if v.alert.rule == ADVISORY_RULE]) == 1

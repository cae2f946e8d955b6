"""Security-culture register: who must attend by role, who has, reminders when overdue, completion."""

from __future__ import annotations

from wardwatch.inventory import Inventory
from wardwatch.training.register import DAY, TrainingRegister, completion_by_role

T0 = 1_700_000_000.0


def test_reminders_and_completion(sqlite_url: str) -> None:
    with Inventory.open(sqlite_url) as inventory:
        register = TrainingRegister(inventory.engine)
        register.add_programme("phishing", "Phishing awareness", ["nurse", "clinical-engineer"], validity_days=365,
                               grace_days=30, now=T0)
        register.add_programme("med-device-sec", "Medical device security", ["clinical-engineer"],
                               validity_days=None, grace_days=60, now=T0)
        register.add_person("Ann", "nurse", email="ann@h.example", joined_at=T0)
        register.add_person("Ben", "nurse", joined_at=T0)
        register.add_person("Cat", "clinical-engineer", joined_at=T0)
        register.add_person("Dan", "porter", joined_at=T0)  # no programme requires porters
        register.add_session("phishing", T0 + 10 * DAY, trainer="CISO", attendees=["Ann", "Cat"])

        assert register.reminders(T0 + 20 * DAY) == []  # everyone is within the grace period
        overdue = register.reminders(T0 + 31 * DAY)
        assert [(r.person, r.programme) for r in overdue] == [("Ben", "phishing")]
        assert {(r.person, r.programme) for r in register.reminders(T0 + 61 * DAY)} == {
            ("Ben", "phishing"), ("Cat", "med-device-sec")}
        # a year after the session the phishing completion lapses for Ann and Cat
        lapsed = {(r.person, r.programme) for r in register.reminders(T0 + 10 * DAY + 366 * DAY)}
        assert lapsed == {("Ann", "phishing"), ("Ben", "phishing"), ("Cat", "phishing"), ("Cat", "med-device-sec")}

        figures = {c.role: (c.current, c.required, c.percent) for c in completion_by_role(inventory.engine,
                                                                                           T0 + 40 * DAY)}
        assert figures == {"nurse": (1, 2, 50.0), "clinical-engineer": (1, 2, 50.0)}

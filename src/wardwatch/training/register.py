"""The security-culture register: programmes, sessions, who must attend by role, who has, who is overdue.

A programme names the roles that must complete it, how long a completion stays valid (``validity_days``,
``None``: forever) and the grace period a newcomer has (``grace_days`` after joining). A person is
*current* for a programme when they attended one of its sessions within the validity, *overdue* when not
current and past their grace period. All of it is computed against a clock passed in.
:func:`completion_by_role` is the figure the manager dashboard shows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.training.tables import training_attendance, training_people, training_programmes, training_sessions

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Reminder:
    """Someone is overdue for a programme."""

    person: str
    email: str | None
    role: str
    programme: str
    title: str
    due_since: float
    last_completed: float | None


@dataclass(frozen=True, slots=True)
class RoleCompletion:
    """How many of the people who must complete programmes of a role are current."""

    role: str
    required: int  # person × programme pairs
    current: int

    @property
    def percent(self) -> float:
        """Share current, 0-100 (100 when nothing is required)."""
        return 100.0 if self.required == 0 else round(100.0 * self.current / self.required, 1)


class TrainingRegister:
    """Programmes, people, sessions and attendance in the inventory database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add_programme(self, code: str, title: str, roles: Iterable[str], *, description: str = "",
                      validity_days: int | None = 365, grace_days: int = 30, now: float | None = None) -> int:
        """Create (or update) a programme; returns its id."""
        values = {"code": code[:64], "title": title[:300], "description": description, "roles": sorted(set(roles)),
                  "validity_days": validity_days, "grace_days": grace_days}
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(training_programmes.c.id).where(training_programmes.c.code == code)).scalar()
            if found is not None:
                conn.execute(training_programmes.update().where(training_programmes.c.id == found), values)
                return int(found)
            return int(conn.execute(training_programmes.insert().returning(training_programmes.c.id),
                                    {**values, "created_at": time.time() if now is None else now}).scalar_one())

    def add_person(self, name: str, role: str, *, email: str | None = None, department: str | None = None,
                   joined_at: float | None = None) -> int:
        """Register a member of staff (or update their role)."""
        values = {"name": name[:200], "role": role[:64], "email": email, "department": department, "active": True}
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(training_people.c.id).where(training_people.c.name == name)).scalar()
            if found is not None:
                conn.execute(training_people.update().where(training_people.c.id == found), values)
                return int(found)
            return int(conn.execute(training_people.insert().returning(training_people.c.id),
                                    {**values, "joined_at": time.time() if joined_at is None else joined_at}
                                    ).scalar_one())

    def add_session(self, programme: str, held_at: float, *, trainer: str = "", location: str = "",
                    attendees: Iterable[str] = ()) -> int:
        """Record a session of a programme and who attended it."""
        with self.engine.begin() as conn:
            pid = conn.execute(sa.select(training_programmes.c.id)
                               .where(training_programmes.c.code == programme)).scalar()
            if pid is None:
                raise NotFoundError(f"no training programme {programme!r}")
            sid = int(conn.execute(training_sessions.insert().returning(training_sessions.c.id), {
                "programme_id": pid, "held_at": held_at, "trainer": trainer[:200], "location": location[:200]}
            ).scalar_one())
        self.attend(sid, attendees, completed_at=held_at)
        return sid

    def attend(self, session_id: int, people: Iterable[str], *, completed_at: float) -> None:
        """Mark people as having completed a session."""
        names = list(people)
        if not names:
            return
        with self.engine.begin() as conn:
            ids = dict(conn.execute(sa.select(training_people.c.name, training_people.c.id)
                                    .where(training_people.c.name.in_(names))).all())
            missing = [n for n in names if n not in ids]
            if missing:
                raise WardwatchError(f"unknown people: {', '.join(missing)}")
            for name in names:
                conn.execute(training_attendance.delete().where(training_attendance.c.session_id == session_id,
                                                                training_attendance.c.person_id == ids[name]))
                conn.execute(training_attendance.insert(), {"session_id": session_id, "person_id": ids[name],
                                                            "completed_at": completed_at})

    def status(self, now: float) -> list[tuple[str, str, str, bool, float | None, float]]:
        """``(person, role, programme, current, last_completed, due_since)`` for every required pair."""
        with self.engine.connect() as conn:
            programmes = conn.execute(sa.select(training_programmes)).all()
            people = conn.execute(sa.select(training_people).where(training_people.c.active.is_(True))).all()
            last: dict[tuple[int, int], float] = {}
            rows = conn.execute(sa.select(training_attendance.c.person_id, training_sessions.c.programme_id,
                                          sa.func.max(training_attendance.c.completed_at))
                                .join(training_sessions, training_sessions.c.id == training_attendance.c.session_id)
                                .group_by(training_attendance.c.person_id, training_sessions.c.programme_id))
            for person_id, programme_id, completed in rows:
                last[(person_id, programme_id)] = float(completed)
        out = []
        for prog in programmes:
            for person in people:
                if person.role not in prog.roles:
                    continue
                done = last.get((person.id, prog.id))
                valid = prog.validity_days * DAY if prog.validity_days is not None else None
                current = done is not None and (valid is None or now - done <= valid)
                grace_end = person.joined_at + prog.grace_days * DAY
                due = (done + valid) if (done is not None and valid is not None) else grace_end
                out.append((person.name, person.role, prog.code, current, done, due))
        return out

    def reminders(self, now: float) -> list[Reminder]:
        """Everyone overdue at ``now`` (not current and past the due date), most overdue first."""
        with self.engine.connect() as conn:
            emails = dict(conn.execute(sa.select(training_people.c.name, training_people.c.email)).all())
            titles = dict(conn.execute(sa.select(training_programmes.c.code, training_programmes.c.title)).all())
        out = [Reminder(name, emails.get(name), role, code, titles[code], due, done)
               for name, role, code, current, done, due in self.status(now) if not current and due < now]
        return sorted(out, key=lambda r: (r.due_since, r.person))


def completion_by_role(engine: sa.Engine, now: float | None = None) -> list[RoleCompletion]:
    """Per role: required person×programme pairs and how many are current (for the manager dashboard)."""
    moment = time.time() if now is None else now
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _name, role, _code, current, _done, _due in TrainingRegister(engine).status(moment):
        totals[role][0] += 1
        totals[role][1] += int(current)
    return [RoleCompletion(role, req, cur) for role, (req, cur) in sorted(totals.items())]

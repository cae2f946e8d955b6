"""Baselines in the database: save, load the latest, record a person's accept/reject."""

from __future__ import annotations

import time
from dataclasses import asdict

import sqlalchemy as sa

from wardwatch.errors import NotFoundError
from wardwatch.prevent import tables as t
from wardwatch.prevent.baseline import Baseline, BaselineEntry, BaselineMode, EntryState


class BaselineStore:
    """Reads and writes :class:`Baseline` objects."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def save(self, baseline: Baseline) -> int:
        """Store ``baseline`` (a new row, or replace the entries of its own row) and return its id."""
        header = {"created_at": baseline.created_at, "updated_at": baseline.updated_at,
                  "window_start": baseline.window_start, "window_end": baseline.window_end,
                  "window_days": baseline.window_days, "mode": str(baseline.mode)}
        with self.engine.begin() as conn:
            if baseline.id is None:
                baseline.id = int(conn.execute(sa.insert(t.baselines).returning(t.baselines.c.id), header)
                                  .scalar_one())
            else:
                conn.execute(sa.update(t.baselines).where(t.baselines.c.id == baseline.id).values(**header))
                conn.execute(sa.delete(t.baseline_entries).where(t.baseline_entries.c.baseline_id == baseline.id))
            rows = []
            for entry in baseline.entries.values():
                row = asdict(entry)
                row.pop("id")
                row["state"] = str(entry.state)
                row["baseline_id"] = baseline.id
                rows.append(row)
            if rows:
                conn.execute(sa.insert(t.baseline_entries), rows)
        return baseline.id

    def latest(self) -> Baseline | None:
        """The most recently created baseline, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.baselines).order_by(t.baselines.c.id.desc()).limit(1)).first()
            if row is None:
                return None
            baseline = Baseline(window_start=row.window_start, window_end=row.window_end,
                                window_days=row.window_days, mode=BaselineMode(row.mode),
                                created_at=row.created_at, updated_at=row.updated_at, id=row.id)
            query = sa.select(t.baseline_entries).where(t.baseline_entries.c.baseline_id == row.id)
            for r in conn.execute(query):
                data = dict(r._mapping)
                data.pop("baseline_id")
                data["state"] = EntryState(data["state"])
                entry = BaselineEntry(**data)
                baseline.entries[entry.key] = entry
            return baseline

    def decide(self, entry_id: int, state: EntryState, person: str) -> None:
        """A person accepts or rejects one learned entry (kept across re-learning)."""
        if not person.strip():
            raise ValueError("a decision needs the person's name")
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(t.baseline_entries).where(t.baseline_entries.c.id == entry_id)
                                .values(state=str(state), decided_by=person.strip()[:128], decided_at=time.time()))
            if done.rowcount == 0:
                raise NotFoundError(f"no baseline entry {entry_id}")

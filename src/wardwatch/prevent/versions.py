"""Policy versions: store, diff, approve (a named person) and roll back in one step.

Numbers grow per policy name. At most one version of a name is ``active``: approving a version makes it
active and the one before ``superseded``; :meth:`PolicyVersions.rollback` makes the active version
``rolled_back`` and re-activates the most recent superseded one.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from wardwatch.domain.policy import Policy, PolicyDiff, PolicyVersion, VersionStatus, diff_policies
from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.prevent import tables as t

DEFAULT_NAME = "default"


class PolicyVersions:
    """The versions of the policies in the database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, policy: Policy, *, author: str = "wardwatch", note: str = "") -> PolicyVersion:
        """Store ``policy`` as the next draft version of its name."""
        table = t.policy_versions
        with self.engine.begin() as conn:
            last = conn.execute(sa.select(sa.func.max(table.c.number)).where(table.c.name == policy.name)).scalar()
            number = int(last or 0) + 1
            created = time.time()
            conn.execute(sa.insert(table), {"name": policy.name, "number": number, "status": VersionStatus.DRAFT,
                                            "body": policy.to_dict(), "created_at": created,
                                            "author": author[:128], "note": note[:500]})
        return PolicyVersion(policy, number, VersionStatus.DRAFT, created, author, note=note)

    def get(self, number: int | None = None, name: str = DEFAULT_NAME) -> PolicyVersion:
        """Version ``number`` of ``name`` (default: the newest)."""
        table = t.policy_versions
        query = sa.select(table).where(table.c.name == name)
        query = query.where(table.c.number == number) if number is not None else query.order_by(
            table.c.number.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no policy {name!r} version {number if number is not None else '(any)'}")
        return _version(row)

    def list(self, name: str = DEFAULT_NAME) -> list[PolicyVersion]:
        """All versions of ``name``, oldest first."""
        table = t.policy_versions
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(table.c.name == name).order_by(table.c.number))
            return [_version(r) for r in rows]

    def active(self, name: str = DEFAULT_NAME) -> PolicyVersion | None:
        """The version in force, if any."""
        return next((v for v in self.list(name) if v.status == VersionStatus.ACTIVE), None)

    def diff(self, old: int, new: int, name: str = DEFAULT_NAME) -> PolicyDiff:
        """What changes from version ``old`` to ``new``."""
        return diff_policies(self.get(old, name).policy, self.get(new, name).policy)

    def approve(self, number: int, approver: str, name: str = DEFAULT_NAME) -> PolicyVersion:
        """``approver`` approves version ``number``: it becomes active, the previous one superseded."""
        if not approver.strip():
            raise WardwatchError("approval needs the approver's name")
        table = t.policy_versions
        self.get(number, name)
        with self.engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.name == name, table.c.status == VersionStatus.ACTIVE)
                         .values(status=VersionStatus.SUPERSEDED))
            conn.execute(sa.update(table).where(table.c.name == name, table.c.number == number)
                         .values(status=VersionStatus.ACTIVE, approved_by=approver.strip()[:128],
                                 approved_at=time.time()))
        return self.get(number, name)

    def rollback(self, name: str = DEFAULT_NAME) -> PolicyVersion:
        """Re-activate the version that was active before the current one."""
        versions = self.list(name)
        current = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
        if current is None:
            raise WardwatchError(f"policy {name!r} has no active version to roll back")
        earlier = [v for v in versions if v.status == VersionStatus.SUPERSEDED and v.number < current.number]
        if not earlier:
            raise WardwatchError(f"policy {name!r} has no earlier approved version")
        previous = earlier[-1]
        table = t.policy_versions
        with self.engine.begin() as conn:
            conn.execute(sa.update(table).where(table.c.name == name, table.c.number == current.number)
                         .values(status=VersionStatus.ROLLED_BACK))
            conn.execute(sa.update(table).where(table.c.name == name, table.c.number == previous.number)
                         .values(status=VersionStatus.ACTIVE))
        return self.get(previous.number, name)


def _version(row: sa.Row[tuple[object, ...]]) -> PolicyVersion:
    m = row._mapping
    return PolicyVersion(policy=Policy.from_dict(m["body"]), number=m["number"], status=VersionStatus(m["status"]),
                         created_at=m["created_at"], author=m["author"], approved_by=m["approved_by"],
                         approved_at=m["approved_at"], note=m["note"])

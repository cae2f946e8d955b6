"""The enforcement-point contract: dry-run first, a named approver to apply, one-step rollback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from wardwatch.domain.policy import Policy
from wardwatch.errors import WardwatchError


class EnforcementError(WardwatchError):
    """The enforcement point refused the change or could not be reached; nothing was changed."""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What an apply (or its dry run) did or would do."""

    point: str
    dry_run: bool
    approver: str
    payload: str
    previous: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


class EnforcementPoint(Protocol):
    """Something that enforces a policy."""

    name: str

    def apply(self, policy: Policy, *, approver: str, dry_run: bool = True) -> ApplyResult:
        """Apply ``policy`` (only checked and shown when ``dry_run``)."""
        ...

    def rollback(self, *, approver: str) -> ApplyResult:
        """Restore what was in force before the last apply."""
        ...


def require_approver(approver: str) -> str:
    """The approver's name, or an error: nothing is enforced without a named person."""
    name = approver.strip()
    if not name:
        raise EnforcementError("applying a policy needs a named approver (--approver NAME)")
    return name

"""Value types of a demo run: what to do (options), what each step did, and the whole outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import platformdirs

#: Devices of the default demo hospital: mid-size, ready in well under a minute on two cores.
DEFAULT_DEVICES = 400
DEFAULT_SEED = 2024


def default_workdir() -> Path:
    """``<user data dir>/wardwatch/demo``: where the demo keeps its capture and its database."""
    return Path(platformdirs.user_data_dir("wardwatch")) / "demo"


class StepStatus(StrEnum):
    """How a step ended."""

    done = "done"
    skipped = "skipped"  # the capability is not installed/built yet; the note says which
    failed = "failed"


@dataclass(slots=True)
class StepResult:
    """One step of the demo: its status, a one-line note, its figures and its duration."""

    name: str
    status: StepStatus
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What ``wardwatch demo`` should prepare.

    ``database_url`` ``None`` means a fresh SQLite file in ``workdir`` (recreated on every run, so the
    demo never mixes with a real inventory); ``password`` ``None`` means a random password per account.
    """

    workdir: Path = field(default_factory=default_workdir)
    devices: int = DEFAULT_DEVICES
    seed: int = DEFAULT_SEED
    database_url: str | None = None
    password: str | None = None
    intel_cache: Path | None = None
    rounds: int = 10

    @property
    def capture(self) -> Path:
        """The generated capture."""
        return self.workdir / f"hospital-{self.devices}-s{self.seed}.pcapng"

    @property
    def owns_database(self) -> bool:
        """True when the demo created the database itself (and may recreate it)."""
        return self.database_url is None

    def resolved_database_url(self) -> str:
        """The database the demo writes to."""
        return self.database_url or f"sqlite:///{self.workdir / 'demo.db'}"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A login created for the demo."""

    username: str
    role: str
    password: str
    departments: tuple[str, ...] = ()


@dataclass(slots=True)
class DemoResult:
    """Everything a demo run prepared."""

    database_url: str
    capture: Path
    steps: list[StepResult] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)

    def step(self, name: str) -> StepResult | None:
        """The result of the step called ``name``."""
        return next((s for s in self.steps if s.name == name), None)

    @property
    def ok(self) -> bool:
        """True when no step failed (skipped capabilities are fine)."""
        return all(s.status != StepStatus.failed for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (``wardwatch demo --no-serve --json``)."""
        return {
            "database_url": self.database_url,
            "capture": str(self.capture),
            "ok": self.ok,
            "steps": [{**asdict(s), "status": s.status.value, "seconds": round(s.seconds, 3)} for s in self.steps],
            "accounts": [asdict(a) for a in self.accounts],
        }


class Reporter(Protocol):
    """What the caller hears while the demo prepares (the CLI draws progress bars from it)."""

    def begin(self, name: str, total: int | None) -> None:
        """A step starts; ``total`` is the size of its progress (``None``: unknown)."""

    def advance(self, done: int, total: int) -> None:
        """Progress of the current step."""

    def end(self, result: StepResult) -> None:
        """A step ended."""


class SilentReporter:
    """A reporter that says nothing."""

    def begin(self, name: str, total: int | None) -> None:
        """Ignored."""

    def advance(self, done: int, total: int) -> None:
        """Ignored."""

    def end(self, result: StepResult) -> None:
        """Ignored."""


ProgressFn = Callable[[int, int], None]

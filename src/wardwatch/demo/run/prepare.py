"""Prepare the demo hospital: generate → analyze → asset register → intel → risk and plan → detect → accounts.

Generation and analysis are the core and must work; an optional capability that is missing is a
*skipped* step, and one that raises is a *failed* step with its error in the note, while the remaining
steps still run so the dashboard shows whatever could be prepared.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from wardwatch.demo.advisories import advisory_files
from wardwatch.demo.run import capabilities, steps
from wardwatch.demo.run.accounts import create_accounts
from wardwatch.demo.run.model import DemoOptions, DemoResult, Reporter, SilentReporter, StepResult, StepStatus

log = logging.getLogger(__name__)


def _timed(reporter: Reporter, name: str, total: int | None, fn: Callable[[], StepResult],
           *, optional: bool) -> StepResult:
    reporter.begin(name, total)
    began = time.perf_counter()
    try:
        result = fn()
    except Exception as exc:
        if not optional:
            raise
        log.warning("demo step %s failed: %s", name, type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        result = StepResult(name, StepStatus.failed, f"{type(exc).__name__}: {str(exc)[:200]}")
    result.seconds = time.perf_counter() - began
    reporter.end(result)
    return result


def _fresh_sqlite(options: DemoOptions) -> None:
    """Remove the demo's own SQLite file (and its WAL/SHM companions) so every run starts clean."""
    db = options.workdir / "demo.db"
    for path in (db, db.with_name("demo.db-wal"), db.with_name("demo.db-shm"), db.with_name("demo.db-journal")):
        path.unlink(missing_ok=True)


def default_intel_cache() -> Path:
    """Where ``wardwatch intel update`` keeps its downloads (``<user cache dir>/wardwatch/intel``)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("wardwatch")) / "intel"


def prepare_demo(options: DemoOptions, reporter: Reporter | None = None) -> DemoResult:
    """Prepare everything the demo dashboard shows; see the module docstring for the steps."""
    from wardwatch.settings import Settings

    reporter = reporter or SilentReporter()
    options.workdir.mkdir(parents=True, exist_ok=True)
    if options.owns_database:
        _fresh_sqlite(options)
    url = options.resolved_database_url()
    result = DemoResult(url, options.capture)
    result.steps.append(_timed(reporter, "generate", options.rounds,
                               lambda: steps.generate(options, reporter.advance), optional=False))
    inventory = steps.open_inventory(url)
    try:
        analyzed = _timed(reporter, "analyze", None,
                          lambda: steps.analyze(inventory, options.capture, reporter.advance), optional=False)
        result.steps.append(analyzed)
        if analyzed.status == StepStatus.failed:
            return result
        result.steps.append(_timed(reporter, "assets", None,
                                   lambda: steps.import_assets(inventory, options.capture), optional=True))
        cache = options.intel_cache or default_intel_cache()
        holder: list[object] = [None]

        def intel() -> StepResult:
            step, holder[0] = capabilities.import_intel(inventory, advisory_files(), cache)
            return step

        result.steps.append(_timed(reporter, "intel", None, intel, optional=True))
        settings = Settings.load({"database_url": url})
        result.steps.append(_timed(reporter, "risk", None,
                                   lambda: capabilities.evaluate_risk(inventory, holder[0], settings),
                                   optional=True))
        result.steps.append(_timed(reporter, "detect", None,
                                   lambda: capabilities.detect(inventory, options.capture), optional=True))

        def accounts() -> StepResult:
            result.accounts = create_accounts(inventory.engine, options.password)
            return StepResult("accounts", StepStatus.done, f"{len(result.accounts)} demo accounts, one per role",
                              {"accounts": len(result.accounts)})

        result.steps.append(_timed(reporter, "accounts", None, accounts, optional=False))
    finally:
        inventory.close()
    return result

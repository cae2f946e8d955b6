"""A Linux gateway enforced with nftables (nft(8)): atomic replace, previous ruleset kept for rollback.

``nft -f`` applies a whole file as one netlink transaction (all or nothing), so the wardwatch table is
replaced with ``table inet T`` (create if missing) + ``delete table inet T`` + the new definition in one
file: there is no moment without a table. Before replacing, the table in force (``nft list table``) is
saved under the state folder; :meth:`NftablesGateway.rollback` loads it back the same atomic way (or
removes the table if there was none). Every script is first checked with ``nft -c -f`` (parse and
kernel validation, no change). ``netns`` runs nft inside a network namespace (``ip netns exec``).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from wardwatch.domain.policy import Policy
from wardwatch.prevent.enforce.interface import ApplyResult, EnforcementError, require_approver
from wardwatch.prevent.exporters.nftables import TABLE, replace_script

TIMEOUT = 30


class NftablesGateway:
    """Enforcement point ``nftables``."""

    name = "nftables"

    def __init__(self, state_dir: Path, *, netns: str | None = None, table: str = TABLE, nft: str = "nft") -> None:
        self.state_dir = state_dir
        self.netns = netns
        self.table = table
        self.nft = nft

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, self.nft, *args]

    def _run(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(self._cmd(*args), input=script, capture_output=True, text=True, timeout=TIMEOUT,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnforcementError(f"cannot run nft: {exc}") from None

    def current(self) -> str | None:
        """The wardwatch table in force (``nft list table``), or ``None`` when there is none."""
        done = self._run("list", "table", "inet", self.table)
        return done.stdout if done.returncode == 0 else None

    def check(self, script: str) -> None:
        """``nft -c -f -``: parse and validate without changing anything."""
        done = self._run("-c", "-f", "-", script=script)
        if done.returncode != 0:
            raise EnforcementError(f"nft refused the ruleset: {done.stderr.strip()[:500]}")

    def _load(self, script: str) -> None:
        done = self._run("-f", "-", script=script)
        if done.returncode != 0:
            raise EnforcementError(f"nft could not load the ruleset: {done.stderr.strip()[:500]}")

    @property
    def _saved(self) -> Path:
        return self.state_dir / f"nft-{self.netns or 'host'}-{self.table}.previous.json"

    def apply(self, policy: Policy, *, approver: str, dry_run: bool = True) -> ApplyResult:
        """Check, then (not a dry run) save the table in force and replace it atomically."""
        who = require_approver(approver)
        script = replace_script(policy, self.table)
        self.check(script)
        previous = self.current()
        if dry_run:
            return ApplyResult(self.name, True, who, script, previous, ("dry run: checked with nft -c, not applied",))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._saved.write_text(json.dumps({"table": previous, "saved_at": time.time(), "approver": who,
                                           "policy": policy.name}), encoding="utf-8")
        self._load(script)
        return ApplyResult(self.name, False, who, script, previous)

    def rollback(self, *, approver: str) -> ApplyResult:
        """Load the table saved by the last apply (one step back)."""
        who = require_approver(approver)
        if not self._saved.exists():
            raise EnforcementError("nothing to roll back: no saved ruleset")
        saved = json.loads(self._saved.read_text(encoding="utf-8"))
        previous: str | None = saved.get("table")
        script = f"table inet {self.table}\ndelete table inet {self.table}\n" + (previous or "")
        self.check(script)
        replaced = self.current()
        self._load(script)
        self._saved.unlink()
        return ApplyResult(self.name, False, who, script, replaced, ("rolled back",))

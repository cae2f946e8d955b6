"""Enforcement points: apply an approved policy (dry-run by default) and roll back in one step."""

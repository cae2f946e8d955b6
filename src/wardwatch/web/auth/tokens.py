"""API tokens: random secrets shown once, stored only as a SHA-256 digest (hashed at rest)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "ww_"


def new_token() -> str:
    """A fresh token: ``ww_`` and 43 URL-safe characters (256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The digest stored for ``token`` (high-entropy secrets need no slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)

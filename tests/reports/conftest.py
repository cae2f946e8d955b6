"""The report tests use the web tests' prepared inventory and clients."""

from tests.web.conftest import api, app, session_for, tokens, world

__all__ = ["api", "app", "session_for", "tokens", "world"]

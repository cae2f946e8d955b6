"""Who is asking, and may they: sessions, API tokens, CSRF and login throttling for the web layer.

* Browser: a signed session cookie (itsdangerous via Starlette's SessionMiddleware; HttpOnly,
  SameSite=Lax, Secure when served over TLS) holding the user id and a CSRF token.
* API: ``Authorization: Bearer <token>``; tokens are hashed at rest, scoped and revocable.
* CSRF: every state-changing browser request carries the session's token in a form field ``csrf_token``
  or the ``X-CSRF-Token`` header (htmx sends it); token-authenticated API calls need none.
* Throttling: after 5 failed sign-ins for one user name or client address within 15 minutes, further
  attempts are refused until the window passes.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from wardwatch.web.auth.roles import DEPARTMENT_SCOPED, Permission, allowed
from wardwatch.web.auth.store import AccessStore, User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginThrottle:
    """Counts failed sign-ins per key (user name, client address) in a sliding window."""

    def __init__(self, limit: int = 5, window: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        entries = self._failures[key]
        cutoff = self.clock() - self.window
        while entries and entries[0] < cutoff:
            entries.popleft()
        return entries

    def blocked(self, *keys: str) -> bool:
        """True when any key has reached the limit of failures in the window."""
        return any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        """Record one failure for each key."""
        now = self.clock()
        for key in keys:
            self._recent(key).append(now)

    def succeed(self, *keys: str) -> None:
        """Forget the failures of each key."""
        for key in keys:
            self._failures.pop(key, None)


def access_store(request: Request) -> AccessStore:
    """The access store of the running application."""
    store: AccessStore = request.app.state.access
    return store


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request) -> User | None:
    """The signed-in user (session) or token holder, or None for anonymous requests."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    store = access_store(request)
    token = _bearer(request)
    user: User | None = None
    if token is not None:
        user = store.user_for_token(token)
        request.state.via_token = user is not None
    else:
        user_id = request.session.get("uid")
        if isinstance(user_id, int):
            try:
                user = store.get_user(user_id)
            except Exception:
                user = None
            if user is not None and user.disabled:
                user = None
        request.state.via_token = False
    request.state.user = user
    return user


async def current_user(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The authenticated user; 401 for the API without credentials, a redirect to /login for pages."""
    if user is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required",
                                headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/login"})
    if request.method not in SAFE_METHODS and not getattr(request.state, "via_token", False):
        form_value = None
        if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form_value = await _form_csrf(request)
        _check_csrf(request, form_value)
    return user


async def _form_csrf(request: Request) -> str | None:
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def _check_csrf(request: Request, form_value: str | None) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or form_value
    if not expected or not given or not secrets.compare_digest(str(expected), str(given)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


def require(permission: Permission) -> Callable[[User], User]:
    """A dependency that admits users whose role (and token scopes) hold ``permission``."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not allowed(user.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role may not {permission.value}")
        if user.token_scopes is not None and permission.value not in user.token_scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"token scope lacks {permission.value}")
        return user

    check.permission = permission  # type: ignore[attr-defined]  # read by routes.declared_permission
    return check


def department_scope(user: User) -> tuple[str, ...] | None:
    """The departments a user is limited to, or None for unrestricted roles."""
    return user.departments if user.role in DEPARTMENT_SCOPED else None

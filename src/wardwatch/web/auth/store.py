"""Users, tokens, dashboards and the audit log: the persistence of access control.

Every change a person makes goes through :meth:`AccessStore.audit` (issue 5: "every change by a person
is written to an audit log").
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wardwatch.errors import NotFoundError, WardwatchError
from wardwatch.web.auth import tables as t
from wardwatch.web.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from wardwatch.web.auth.roles import Role
from wardwatch.web.auth.tokens import new_token, token_digest

#: Seconds: how precisely an API token's "last used" time is kept.
LAST_USED_RESOLUTION = 60.0


@dataclass(frozen=True, slots=True)
class User:
    """A person (or a service account) who can sign in or hold tokens."""

    id: int
    username: str
    role: Role
    departments: tuple[str, ...] = ()
    disabled: bool = False
    token_scopes: frozenset[str] | None = None  # set when authenticated by an API token


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as listed (never its secret)."""

    id: int
    user_id: int
    name: str
    scopes: tuple[str, ...]
    created_at: float
    revoked_at: float | None


class AccessStore:
    """Reads and writes users, tokens, dashboards and audit entries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        """Create the access tables where migrations have not (idempotent)."""
        t.auth_metadata.create_all(self.engine)

    # -- users ---------------------------------------------------------------------------------------
    def add_user(self, username: str, role: Role, password: str | None, departments: Iterable[str] = (),
                 actor: str = "cli") -> User:
        """Create a user; the password must be at least MIN_PASSWORD_LENGTH characters."""
        if not username or len(username) > 128:
            raise WardwatchError("a user name must have 1 to 128 characters")
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise WardwatchError(f"a password must have at least {MIN_PASSWORD_LENGTH} characters")
        depts = tuple(sorted({d.strip() for d in departments if d.strip()}))
        with self.engine.begin() as conn:
            if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
                raise WardwatchError(f"user {username!r} exists already")
            user_id = conn.execute(t.users.insert().values(
                username=username, role=role.value, disabled=False, created_at=time.time(),
                password_hash=hash_password(password) if password is not None else None,
            )).inserted_primary_key[0]  # type: ignore[index]
            if depts:
                conn.execute(t.user_departments.insert(), [{"user_id": user_id, "department": d} for d in depts])
            self._audit(conn, actor, "user.add", username, {"role": role.value, "departments": list(depts)})
        return User(int(user_id), username, role, depts)

    def sign_in_oidc(self, subject: str, username: str, role: Role, departments: Sequence[str]) -> User:
        """The user of an OIDC ``subject`` (created on first sign-in), with the role and departments of
        this sign-in's claims; audited. A local account of the same name is never taken over: the new
        user gets a free name (``name-2`` ...) instead."""
        depts = tuple(sorted({d for d in departments if d}))
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.oidc_subject == subject)).first()
            if row is None:
                name, n = username, 1
                while conn.execute(sa.select(t.users.c.id).where(t.users.c.username == name)).first():
                    n += 1
                    name = f"{username[:120]}-{n}"
                user_id = int(conn.execute(t.users.insert().values(
                    username=name, role=role.value, disabled=False, created_at=time.time(), password_hash=None,
                    oidc_subject=subject)).inserted_primary_key[0])  # type: ignore[index]
                self._audit(conn, "oidc", "user.add", name, {"role": role.value, "departments": list(depts),
                                                             "subject": subject})
            else:
                user_id = int(row.id)
                old = conn.execute(sa.select(t.user_departments.c.department)
                                   .where(t.user_departments.c.user_id == user_id)).scalars().all()
                if row.role != role.value or tuple(sorted(old)) != depts:
                    conn.execute(t.users.update().where(t.users.c.id == user_id).values(role=role.value))
                    self._audit(conn, "oidc", "user.update", row.username,
                                {"role": role.value, "departments": list(depts)})
            conn.execute(t.user_departments.delete().where(t.user_departments.c.user_id == user_id))
            if depts:
                conn.execute(t.user_departments.insert(), [{"user_id": user_id, "department": d} for d in depts])
        return self.get_user(user_id)

    def set_password(self, username: str, password: str, actor: str) -> None:
        """Replace a user's password."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise WardwatchError(f"a password must have at least {MIN_PASSWORD_LENGTH} characters")
        with self.engine.begin() as conn:
            done = conn.execute(t.users.update().where(t.users.c.username == username)
                                .values(password_hash=hash_password(password))).rowcount
            if not done:
                raise NotFoundError(f"no user {username!r}")
            self._audit(conn, actor, "user.password", username, None)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches and the account is enabled, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        if row is None or row.disabled or not row.password_hash:
            hash_password("timing-equaliser")  # similar work for unknown users
            return None
        if not verify_password(row.password_hash, password):
            return None
        return self.get_user(int(row.id))

    def get_user(self, user_id: int) -> User:
        """A user by id (NotFoundError when absent)."""
        with self.engine.connect() as conn:
            return self._user(conn, user_id)

    @staticmethod
    def _user(conn: sa.Connection, user_id: int) -> User:
        row = conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        depts = conn.execute(sa.select(t.user_departments.c.department)
                             .where(t.user_departments.c.user_id == user_id)).scalars().all()
        return User(int(row.id), row.username, Role(row.role), tuple(sorted(depts)), bool(row.disabled))

    def get_by_name(self, username: str) -> User:
        """A user by name (NotFoundError when absent)."""
        with self.engine.connect() as conn:
            user_id = conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).scalar()
        if user_id is None:
            raise NotFoundError(f"no user {username!r}")
        return self.get_user(int(user_id))

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(t.users.c.id).order_by(t.users.c.username)).scalars().all()
        return [self.get_user(int(i)) for i in ids]

    # -- tokens --------------------------------------------------------------------------------------
    def create_token(self, username: str, name: str = "api", scopes: Sequence[str] = (), actor: str = "cli"
                     ) -> str:
        """A new API token for ``username``; the secret is returned once and stored hashed."""
        user = self.get_by_name(username)
        token = new_token()
        with self.engine.begin() as conn:
            conn.execute(t.api_tokens.insert().values(
                user_id=user.id, name=name[:128], digest=token_digest(token), scopes=",".join(scopes),
                created_at=time.time(),
            ))
            self._audit(conn, actor, "token.create", username, {"name": name, "scopes": list(scopes)})
        return token

    def revoke_token(self, token_id: int, actor: str) -> None:
        """Revoke a token (it stops working at once)."""
        with self.engine.begin() as conn:
            done = conn.execute(t.api_tokens.update().where(t.api_tokens.c.id == token_id)
                                .values(revoked_at=time.time())).rowcount
            if not done:
                raise NotFoundError(f"no token {token_id}")
            self._audit(conn, actor, "token.revoke", str(token_id), None)

    def list_tokens(self, username: str | None = None) -> list[TokenInfo]:
        """Tokens (of one user, or all), newest first."""
        query = sa.select(t.api_tokens).order_by(t.api_tokens.c.id.desc())
        if username is not None:
            query = query.where(t.api_tokens.c.user_id == self.get_by_name(username).id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [TokenInfo(r.id, r.user_id, r.name, tuple(s for s in r.scopes.split(",") if s), r.created_at,
                          r.revoked_at) for r in rows]

    def user_for_token(self, token: str) -> User | None:
        """The user a valid, unrevoked token belongs to (with the token's scopes), else None."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.api_tokens).where(t.api_tokens.c.digest == token_digest(token))).first()
            if row is None or row.revoked_at is not None:
                return None
            now = time.time()
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                # at most one write per token per minute: a busy API client must not serialise on it
                conn.execute(t.api_tokens.update().where(t.api_tokens.c.id == row.id).values(last_used_at=now))
            user = self._user(conn, int(row.user_id))  # same connection: one checkout per API request
        if user.disabled:
            return None
        scopes = frozenset(s for s in row.scopes.split(",") if s)
        return User(user.id, user.username, user.role, user.departments, user.disabled, scopes or None)

    # -- dashboards ----------------------------------------------------------------------------------
    def dashboard(self, user_id: int) -> list[dict[str, Any]] | None:
        """The saved widget layout of a user, or None for the role default."""
        with self.engine.connect() as conn:
            layout = conn.execute(sa.select(t.dashboards.c.layout).where(t.dashboards.c.user_id == user_id)).scalar()
        return list(layout) if layout is not None else None

    def save_dashboard(self, user: User, layout: list[dict[str, Any]]) -> None:
        """Save a user's widget layout."""
        with self.engine.begin() as conn:
            conn.execute(t.dashboards.delete().where(t.dashboards.c.user_id == user.id))
            conn.execute(t.dashboards.insert().values(user_id=user.id, layout=layout, updated_at=time.time()))
            self._audit(conn, user.username, "dashboard.save", user.username, {"widgets": len(layout)})

    def reset_dashboard(self, user: User) -> None:
        """Forget a user's layout (back to the role default)."""
        with self.engine.begin() as conn:
            conn.execute(t.dashboards.delete().where(t.dashboards.c.user_id == user.id))
            self._audit(conn, user.username, "dashboard.reset", user.username, None)

    # -- audit ---------------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
        """Write one audit entry."""
        with self.engine.begin() as conn:
            self._audit(conn, actor, action, target, detail)

    def audit_entries(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest audit entries."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def _audit(conn: sa.Connection, actor: str, action: str, target: str, detail: dict[str, Any] | None) -> None:
        conn.execute(t.audit_log.insert().values(ts=time.time(), actor=actor[:128], action=action,
                                                 target=target[:256], detail=detail))

"""One demo login per role, with a random password per run unless one is given."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from wardwatch.demo.run.model import DemoAccount

#: (user name, role, departments): every role of ``web.auth.roles.Role``; the clinician sees one unit.
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("demo-admin", "admin", ()),
    ("demo-analyst", "security_analyst", ()),
    ("demo-network", "it_network", ()),
    ("demo-biomed", "biomed", ()),
    ("demo-manager", "manager", ()),
    ("demo-clinician", "clinician", ("ICU",)),
)


def random_password() -> str:
    """A fresh password (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


def create_accounts(engine: sa.Engine, password: str | None) -> list[DemoAccount]:
    """Create (or reset the password of) the demo accounts; returns them with their passwords."""
    from wardwatch.errors import NotFoundError
    from wardwatch.web.auth.roles import Role
    from wardwatch.web.auth.store import AccessStore

    store = AccessStore(engine)
    store.create_schema()
    out = []
    for username, role, departments in DEMO_USERS:
        secret = password or random_password()
        try:
            store.get_by_name(username)
        except NotFoundError:
            store.add_user(username, Role(role), secret, departments, actor="demo")
        else:
            store.set_password(username, secret, actor="demo")
        out.append(DemoAccount(username, role, secret, departments))
    return out

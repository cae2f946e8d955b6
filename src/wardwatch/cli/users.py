"""``wardwatch user add`` and ``wardwatch token create|list|revoke``: people and API access."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from wardwatch.cli.common import DbOption, console, fail, settings_for

user_app = typer.Typer(help="Local user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (hashed at rest, scoped, revocable).", no_args_is_help=True)


def _store(ctx: typer.Context, db: str | None):  # type: ignore[no-untyped-def]
    from wardwatch.web.auth.store import AccessStore
    from wardwatch.web.services import open_engine

    store = AccessStore(open_engine(settings_for(ctx, db).database_url))
    store.create_schema()
    return store


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin, security_analyst, it_network, biomed, manager, clinician.")],
    department: Annotated[list[str] | None, typer.Option(help="A department the user belongs to (repeat).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Create a local user."""
    from wardwatch.web.auth.roles import Role

    try:
        parsed = Role(role)
    except ValueError:
        fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", code=2)
    if not password_stdin:
        fail("give the password on stdin with --password-stdin", code=2)
    password = sys.stdin.readline().rstrip("\r\n")
    user = _store(ctx, db).add_user(name, parsed, password, department or ())
    console.print(Text(f"user {user.username} ({user.role.value}) created"))


@user_app.command("list")
def user_list(ctx: typer.Context, db: DbOption = None) -> None:
    """List users."""
    table = Table("id", "user", "role", "departments")
    for u in _store(ctx, db).list_users():
        table.add_row(str(u.id), Text(u.username), u.role.value, Text(", ".join(u.departments)))
    console.print(table)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    scope: Annotated[list[str] | None, typer.Option(help="Limit the token to a permission, e.g. devices:read.")] = None,
    name: Annotated[str, typer.Option(help="A label for the token.")] = "api",
    db: DbOption = None,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    from wardwatch.web.auth.roles import Permission

    known = {p.value for p in Permission}
    bad = [s for s in scope or () if s not in known]
    if bad:
        fail(f"unknown scope {', '.join(bad)}; known: {', '.join(sorted(known))}", code=2)
    typer.echo(_store(ctx, db).create_token(user, name=name, scopes=scope or ()))


@token_app.command("list")
def token_list(ctx: typer.Context, user: Annotated[str | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """List tokens (never their secrets)."""
    table = Table("id", "user", "name", "scopes", "revoked")
    for t in _store(ctx, db).list_tokens(user):
        table.add_row(str(t.id), str(t.user_id), Text(t.name), ",".join(t.scopes), "yes" if t.revoked_at else "")
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument()], db: DbOption = None) -> None:
    """Revoke a token."""
    _store(ctx, db).revoke_token(token_id, actor="cli")
    console.print(f"token {token_id} revoked")

"""``wardwatch serve``: the web application on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from wardwatch.cli.common import DbOption, err_console, settings_for


def serve(
    ctx: typer.Context,
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    secret_key: Annotated[str | None, typer.Option(envvar="WARDWATCH_SECRET_KEY",
                                                   help="Key that signs session cookies.")] = None,
) -> None:
    """Serve the web application and the REST API (/api/v1, OpenAPI at /api/v1/openapi.json)."""
    import uvicorn

    from wardwatch.web.app import create_app
    from wardwatch.web.auth.oidc import oidc_from_settings

    settings = settings_for(ctx, db)
    app = create_app(settings.database_url, secret_key=secret_key, oidc=oidc_from_settings(settings))
    err_console.print(f"wardwatch is serving on http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")

"""The FastAPI application factory (``wardwatch serve``): pages, API, static assets, sessions.

The web layer is thin (ARCHITECTURE.md): it authenticates, authorizes, calls the inventory and the other
services and renders. Static assets are vendored in the package (no CDN; hospitals run air-gapped).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from wardwatch import __version__
from wardwatch.web.auth.oidc import OidcSettings
from wardwatch.web.auth.store import AccessStore
from wardwatch.web.security import LoginThrottle

HERE = Path(__file__).resolve().parent

#: Content Security Policy: only our own scripts and styles, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_app(database_url: str, *, secret_key: str | None = None, https_only: bool = False,
               services: Any = None, oidc: OidcSettings | None = None) -> FastAPI:
    """Build the application on the inventory at ``database_url``.

    ``secret_key`` signs session cookies (a random one per process when not given: sessions then end on
    restart). ``services`` lets tests or the demo pass a prepared :class:`WebServices`. ``oidc`` (the
    ``[oidc]`` settings, ``web.auth.oidc.oidc_from_settings``) adds "Sign in with ..." to the login page.
    """
    from wardwatch.web.services import WebServices

    app = FastAPI(title="wardwatch", version=__version__, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/v1/openapi.json")
    app.state.services = services or WebServices.open(database_url)
    app.state.access = AccessStore(app.state.services.engine)
    app.state.access.create_schema()
    app.state.throttle = LoginThrottle()
    app.state.oidc = None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    from wardwatch.web.render import when

    env.filters["when"] = when  # epoch seconds → "2024-03-12 10:00:33 UTC"
    app.state.templates = Jinja2Templates(env=env)
    app.add_middleware(SessionMiddleware, secret_key=secret_key or secrets.token_urlsafe(32),
                       session_cookie="wardwatch_session", same_site="lax", https_only=https_only,
                       max_age=12 * 3600)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.exception_handler(HTTPException)
    async def http_errors(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 303 and exc.headers and "Location" in exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    from wardwatch.web.routes import api_devices, api_misc, imports, pages, problems, reports

    app.include_router(imports.router)  # before pages: /devices/import is not /devices/{device_id}
    app.include_router(imports.api)
    app.include_router(pages.router)
    app.include_router(api_devices.router)
    app.include_router(api_misc.router)
    app.include_router(reports.router)
    app.include_router(reports.api)
    app.include_router(problems.router)
    app.include_router(problems.api)
    from wardwatch.web.routes import feeds, incidents, risk_api

    for router in (incidents.router, incidents.api, feeds.router, feeds.api, risk_api.router):
        app.include_router(router)
    if oidc is not None:
        from wardwatch.web.routes import oidc as oidc_routes

        oidc_routes.install(app, oidc)
    return app

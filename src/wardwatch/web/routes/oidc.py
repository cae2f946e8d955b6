"""OpenID Connect sign-in routes (present only when ``[oidc]`` is configured): start and callback.

``GET /login/oidc`` redirects to the provider's authorization endpoint with a fresh ``state`` and
``nonce`` kept in the signed session; ``GET /login/oidc/callback`` checks the state, exchanges the code
at the token endpoint, verifies the ID token (Authlib: signature against the provider's JWKS, ``iss``,
``aud``, ``exp``, ``nonce``) and starts a session like the password form does. Every outcome is audited.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError  # Authlib's JOSE layer: bad signature, wrong nonce/iss/aud, expired

from wardwatch.web.auth.oidc import OidcRefused, OidcSettings, map_claims
from wardwatch.web.render import page

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
CLIENT = "wardwatch_oidc"


def install(app: FastAPI, config: OidcSettings) -> None:
    """Register the provider with Authlib and add the routes to ``app``."""
    oauth = OAuth()
    oauth.register(CLIENT, client_id=config.client_id, client_secret=config.client_secret(),
                   server_metadata_url=config.metadata_url, client_kwargs={"scope": config.scope})
    app.state.oidc = config
    app.state.oidc_client = oauth.create_client(CLIENT)
    app.include_router(router)


def _client(request: Request) -> Any:
    return request.app.state.oidc_client


@router.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    """Send the browser to the identity provider (OpenID Connect Core 1.0 §3.1.2.1)."""
    config: OidcSettings = request.app.state.oidc
    redirect = config.redirect_url or str(request.url_for("oidc_callback"))
    try:
        response: Response = await _client(request).authorize_redirect(request, redirect)
    except Exception as exc:  # discovery failed: say so on the form, keep the details in the log
        log.warning("OIDC discovery at %s failed: %s", config.metadata_url, exc.__class__.__name__)
        return page(request, "login.html", None, status_code=502,
                    error="The sign-in service cannot be reached; try again or use your password.")
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """Finish the code flow: state, code exchange, ID token checks; then the session."""
    access = request.app.state.access
    client_addr = request.client.host if request.client else "unknown"
    try:
        token = await _client(request).authorize_access_token(request)
        claims = token.get("userinfo")
        if not claims:  # no ID token, or no nonce in our state: not an OpenID Connect answer
            raise OidcRefused("the provider sent no verifiable ID token")
        identity = map_claims(request.app.state.oidc, claims)
    except (OAuthError, JoseError, OidcRefused, ValueError) as exc:
        reason = getattr(exc, "description", None) or getattr(exc, "error", None) or str(exc)
        access.audit("oidc", "login.oidc.refused", client_addr, {"reason": str(reason)[:200]})
        message = str(exc) if isinstance(exc, OidcRefused) else "Single sign-on failed; please try again."
        return page(request, "login.html", None, status_code=403, error=message)
    user = access.sign_in_oidc(identity.subject, identity.username, identity.role, identity.departments)
    if user.disabled:
        access.audit(user.username, "login.oidc.refused", client_addr, {"reason": "account disabled"})
        return page(request, "login.html", None, status_code=403, error="Your account is disabled.")
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    access.audit(user.username, "login.oidc", client_addr, {"role": user.role.value})
    return RedirectResponse("/", status_code=303)

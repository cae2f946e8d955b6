"""A minimal OpenID Connect provider for the tests, served over HTTP on 127.0.0.1.

Written by hand (not with Authlib, the library under test): discovery (OpenID Connect Discovery 1.0 §4),
an authorization endpoint that approves at once for the person the test chose, a token endpoint
(client_secret_basic or _post, one-time codes bound to the redirect URI, RFC 6749 §4.1.3) and a JWKS
(RFC 7517). ID tokens are JWS compact serialisations signed RS256 (RFC 7515 §7.1, RFC 7518 §3.3) with an
RSA key made per test run, through ``cryptography`` directly.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "wardwatch-test"
CLIENT_SECRET = "s3cret-for-tests-only"


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class Provider:
    """The provider's state; the test sets ``person`` (the claims of whoever "signs in") and faults."""

    issuer: str = ""
    person: dict[str, Any] = field(default_factory=dict)
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    kid: str = field(default_factory=lambda: secrets.token_hex(4))
    wrong_nonce: bool = False  # fault: the ID token carries another nonce
    foreign_key: bool = False  # fault: signed by a key that is not in the JWKS
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # paths served, in order

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7518 §6.3.1)."""
        numbers = self.key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": _uint(numbers.n),
                "e": _uint(numbers.e)}

    def id_token(self, claims: dict[str, Any]) -> str:
        """A signed ID token."""
        key = rsa.generate_private_key(65537, 2048) if self.foreign_key else self.key
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    # -- endpoints -----------------------------------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    async def jwks(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return JSONResponse({"keys": [self.jwk()]})

    async def authorize(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" or "openid" not in q.get("scope", ""):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": q["redirect_uri"], "nonce": q.get("nonce"), "person": dict(self.person)}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}",
                                status_code=302)

    async def token(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        form = await request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)  # one use only
        if form.get("grant_type") != "authorization_code" or grant is None \
                or grant["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        nonce = "not-the-nonce-you-sent" if self.wrong_nonce else grant["nonce"]
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce,
                  **grant["person"]}
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                             "id_token": self.id_token(claims)})

    def app(self) -> Starlette:
        """The ASGI application."""
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery), Route("/jwks", self.jwks),
            Route("/authorize", self.authorize), Route("/token", self.token, methods=["POST"]),
        ])


class RunningProvider:
    """The provider served by uvicorn in a thread on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.provider = Provider(issuer=f"http://127.0.0.1:{port}")
        config = uvicorn.Config(self.provider.app(), host="127.0.0.1", port=port, log_level="error",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        ready = threading.Event()
        for _ in range(500):  # until uvicorn has bound the socket (bounded wait on its own flag)
            if self.server.started:
                ready.set()
                break
            ready.wait(0.01)
        if not ready.is_set():
            raise RuntimeError("the test OIDC provider did not start")
        return self.provider

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

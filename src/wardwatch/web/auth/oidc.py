"""Optional OpenID Connect sign-in (issue 5), through Authlib's Starlette client.

Configured by an ``[oidc]`` table in the settings file (or ``WARDWATCH_OIDC__*`` variables)::

    [oidc]
    issuer = "https://login.example.org/realms/hospital"   # discovery: <issuer>/.well-known/openid-configuration
    client_id = "wardwatch"
    client_secret_env = "WARDWATCH_OIDC_SECRET"             # the secret itself stays in the environment
    display_name = "Hospital login"
    role_claim = "groups"                                    # a list or a string; dotted paths reach nested claims
    department_claim = "departments"
    [oidc.role_map]                                          # claim value -> wardwatch role (first match wins,
    "wardwatch-admins" = "admin"                             #  in the order of wardwatch's roles below)
    "icu-nurses" = "clinician"

The code flow follows OpenID Connect Core 1.0 §3.1: Authlib keeps ``state`` and ``nonce`` in the signed
session, fetches the discovery document and the JWKS over HTTP, checks the ID token's signature, issuer,
audience, expiry and nonce (§3.1.3.7). A person is matched by ``iss`` + ``sub`` (``users.oidc_subject``),
never by user name, so an identity provider account cannot take over a local account of the same name.
Role and departments are taken from the claims at every sign-in; no mapped role means no access.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wardwatch.errors import ConfigError, WardwatchError
from wardwatch.web.auth.roles import Role

#: The order in which mapped roles are preferred when the claims name several.
ROLE_PRECEDENCE = (Role.admin, Role.security_analyst, Role.it_network, Role.biomed, Role.manager, Role.clinician)


class OidcSettings(BaseModel):
    """The ``[oidc]`` settings table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(description="issuer URL; discovery at <issuer>/.well-known/openid-configuration")
    discovery_url: str | None = Field(default=None, description="explicit discovery document URL")
    client_id: str
    client_secret_env: str = Field(default="WARDWATCH_OIDC_CLIENT_SECRET",
                                   description="environment variable holding the client secret")
    display_name: str = Field(default="single sign-on", max_length=64)
    scope: str = "openid profile email"
    username_claim: str = "preferred_username"
    role_claim: str = "roles"
    role_map: dict[str, Role] = Field(default_factory=dict, description="claim value -> wardwatch role")
    default_role: Role | None = Field(default=None, description="role when no claim value maps (None: refuse)")
    department_claim: str | None = "departments"
    redirect_url: str | None = Field(default=None, description="callback URL when behind a reverse proxy")

    @property
    def metadata_url(self) -> str:
        """The discovery document's URL (OpenID Connect Discovery 1.0 §4)."""
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def client_secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The client secret from the environment (ConfigError when unset)."""
        env = os.environ if environ is None else environ
        secret = env.get(self.client_secret_env)
        if not secret:
            raise ConfigError(f"OIDC is configured but {self.client_secret_env} (the client secret) is not set")
        return secret


def oidc_from_settings(settings: Any) -> OidcSettings | None:
    """The ``[oidc]`` section of a :class:`wardwatch.settings.Settings`, or None when absent."""
    if "oidc" not in (settings.model_extra or {}):
        return None
    found: OidcSettings = settings.section("oidc", OidcSettings)
    return found


class OidcRefused(WardwatchError):
    """The identity provider's answer does not admit this person to wardwatch."""


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Who the ID token says signed in, mapped to wardwatch terms."""

    subject: str  # "<iss> <sub>": unique across providers
    username: str
    role: Role
    departments: tuple[str, ...]


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def map_claims(config: OidcSettings, claims: Mapping[str, Any]) -> OidcIdentity:
    """The identity of verified ID token ``claims`` (OidcRefused without a usable subject or role)."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not subject:
        raise OidcRefused("the ID token has no subject")
    mapped = {config.role_map[v] for v in _strings(_claim(claims, config.role_claim)) if v in config.role_map}
    role = next((r for r in ROLE_PRECEDENCE if r in mapped), config.default_role)
    if role is None:
        raise OidcRefused("your account has no wardwatch role; ask an administrator")
    username = _claim(claims, config.username_claim)
    if not isinstance(username, str) or not username.strip():
        username = claims.get("email") if isinstance(claims.get("email"), str) else subject
    departments: list[str] = []
    if config.department_claim:
        departments = [d.strip()[:128] for d in _strings(_claim(claims, config.department_claim)) if d.strip()]
    return OidcIdentity(f"{issuer} {subject}"[:256], str(username).strip()[:128], role,
                        tuple(sorted(set(departments))))

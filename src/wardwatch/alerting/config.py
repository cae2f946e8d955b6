"""Alert delivery from the settings: the ``[alerting]`` section declares named notifiers and team routes.

::

    [alerting.notifiers.siem]            # syslog carrying CEF (RFC 5424 over RFC 5426/6587/5425)
    type = "syslog"                      # or "cef" (same thing)
    host = "siem.hospital.example"
    port = 6514
    transport = "tls"                    # udp | tcp | tls
    [alerting.notifiers.soar]            # JSON webhook, HMAC-SHA256 signed when a secret is given
    type = "webhook"
    url = "https://soar.hospital.example/hooks/wardwatch"
    secret_env = "WARDWATCH_SOAR_SECRET" # or secret = "..." (also WARDWATCH_ALERTING__NOTIFIERS__SOAR__SECRET)
    [alerting.notifiers.mail]            # SMTP (RFC 5321), STARTTLS (RFC 3207)
    type = "email"
    host = "smtp.hospital.example"
    port = 587
    from = "wardwatch@hospital.example"
    starttls = true
    [[alerting.routes]]
    team = "clinical-engineering"
    notifier = "mail"
    recipient = "ce-oncall@hospital.example"
    min_severity = "medium"

Routes name a declared notifier; a route's ``recipient`` is where it goes (an email address, for email; for
syslog and webhooks it defaults to the collector/URL) and is what the TLP gate checks. ``class_teams`` and
``tlp`` are as in :func:`wardwatch.alerting.routing.routing_from_config`. Secrets are held as
:class:`pydantic.SecretStr` (never in a repr, a log line or an error message) and may be read from an
environment variable named by ``secret_env`` / ``password_env``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from wardwatch.alerting.notifiers.email import EmailNotifier
from wardwatch.alerting.notifiers.interface import Notifier
from wardwatch.alerting.notifiers.syslog import TRANSPORTS, SyslogNotifier
from wardwatch.alerting.notifiers.webhook import WebhookNotifier
from wardwatch.alerting.routing import IT, Route, Routing
from wardwatch.domain.alert import Severity
from wardwatch.errors import ConfigError
from wardwatch.intel.indicators import SharingPolicy
from wardwatch.settings import Settings

SECTION = "alerting"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SyslogSettings(_Model):
    """A syslog collector receiving CEF records."""

    type: Literal["syslog", "cef"]
    host: str = Field(min_length=1)
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["udp", "tcp", "tls"] = "udp"
    ca_file: str | None = Field(default=None, description="CA bundle for transport tls (default: system CAs)")
    server_name: str | None = Field(default=None, description="TLS name to verify (default: host)")
    timeout: float = Field(default=5.0, gt=0)

    def destination(self) -> str:
        """``transport://host:port``."""
        return f"{self.transport}://{self.host}:{self.port}"


class WebhookSettings(_Model):
    """A JSON webhook; signed with HMAC-SHA256 when a secret is configured."""

    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = None
    secret_env: str | None = Field(default=None, description="environment variable holding the secret")
    timeout: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value

    def destination(self) -> str:
        """The URL without user info or query (which may hold credentials)."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


class EmailSettings(_Model):
    """An SMTP relay."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from", min_length=3)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = Field(default=None, description="environment variable holding the password")
    ca_file: str | None = None
    recipients: tuple[str, ...] = Field(default=(), description="used by routes that name no recipient")
    timeout: float = Field(default=10.0, gt=0)

    @field_validator("recipients", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


NotifierSettings = Annotated[SyslogSettings | WebhookSettings | EmailSettings, Field(discriminator="type")]


class RouteSettings(_Model):
    """One delivery path of a team."""

    team: str = IT
    notifier: str
    recipient: str = ""
    min_severity: Severity = Severity.LOW

    @field_validator("min_severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return Severity[value.strip().upper()]
            except KeyError:
                raise ValueError("must be info, low, medium, high or critical") from None
        return value


class TlpSettings(_Model):
    """Recipients cleared for TLP:AMBER, TLP:AMBER+STRICT and TLP:RED (FIRST TLP 2.0)."""

    amber: tuple[str, ...] = ()
    amber_strict: tuple[str, ...] = ()
    red: tuple[str, ...] = ()


class AlertingSettings(_Model):
    """The ``[alerting]`` section."""

    notifiers: dict[str, NotifierSettings] = Field(default_factory=dict)
    routes: tuple[RouteSettings, ...] = ()
    class_teams: dict[str, str] = Field(default_factory=dict)
    tlp: TlpSettings = Field(default_factory=TlpSettings)

    @model_validator(mode="after")
    def _routes_name_notifiers(self) -> AlertingSettings:
        for index, route in enumerate(self.routes):
            found = self.notifiers.get(route.notifier)
            if found is None:
                raise ValueError(f"route {index + 1} names undeclared notifier {route.notifier!r}")
            if isinstance(found, EmailSettings) and not (route.recipient or found.recipients):
                raise ValueError(f"route {index + 1}: email notifier {route.notifier!r} needs a recipient")
        return self


def alerting_settings(settings: Settings) -> AlertingSettings:
    """The validated ``[alerting]`` section (defaults: no notifier, no route); :class:`ConfigError` if invalid."""
    return settings.section(SECTION, AlertingSettings)


def _secret(value: SecretStr | None, env_name: str | None, where: str, environ: Mapping[str, str]) -> str | None:
    if value is not None:
        return value.get_secret_value()
    if env_name:
        found = environ.get(env_name)
        if not found:
            raise ConfigError(f"invalid setting {where}: environment variable {env_name} is not set")
        return found
    return None


def build_notifier(name: str, config: NotifierSettings, *, recipient: str = "",
                   environ: Mapping[str, str] | None = None) -> Notifier:
    """The notifier ``name`` declares (for email, addressed to ``recipient`` or its default recipients)."""
    env = os.environ if environ is None else environ
    where = f"{SECTION}.notifiers.{name}"
    notifier: SyslogNotifier | WebhookNotifier | EmailNotifier
    if isinstance(config, SyslogSettings):
        assert config.transport in TRANSPORTS
        notifier = SyslogNotifier(config.host, config.port, transport=config.transport, ca_file=config.ca_file,
                                  server_name=config.server_name, timeout=config.timeout)
    elif isinstance(config, WebhookSettings):
        secret = _secret(config.secret, config.secret_env, f"{where}.secret_env", env)
        notifier = WebhookNotifier(config.url, secret.encode() if secret else None, timeout=config.timeout)
    else:
        recipients = [r.strip() for r in recipient.split(",") if r.strip()] or list(config.recipients)
        notifier = EmailNotifier(config.host, config.port, sender=config.sender, recipients=recipients,
                                 starttls=config.starttls, username=config.username,
                                 password=_secret(config.password, config.password_env, f"{where}.password_env",
                                                  env),
                                 ca_file=config.ca_file, timeout=config.timeout)
    notifier.name = name  # delivery reports and logs say which configured notifier
    return notifier


def build_routing(config: AlertingSettings, *, environ: Mapping[str, str] | None = None) -> Routing:
    """The :class:`Routing` ``config`` declares: one notifier per name (per recipient for email)."""
    built: dict[tuple[str, str], Notifier] = {}
    routing = Routing(class_teams=dict(config.class_teams),
                      sharing=SharingPolicy(frozenset(config.tlp.amber), frozenset(config.tlp.amber_strict),
                                            frozenset(config.tlp.red)))
    for route in config.routes:
        declared = config.notifiers[route.notifier]
        if isinstance(declared, EmailSettings):
            recipient = route.recipient or ", ".join(declared.recipients)
            key = (route.notifier, recipient)
        else:
            recipient = route.recipient or declared.destination()
            key = (route.notifier, "")
        if key not in built:
            built[key] = build_notifier(route.notifier, declared, recipient=recipient, environ=environ)
        routing.routes.setdefault(route.team, []).append(Route(built[key], recipient, route.min_severity))
    return routing


def routing_for(settings: Settings, *, environ: Mapping[str, str] | None = None) -> Routing:
    """The routing the running product uses: built from ``settings``' ``[alerting]`` section."""
    return build_routing(alerting_settings(settings), environ=environ)

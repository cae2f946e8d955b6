"""The one settings object of wardwatch (ARCHITECTURE.md, Conventions).

Settings come from four layers, later ones winning:

1. defaults (below);
2. a TOML file: ``$WARDWATCH_CONFIG`` or ``<user config dir>/wardwatch.toml`` (platformdirs);
3. environment variables ``WARDWATCH_<FIELD>``; nested sections use a double underscore
   (``WARDWATCH_CAPTURE__STREAM_BUDGET=8192``);
4. explicit overrides (command-line options such as ``--db``), as a mapping; ``None`` values are ignored
   and dotted keys reach into sections (``{"capture.stream_budget": 8192}``).

The object is frozen and passed in, never imported as a global by domain code. Other capabilities add
their own section without editing this module: an unknown TOML table (``[risk]``) or environment variable
(``WARDWATCH_RISK__KEV_WEIGHT``) is kept, and :meth:`Settings.section` validates it into the caller's own
pydantic model with that model's defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wardwatch.errors import ConfigError

APP_NAME = "wardwatch"
ENV_PREFIX = "WARDWATCH_"
#: Environment variables that are not settings fields.
_NOT_FIELDS = frozenset({"CONFIG", "REQUIRE_SHARED_DATA", "TEST_POSTGRES_URL", "TEST_NATS_URL"})

_Section = TypeVar("_Section", bound=BaseModel)


def default_database_url() -> str:
    """A SQLite file in the user's data directory (created on first use)."""
    return f"sqlite:///{Path(platformdirs.user_data_dir(APP_NAME)) / 'wardwatch.db'}"


def default_config_path() -> Path:
    """``$WARDWATCH_CONFIG`` or ``<user config dir>/wardwatch.toml``."""
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    return Path(explicit) if explicit else Path(platformdirs.user_config_dir(APP_NAME)) / "wardwatch.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaptureSettings(_Frozen):
    """Budgets of the capture engine (bounded memory whatever the input)."""

    stream_budget: int = Field(default=4096, ge=0, description="bytes per TCP flow direction for dissectors")
    max_flows: int = Field(default=1_000_000, ge=1, description="flows kept in the flow table at once")
    flow_timeout: float = Field(default=120.0, gt=0, description="seconds of silence that end a flow")
    max_packet_errors: int = Field(default=1_000_000, ge=0, description="skipped records before giving up")


class IdentifySettings(_Frozen):
    """Identity resolution knobs."""

    local_networks: tuple[str, ...] = Field(
        default=(),
        description="CIDRs whose addresses may become IP-keyed devices; empty means every non-global address",
    )
    evidence_cap: int = Field(default=20, ge=1, description="evidence entries kept per attribute")

    @field_validator("local_networks", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """Accept a comma-separated string (environment variables) as well as a list."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class Settings(BaseModel):
    """All of wardwatch's configuration. Unknown top-level tables are kept for :meth:`section`."""

    model_config = ConfigDict(frozen=True, extra="allow")

    database_url: str = Field(default_factory=default_database_url)
    sensor: str = "local"
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    identify: IdentifySettings = Field(default_factory=IdentifySettings)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Settings:
        """Merge defaults, the TOML file, the environment and ``overrides``; raise ConfigError if invalid."""
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        path = config_file
        if path is None:
            explicit = env.get(f"{ENV_PREFIX}CONFIG")
            path = Path(explicit) if explicit else Path(platformdirs.user_config_dir(APP_NAME)) / "wardwatch.toml"
            if not explicit and not path.exists():
                path = None
        if path is not None:
            _merge(data, _read_toml(path))
        _merge(data, _from_environ(env))
        if overrides:
            _merge(data, _unflatten({k: v for k, v in overrides.items() if v is not None}))
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"invalid setting {where}: {first['msg']}") from None

    def section(self, name: str, model: type[_Section]) -> _Section:
        """The extra section ``name`` (TOML table or ``WARDWATCH_<NAME>__*``) validated into ``model``."""
        raw = (self.model_extra or {}).get(name, {})
        if not isinstance(raw, Mapping):
            raise ConfigError(f"setting {name} must be a table")
        try:
            return model.model_validate(dict(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise ConfigError(f"invalid setting {where}: {first['msg']}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is unreadable: {exc}") from None


def _from_environ(env: Mapping[str, str]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        field = name[len(ENV_PREFIX) :]
        if not field or field in _NOT_FIELDS or field.startswith("TEST_"):
            continue
        flat[".".join(part.lower() for part in field.split("__"))] = value
    return _unflatten(flat)


def _unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"setting {part} is not a table")
            node = child
        if isinstance(value, Mapping):
            _merge(node.setdefault(parts[-1], {}), value)
        else:
            node[parts[-1]] = value
    return out


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value

"""The settings object: defaults, TOML file, environment, overrides, extra sections."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from wardwatch.errors import ConfigError
from wardwatch.settings import Settings


def test_defaults_use_user_data_dir(tmp_path: Path) -> None:
    settings = Settings.load(environ={}, config_file=None)
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("wardwatch.db")
    assert settings.sensor == "local" and settings.capture.stream_budget > 0


def test_layers_in_order(tmp_path: Path) -> None:
    config = tmp_path / "wardwatch.toml"
    config.write_text('database_url = "sqlite:///from-file.db"\nsensor = "file"\n'
                      "[capture]\nstream_budget = 1000\nflow_timeout = 30\n"
                      "[risk]\nkev_weight = 2.5\n", encoding="utf-8")
    env = {"WARDWATCH_CONFIG": str(config), "WARDWATCH_SENSOR": "env", "WARDWATCH_CAPTURE__STREAM_BUDGET": "2000",
           "WARDWATCH_IDENTIFY__LOCAL_NETWORKS": "10.0.0.0/8, 192.168.0.0/16", "WARDWATCH_TEST_POSTGRES_URL": "x"}
    settings = Settings.load({"database_url": "postgresql://db/ww", "sensor": None}, environ=env)
    assert settings.database_url == "postgresql://db/ww"  # override > env > file
    assert settings.sensor == "env"  # None overrides are ignored
    assert settings.capture.stream_budget == 2000 and settings.capture.flow_timeout == 30
    assert settings.identify.local_networks == ("10.0.0.0/8", "192.168.0.0/16")

    class Risk(BaseModel):
        kev_weight: float = 1.0
        epss_weight: float = 0.5

    risk = settings.section("risk", Risk)
    assert (risk.kev_weight, risk.epss_weight) == (2.5, 0.5)
    assert settings.section("absent", Risk).kev_weight == 1.0
    with pytest.raises(ValidationError):  # frozen
        settings.sensor = "x"  # type: ignore[misc]


def test_dotted_override_and_errors(tmp_path: Path) -> None:
    assert Settings.load({"capture.stream_budget": 64}, environ={}).capture.stream_budget == 64
    with pytest.raises(ConfigError, match=r"capture\.stream_budget"):
        Settings.load({"capture.stream_budget": -1}, environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        Settings.load(environ={"WARDWATCH_CONFIG": str(bad)})
    with pytest.raises(ConfigError, match="not found"):
        Settings.load(environ={"WARDWATCH_CONFIG": str(tmp_path / "missing.toml")})

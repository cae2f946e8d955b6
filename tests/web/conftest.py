"""Fixtures of the web tests: one prepared inventory per session, an app and API clients per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.world import World, build_world
from wardwatch.web.app import create_app
from wardwatch.web.auth.roles import Role


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The prepared inventory (built once per session)."""
    built = build_world(tmp_path_factory.mktemp("web"))
    yield built
    built.inventory.close()


@pytest.fixture(scope="session")
def app(world: World) -> FastAPI:
    """The application on the prepared inventory."""
    return create_app(world.url, secret_key="test-secret-key")


@pytest.fixture(scope="session")
def tokens(world: World, app: FastAPI) -> dict[Role, str]:
    """One unscoped API token per role."""
    return {role: world.access.create_token(world.username(role), name="tests") for role in Role}


@pytest.fixture
def api(app: FastAPI, tokens: dict[Role, str]) -> Callable[[Role | None], TestClient]:
    """A client authenticated with the token of a role (None: anonymous)."""

    def make(role: Role | None) -> TestClient:
        client = TestClient(app)
        if role is not None:
            client.headers["Authorization"] = f"Bearer {tokens[role]}"
        return client

    return make


def login(client: TestClient, username: str, password: str) -> None:
    """Sign in through the form as a browser does (CSRF token from the page)."""
    import re

    form = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, "the login form carries a CSRF token"
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": match.group(1)}, follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def session_for(app: FastAPI, world: World) -> Callable[[Role], TestClient]:
    """A client signed in through the login form as the test user of a role."""
    from tests.web.world import PASSWORD

    def make(role: Role) -> TestClient:
        client = TestClient(app)
        login(client, world.username(role), PASSWORD)
        return client

    return make


def artifacts_dir() -> Path:
    """``test-artifacts/`` at the repository root (git-ignored)."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path

"""OpenID Connect sign-in against a local provider over HTTP (tests/web/oidc_provider.py).

The client under test fetches the provider's discovery document and JWKS over HTTP and verifies the ID
token's signature; state and nonce mismatches, a foreign signing key and an unmapped role are refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, RunningProvider
from wardwatch.errors import ConfigError
from wardwatch.settings import Settings
from wardwatch.web.app import create_app
from wardwatch.web.auth import tables as auth_tables
from wardwatch.web.auth.oidc import OidcSettings, oidc_from_settings
from wardwatch.web.auth.roles import Role
from wardwatch.web.auth.store import AccessStore

SECRET_ENV = "WARDWATCH_TEST_OIDC_SECRET"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The running provider (one per module)."""
    with RunningProvider() as running:
        yield running


@pytest.fixture(scope="module")
def app(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """wardwatch with ``[oidc]`` read from a settings file pointing at the provider."""
    folder = tmp_path_factory.mktemp("oidc")
    config = folder / "wardwatch.toml"
    config.write_text(f'''
[oidc]
issuer = "{provider.issuer}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
display_name = "Test IdP"
role_claim = "groups"
department_claim = "departments"
[oidc.role_map]
"ww-admins" = "admin"
"icu-nurses" = "clinician"
''')
    settings = Settings.load(config_file=config, environ={})
    oidc = oidc_from_settings(settings)
    assert oidc is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, CLIENT_SECRET)
        yield create_app(f"sqlite:///{folder / 'oidc.db'}", secret_key="oidc-test-key", oidc=oidc)


@pytest.fixture(autouse=True)
def clean_provider(provider: Provider) -> None:
    """Every test starts without faults."""
    provider.wrong_nonce = provider.foreign_key = False


def access(app: FastAPI) -> AccessStore:
    """The application's access store."""
    store: AccessStore = app.state.access
    return store


def sign_in(client: TestClient, provider: Provider, person: Mapping[str, object], state: str | None = None
            ) -> httpx.Response:
    """Run the code flow: wardwatch → provider (real HTTP) → wardwatch's callback."""
    provider.person = dict(person)
    start = client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    sent = parse_qs(urlsplit(location).query)
    assert sent["state"][0] and sent["nonce"][0], "state and nonce are sent (OIDC Core §3.1.2.1)"
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    query = parse_qs(back.query)
    if state is not None:
        query["state"] = [state]
    done: httpx.Response = client.get(f"{back.path}?{urlencode({k: v[0] for k, v in query.items()})}",
                                      follow_redirects=False)
    return done


def audit_actions(app: FastAPI) -> list[str]:
    """Audit actions, newest first."""
    return [e["action"] for e in access(app).audit_entries(50)]


def test_login_page_offers_the_provider(app: FastAPI) -> None:
    page = TestClient(app).get("/login")
    assert page.status_code == 200
    assert 'href="/login/oidc"' in page.text and "Sign in with Test IdP" in page.text


def test_code_flow_signs_in_with_mapped_role_and_departments(app: FastAPI, provider: Provider) -> None:
    client = TestClient(app)
    person = {"sub": "nina-1", "preferred_username": "nina", "groups": ["staff", "icu-nurses"],
              "departments": ["ICU", "Neonatal"]}
    done = sign_in(client, provider, person)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert {"/.well-known/openid-configuration", "/jwks", "/token"} <= set(provider.requests)
    assert client.get("/", follow_redirects=False).status_code == 200  # the session is on
    user = access(app).get_by_name("nina")
    assert user.role is Role.clinician and user.departments == ("ICU", "Neonatal")
    assert audit_actions(app)[0] == "login.oidc"
    with app.state.access.engine.connect() as conn:
        subject = conn.execute(sa.select(auth_tables.users.c.oidc_subject)
                               .where(auth_tables.users.c.id == user.id)).scalar()
    assert subject == f"{provider.issuer} nina-1"


def test_next_sign_in_matches_the_subject_and_takes_the_new_role(app: FastAPI, provider: Provider) -> None:
    first = sign_in(TestClient(app), provider, {"sub": "omar-7", "preferred_username": "omar",
                                                "groups": ["icu-nurses"], "departments": ["ICU"]})
    assert first.status_code == 303
    before = access(app).get_by_name("omar")
    again = sign_in(TestClient(app), provider, {"sub": "omar-7", "preferred_username": "omar-renamed",
                                                "groups": ["ww-admins"]})
    assert again.status_code == 303
    after = access(app).get_by_name("omar")
    assert after.id == before.id and after.role is Role.admin and after.departments == ()
    assert all(u.username != "omar-renamed" for u in access(app).list_users())
    assert "user.update" in audit_actions(app)


def test_a_local_account_of_the_same_name_is_not_taken_over(app: FastAPI, provider: Provider) -> None:
    local = access(app).add_user("carol", Role.biomed, "carol's long password", actor="test")
    done = sign_in(TestClient(app), provider, {"sub": "carol-x", "preferred_username": "carol",
                                               "groups": ["ww-admins"]})
    assert done.status_code == 303
    assert access(app).get_by_name("carol").role is Role.biomed  # untouched
    assert access(app).authenticate("carol", "carol's long password") == local
    assert access(app).get_by_name("carol-2").role is Role.admin


@pytest.mark.parametrize("fault", ["state", "nonce", "foreign key", "no role"])
def test_refused(app: FastAPI, provider: Provider, fault: str) -> None:
    client = TestClient(app)
    person: dict[str, object] = {"sub": f"mallory-{fault}", "preferred_username": f"mallory {fault}",
                                 "groups": ["ww-admins"]}
    if fault == "no role":
        person["groups"] = ["visitors"]
    provider.wrong_nonce = fault == "nonce"
    provider.foreign_key = fault == "foreign key"
    done = sign_in(client, provider, person, state="forged-state" if fault == "state" else None)
    assert done.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out
    assert all(not u.username.startswith("mallory") for u in access(app).list_users())
    assert audit_actions(app)[0] == "login.oidc.refused"


def test_settings_need_the_secret_in_the_environment() -> None:
    config = OidcSettings(issuer="https://idp.example", client_id="x", client_secret_env="WW_UNSET_SECRET")
    assert config.metadata_url == "https://idp.example/.well-known/openid-configuration"
    with pytest.raises(ConfigError):
        config.client_secret({})
    assert oidc_from_settings(Settings.load(config_file=Path("/dev/null"), environ={})) is None

"""Strings an attacker puts on the wire are shown inert on every page (HTML-escaped, never evaluated as a
template or markup)."""

from __future__ import annotations

import html
from collections.abc import Callable

import markupsafe
import pytest
from fastapi.testclient import TestClient

from tests.web.world import HOSTILE, World
from wardwatch.web.auth.roles import Role


def escaped(payload: str) -> str:
    """The payload as HTML text (the entity forms of Jinja's autoescape; checked against html.unescape)."""
    out = str(markupsafe.escape(payload))
    assert html.unescape(out) == payload
    return out


def _assert_inert(page: str, payload: str, where: str) -> None:
    assert payload not in page or payload == escaped(payload), f"raw {payload!r} on {where}"
    assert escaped(payload) in page, f"{payload!r} not shown (escaped) on {where}"


@pytest.mark.parametrize("role", [Role.admin, Role.clinician])
def test_hostile_strings_escaped_on_pages(world: World, session_for: Callable[[Role], TestClient], role: Role) -> None:
    """Device page, list, search, dashboard widgets and JSON API all carry the payloads inert."""
    browser = session_for(role)
    for device_id, payload in zip(world.hostile, HOSTILE, strict=True):
        page = browser.get(f"/devices/{device_id}")
        assert page.status_code == 200
        _assert_inert(page.text, payload, f"/devices/{device_id}")
        assert page.text.count(escaped(payload)) >= 3  # hostname, software (User-Agent), AE title
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        if payload == "{{7*7}}":
            assert "{{7*7}}" in page.text  # shown literally, not rendered to 49 by Jinja
        listing = browser.get("/devices", params={"q": payload})
        _assert_inert(listing.text, payload, "/devices?q=")
        assert f'href="/devices/{device_id}"' in listing.text
        api = browser.get(f"/api/v1/devices/{device_id}").json()
        assert api["hostname"] == payload  # the API returns data, the client escapes
    dashboard = browser.get("/", params={})
    assert "<script>alert" not in dashboard.text
    headers = dashboard.headers["content-security-policy"]
    assert "script-src 'self'" in headers and "unsafe-inline" not in headers


def test_hostile_strings_in_csv_stay_text(world: World, session_for: Callable[[Role], TestClient]) -> None:
    """The CSV export holds the payloads as plain cells."""
    body = session_for(Role.admin).get("/devices.csv", params={"q": "alert"}).text
    assert "<script>alert(1)</script>" in body

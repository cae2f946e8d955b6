"""Authorization matrix: every API route × every role, anonymous and a revoked token; department scope.

The expected answer is derived from the permission each route declares (``require(...)``) and the role
table, never copied from the application's own output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.world import CLINICIAN_DEPARTMENT, World
from wardwatch.web.auth.roles import Permission, Role, allowed
from wardwatch.web.routes import all_routes, api_routes, declared_permission

#: Pages anyone may open (the sign-in form).
PUBLIC_PAGES = {("GET", "/login"), ("POST", "/login")}


#: Routes of the platform modules get real objects and bodies and must answer 2xx when allowed. Routes
#: added by other capabilities get "1" for each parameter and a generic body; allowed there means
#: "neither 401 nor 403" (the object may not exist, the body may not fit).

def _concrete(path: str, device_id: int) -> str:
    path = path.replace("{device_id}", str(device_id)).replace("{widget_id}", "device_total")
    path = path.replace("{what}.{fmt}", "inventory.csv")
    return re.sub(r"\{[a-z_]+\}", "1", path)


OWN_MODULES = {f"wardwatch.web.routes.{m}" for m in ("pages", "api_devices", "api_misc", "reports", "problems",
                                                     "imports")}


def _strict(route: APIRoute) -> bool:
    return route.endpoint.__module__ in OWN_MODULES


def _call(client: TestClient, method: str, path: str, device_id: int) -> int:
    url = _concrete(path, device_id)
    kwargs: dict[str, Any] = {}
    if method in ("PUT", "PATCH", "POST"):
        if path.endswith("/dashboard"):
            kwargs["json"] = {"widgets": [{"id": "device_total", "size": "s"}]}
        elif path.endswith("/import"):
            kwargs["files"] = {"file": ("register.csv", b"mac,location\n02:00:5e:10:00:00,Bed 4\n", "text/csv")}
        else:
            kwargs["json"] = {"notes": "checked by the authorization test"}
    status: int = client.request(method, url, **kwargs).status_code
    return status


def _matrix(app: FastAPI) -> list[tuple[str, str, Permission, bool]]:
    rows = []
    for path, route in api_routes(app):
        permission = declared_permission(route)
        assert permission is not None, f"{path} declares no permission"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            rows.append((method, path, permission, _strict(route)))
    return rows


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    """Pages and API alike: every route but the sign-in form names the permission it needs."""
    routes = all_routes(app)
    assert len(api_routes(app)) >= 15
    for path, route in routes:
        for method in (route.methods or set()) - {"HEAD"}:
            if (method, path) in PUBLIC_PAGES:
                assert declared_permission(route) is None
            else:
                assert declared_permission(route) is not None, f"{method} {path} declares no permission"


@pytest.mark.parametrize("role", [*Role, None], ids=[*(r.value for r in Role), "anonymous"])
def test_api_matrix(app: FastAPI, world: World, api: Callable[[Role | None], TestClient], role: Role | None) -> None:
    """Each role gets exactly 2xx where its role holds the permission, 403 elsewhere; anonymous 401."""
    client = api(role)
    device_id = world.icu[0]  # inside the clinician's department, so scope does not hide it
    failures = []
    for method, path, permission, strict in _matrix(app):
        status = _call(client, method, path, device_id)
        if role is None:
            expected_ok, expected = False, 401
        else:
            expected_ok, expected = allowed(role, permission), 403
        ok = 200 <= status < 300 if strict else status not in (401, 403)
        if ok != expected_ok or (not expected_ok and status != expected):
            failures.append(f"{method} {path}: {status} (permission {permission.value})")
    assert not failures, "\n".join(failures)


def test_revoked_token_is_refused_everywhere(app: FastAPI, world: World) -> None:
    """A revoked admin token opens nothing."""
    token = world.access.create_token(world.username(Role.admin), name="to revoke")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/me").status_code == 200
    revoked = next(t for t in world.access.list_tokens(world.username(Role.admin)) if t.name == "to revoke")
    world.access.revoke_token(revoked.id, actor="test")
    for method, path, _permission, _strict_route in _matrix(app):
        assert _call(client, method, path, world.icu[0]) == 401, f"{method} {path}"
    assert client.get("/api/v1/devices", headers={"Authorization": "Bearer ww_not-a-token"}).status_code == 401


def test_scoped_token_is_limited_to_its_scope(app: FastAPI, world: World) -> None:
    """An admin token scoped to devices:read reads devices but not the audit log."""
    token = world.access.create_token(world.username(Role.admin), name="scoped", scopes=["devices:read"])
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/devices").status_code == 200
    assert client.get("/api/v1/audit").status_code == 403


def test_pages_redirect_anonymous_to_login(app: FastAPI, world: World) -> None:
    """Every page but the sign-in form sends an anonymous browser to /login."""
    client = TestClient(app)
    for path, route in all_routes(app):
        if path.startswith("/api/") or "GET" not in (route.methods or set()) or ("GET", path) in PUBLIC_PAGES:
            continue
        response = client.get(_concrete(path, world.icu[0]), follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_clinician_sees_only_their_departments(app: FastAPI, world: World,
                                               api: Callable[[Role | None], TestClient],
                                               session_for: Callable[[Role], TestClient]) -> None:
    """By id (404), in the list, the CSV, the history and the dashboard counts."""
    client = api(Role.clinician)
    outside, inside = world.radiology[0], world.icu[0]
    assert client.get(f"/api/v1/devices/{inside}").status_code == 200
    assert client.get(f"/api/v1/devices/{outside}").status_code == 404
    assert client.get(f"/api/v1/devices/{outside}/history").status_code == 404
    listed = client.get("/api/v1/devices", params={"limit": 1000}).json()
    ids = {d["id"] for d in listed["items"]}
    assert ids == set(world.icu) and listed["total"] == len(world.icu)
    assert all(d["department"] == CLINICIAN_DEPARTMENT for d in listed["items"])
    searched = client.get("/api/v1/devices", params={"department": "Radiology"}).json()
    assert searched["total"] == 0
    widget = client.get("/api/v1/widgets/device_total").json()
    assert widget["data"]["value"] == len(world.icu)
    by_department = client.get("/api/v1/widgets/by_department")
    assert by_department.status_code == 200
    assert {r["label"] for r in by_department.json()["data"]["rows"]} == {CLINICIAN_DEPARTMENT}

    browser = session_for(Role.clinician)
    assert browser.get(f"/devices/{outside}").status_code == 404
    assert browser.get(f"/devices/{inside}").status_code == 200
    csv_ids = {int(line.split(",")[0]) for line in browser.get("/devices.csv").text.splitlines()[1:]}
    assert csv_ids == set(world.icu)
    page = browser.get("/devices").text
    assert f'href="/devices/{outside}"' not in page and f'href="/devices/{inside}"' in page
    # and an unrestricted role sees both
    admin = api(Role.admin)
    assert admin.get(f"/api/v1/devices/{outside}").status_code == 200
    assert admin.get("/api/v1/widgets/device_total").json()["data"]["value"] == len(world.icu) + len(world.radiology)


def test_csrf_is_required_for_browser_changes(session_for: Callable[[Role], TestClient], world: World) -> None:
    """A signed-in browser cannot change anything without the session's CSRF token."""
    browser = session_for(Role.admin)
    body = {"widgets": [{"id": "device_total", "size": "s"}]}
    assert browser.put("/api/v1/dashboard", json=body).status_code == 403
    token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/").text)
    assert token
    assert browser.put("/api/v1/dashboard", json=body, headers={"X-CSRF-Token": token.group(1)}).status_code == 200
    assert browser.post(f"/devices/{world.icu[0]}/context", data={"notes": "x"}).status_code == 403


def test_changes_by_people_are_audited(api: Callable[[Role | None], TestClient], world: World) -> None:
    """A manual value set through the API lands in the audit log with who and what."""
    biomed = api(Role.biomed)
    response = biomed.patch(f"/api/v1/devices/{world.radiology[-1]}", json={"location": "Room 12"})
    assert response.status_code == 200
    assert response.json()["location"] == "Room 12"
    assert response.json()["attributes"]["location"]["source"] == "manual"
    entries = api(Role.admin).get("/api/v1/audit").json()
    assert any(e["action"] == "device.set" and e["actor"] == world.username(Role.biomed)
               and e["target"] == str(world.radiology[-1]) for e in entries)


def test_login_throttle(app: FastAPI, world: World) -> None:
    """Five wrong passwords for a name block the sixth attempt, even with the right password."""
    client = TestClient(app)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    name = world.username(Role.manager)
    for _ in range(5):
        r = client.post("/login", data={"username": name, "password": "wrong password!", "csrf_token": csrf.group(1)})
        assert r.status_code == 401
    from tests.web.world import PASSWORD

    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf.group(1)})
    assert r.status_code == 429
    app.state.throttle.succeed(f"user:{name}", "ip:testclient")

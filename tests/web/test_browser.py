"""Browser tests (Playwright driving Debian's chromium): each role signs in, sees its dashboard, adds and
moves a widget, finds it where it left it after a reload, and drills from a number to the list to a
device page; hostile device names never fire a dialog. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.web.conftest import artifacts_dir
from tests.web.world import HOSTILE, PASSWORD, World
from wardwatch.web.auth.roles import Role
from wardwatch.web.routes.pages import ROLE_TITLES

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(400):
        if instance.started:
            ready.set()
            break
        ready.wait(0.025)
    assert instance.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield instance
        instance.close()


def _record_dialog(dialogs: list[str], dialog: Any) -> None:
    """Note a JavaScript dialog (alert, confirm) and close it."""
    dialogs.append(dialog.message)
    dialog.dismiss()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _order(page: Any) -> list[str]:
    found = page.eval_on_selector_all("#dashboard [data-widget]", "els => els.map(e => e.dataset.widget)")
    return [str(w) for w in found]


def _saved(page: Any) -> int:
    value = page.get_attribute("#dashboard", "data-saved")
    return int(value) if value else 0


def _drag_first(page: Any, widget: str) -> bool:
    """Drag ``widget`` by its handle onto the first widget; True when a save followed."""
    handle = page.locator(f'#dashboard [data-widget="{widget}"] .handle').bounding_box()
    first = page.locator("#dashboard [data-widget]").first.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(first["x"] + 20, first["y"] + 20, steps=12)
    page.mouse.move(first["x"] + 10, first["y"] + 10, steps=4)
    page.mouse.up()
    try:
        # a selector wait, not wait_for_function: that evaluates a string, which our CSP (rightly) refuses
        page.wait_for_selector('#dashboard[data-saved="1"]', timeout=3000)
    except Exception:
        return False
    return _order(page)[0] == widget


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_role_dashboard(server: str, browser: Any, world: World, role: Role) -> None:
    """Sign in, see the role's dashboard, add and move a widget, reload, drill down."""
    user = world.access.get_by_name(world.username(role))
    world.access.reset_dashboard(user)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: _record_dialog(dialogs, d))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, server, world.username(role))
    assert page.url == f"{server}/"
    assert page.inner_text("h1") == f"{ROLE_TITLES[role.value]} dashboard"
    before = _order(page)
    assert before, "the role has default widgets"

    # add a widget (the page reloads after the save)
    added = page.eval_on_selector("#add-widget", "s => s.options.length ? s.options[0].value : ''")
    assert added, "some widget can be added"
    page.select_option("#add-widget", added)
    with page.expect_navigation():
        page.click("#add-widget-button")
    assert _order(page) == [*before, added]

    # move it to the front: drag by the handle; the ◀ buttons (keyboard) are the fallback path
    if not _drag_first(page, added):
        page.reload()
        while _order(page)[0] != added:
            saved = _saved(page)
            page.focus(f'#dashboard [data-widget="{added}"] button.move[data-dir="-1"]')
            page.keyboard.press("Enter")
            page.wait_for_selector(f'#dashboard[data-saved="{saved + 1}"]')
    moved = _order(page)
    assert moved[0] == added and sorted(moved) == sorted([*before, added])
    page.reload()
    assert _order(page) == moved, "the layout is saved per user"
    page.screenshot(path=str(artifacts_dir() / f"dashboard-{role.value}.png"), full_page=True)

    # drill down: dashboard number → filtered list → device page
    total_link = page.locator('a[data-drill="device_total"]')
    shown = int(total_link.inner_text())
    with page.expect_navigation():
        total_link.click()
    assert page.url.startswith(f"{server}/devices")
    assert f"({shown})" in page.inner_text("h1")
    first_row = page.locator("#devices tbody a").first
    with page.expect_navigation():
        first_row.click()
    assert "/devices/" in page.url and page.locator("#attributes").count() == 1
    expected = len(world.icu) if role is Role.clinician else len(world.icu) + len(world.radiology)
    assert shown == expected
    assert not dialogs and not errors, (dialogs, errors)
    context.close()


def test_hostile_names_fire_nothing(server: str, browser: Any, world: World) -> None:
    """Pages showing hostile device names run no script and add no element, even with the CSP switched
    off (bypass_csp): escaping alone must hold."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: _record_dialog(dialogs, d))
    _login(page, server, world.username(Role.security_analyst))
    urls = [f"/devices/{i}" for i in world.hostile] + ["/devices?q=alert", "/devices?q=%7B%7B", "/"]
    for url in urls:
        page.goto(server + url)
        page.wait_for_load_state("load")
        assert page.locator("img[src=x]").count() == 0, url
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0, url
    text = page.goto(f"{server}/devices?q=alert") and page.inner_text("#devices")
    assert HOSTILE[0] in text and HOSTILE[1] in text
    assert not dialogs, dialogs
    context.close()

"""Identity in a real browser: the login page, Dash's callbacks under a session, and a kiosk
screen that keeps working on its cookie across a server restart.

What the browser sends is checked, not assumed: every callback POST made under a session
carries the CSRF token (Dash's renderer echoes the cookie into the header), and a kiosk's
own requests after the first never carry the token in the URL yet are all answered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboard.auth.tokens import TokenStore
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore
from tests.support.auth import add_users, closed_config, running_app
from tests.support.services import ANONYMOUS_READ_ENV, CITYWALL_CMD, CitywallProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PANEL_READY = (
    "() => { const p = document.querySelector('[data-panel] .cw-panel-body'); return !!p && p.innerText.trim().length > 0; }"
)


def record_callbacks(page: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def on_response(response: Any) -> None:
        if "/_dash-update-component" in response.url:
            seen.append({"status": response.status, "csrf": response.request.headers.get("x-csrf-token"), "url": response.url})

    page.on("response", on_response)
    return seen


def test_login_page_then_the_screen_with_csrf_on_every_callback(page_factory: Callable[..., Any], tmp_path: Path) -> None:
    store = MemoryStore()
    users = add_users(store)
    with running_app(closed_config(), store) as base:
        page = page_factory(1280, 800)
        callbacks = record_callbacks(page)
        page.goto(f"{base}/screen/4")
        page.wait_for_selector("[data-page=login]")
        assert page.url == f"{base}/login?next=%2Fscreen%2F4"
        page.screenshot(path=str(tmp_path / "login.png"))
        page.fill("#username", "viewer")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_selector("#error:not(.d-none)")
        assert "salah" in page.inner_text("#error")
        assert callbacks == []

        page.fill("#password", users["viewer"].password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/screen/4")
        page.wait_for_function(PANEL_READY, timeout=20_000, polling=100)
        page.wait_for_function("() => document.querySelector('[data-screen]') !== null", timeout=10_000)
        cookie = next(c for c in page.context.cookies() if c["name"] == "citywall_csrf")["value"]
        assert callbacks, "no callback was made"
        assert {c["status"] for c in callbacks} <= {200, 204}, callbacks
        assert {c["csrf"] for c in callbacks} == {cookie}


@pytest.mark.integration
def test_kiosk_screen_rides_out_a_restart_on_its_cookie(
    tmp_path: Path, redis_url: str, page_factory: Callable[..., Any], citywall_proc: Callable[..., CitywallProcess]
) -> None:
    store = RedisStore(redis_url)
    try:
        _, secret = TokenStore(store).create("kiosk", scope="screen", screen=4)
    finally:
        store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*CITYWALL_CMD, "serve", "--port", str(port)]
    env = {ANONYMOUS_READ_ENV: "false", "CITYWALL_STORE_URL": redis_url, "CITYWALL_MQTT_URL": "", "CITYWALL_REDIS_URL": ""}
    first = citywall_proc(command, env=env)
    first.wait_http(f"{base}/healthz", timeout=60)

    page = page_factory(1920, 1080)
    callbacks = record_callbacks(page)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{base}/screen/4?token={secret}")
    page.wait_for_function(PANEL_READY, timeout=20_000, polling=100)
    page.evaluate("window.__sameDocument = true")

    first.kill()
    second = citywall_proc(command, env=env)
    second.wait_http(f"{base}/healthz", timeout=60)
    # the page's poll goes on by itself; its next answered callback comes from the new process
    page.wait_for_event("response", timeout=30_000, predicate=lambda r: "/_dash-update-component" in r.url and r.status == 200)
    assert not [c for c in callbacks if c["status"] in (401, 403)], "a kiosk request was refused"
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    with_token = [u for u in requested if "token=" in u]
    assert with_token == [f"{base}/screen/4?token={secret}"], "only the first request carries the token"


def test_the_nightly_reload_happens_but_never_into_the_login_form(page_factory: Callable[..., Any]) -> None:
    """Two kiosks on one screen's token. At reload time the first reloads. Then the token is
    revoked: the second, at its reload time, stays on the screen it shows (the server would
    send it to a login form that no one at a kiosk can fill in) and says so in its console."""
    import requests

    from dashboard.local_services import wait_until

    store = MemoryStore()
    tokens = TokenStore(store)
    token, secret = tokens.create("kiosk", scope="screen", screen=4)
    with running_app(closed_config(), store) as base:
        url = f"{base}/screen/4?token={secret}"
        first, second = page_factory(1280, 800), page_factory(1280, 800)
        for page in (first, second):
            page.clock.install()
            page.goto(url)
            page.wait_for_function(PANEL_READY, timeout=20_000, polling=100)
            page.evaluate("window.__sameDocument = true")

        first.clock.fast_forward("24:00:00")  # past 03:00, whenever the test runs
        first.wait_for_function("() => window.__sameDocument === undefined", timeout=20_000)
        first.wait_for_function(PANEL_READY, timeout=20_000, polling=100)

        assert len(tokens.revoke(token.id)) == 1
        wait_until(lambda: requests.get(url, allow_redirects=False, timeout=10).status_code == 401, 15, "the token refused")
        with second.expect_console_message(lambda message: "staying" in message.text, timeout=20_000) as said:
            second.clock.fast_forward("24:00:00")
        assert "no longer lets this page in (401)" in said.value.text
        assert second.evaluate("window.__sameDocument === true"), "the kiosk reloaded"
        assert second.url == url


def test_a_kiosk_whose_token_is_revoked_says_so_across_the_screen(page_factory: Callable[..., Any], tmp_path: Path) -> None:
    """It went on looking alive until its panels turned stale, a minute later, with no word of
    why. The server closes its push when the token no longer holds; the page then says so,
    in the wall's language, and keeps what it shows."""
    store = MemoryStore()
    tokens = TokenStore(store)
    token, secret = tokens.create("kiosk", scope="screen", screen=4)
    with running_app(closed_config(), store) as base:
        page = page_factory(1920, 1080)
        page.goto(f"{base}/screen/4?token={secret}")
        page.wait_for_function(PANEL_READY, timeout=20_000, polling=100)
        page.wait_for_function("() => window.citywall_push && window.citywall_push.healed !== undefined", timeout=10_000)
        assert page.locator("#cw-refused").count() == 0

        assert len(tokens.revoke(token.id)) == 1
        notice = page.locator("#cw-refused")
        notice.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "refused.png"))
        assert notice.inner_text() == (
            "Layar ini tidak lagi diizinkan server: tokennya dicabut atau tidak berlaku. Minta alamat baru ke admin."
        )
        assert notice.get_attribute("role") == "alert"
        assert page.evaluate(PANEL_READY), "the page keeps what it showed"

"""A page that has lost its server, or its right to it, says so in words.

A kiosk cut off from its server went on showing its last picture as if live: its panels
turned stale one by one, minutes later, the clock ticking on. A kiosk refused when its socket
came back (its token revoked while it was away) never said so: the guard answers that
handshake with a plain 401, which the browser reports as any other drop. And a signed-in
tablet whose session ended froze on old numbers. Each case is met here in a real Chromium,
through a proxy that can be cut the way a network or a proxy restart cuts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from dashboard.auth.tokens import TokenStore
from dashboard.local_services import wait_until
from dashboard.sample_city import City
from tests.support.auth import add_users, closed_config, running_app
from tests.support.proxy import CuttableProxy

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PANEL_READY = (
    "() => { const p = document.querySelector('[data-panel] .cw-panel-body'); return !!p && p.innerText.trim().length > 0; }"
)
#: The page asks the server about itself after this long without a socket (10 s in the product).
PROBE_MS = 1_000


@pytest.fixture
def kiosk() -> Iterator[tuple[City, TokenStore, Any, str]]:
    """A closed site with a moving city, a kiosk token for screen 4 and the page's URL through a
    proxy the test can cut."""
    config = closed_config()
    city = City(config).replay(hours=1.0, step_s=180)
    tokens = TokenStore(city.store)
    token, secret = tokens.create("kiosk", scope="screen", screen=4, name="kiosk-4")
    with running_app(config, city.store) as base:
        proxy = CuttableProxy(int(urlsplit(base).port or 0))
        try:
            yield city, tokens, (token, proxy), f"http://127.0.0.1:{proxy.port}/screen/4?token={secret}"
        finally:
            proxy.close()


def opened(page_factory: Callable[..., Any], url: str) -> Any:
    page = page_factory(1920, 1080)
    page.add_init_script(f"window.CITYWALL_PROBE_MS = {PROBE_MS}")
    page.goto(url)
    page.wait_for_function(PANEL_READY, timeout=20_000, polling=100)
    page.wait_for_function("() => window.citywall_push && window.citywall_push.healed !== undefined", timeout=10_000)
    return page


def city_clock(zone: str) -> str:
    return datetime.now(ZoneInfo(zone)).strftime("%H:%M")


def test_a_screen_cut_off_from_its_server_says_since_when_and_clears_when_back(
    page_factory: Callable[..., Any], kiosk: tuple[City, TokenStore, Any, str], tmp_path: Any
) -> None:
    city, _, (_, proxy), url = kiosk
    page = opened(page_factory, url)
    assert page.locator(".cw-notice").count() == 0

    before = city_clock(city.config.city.timezone)
    proxy.refusing.set()
    proxy.cut()
    after = city_clock(city.config.city.timezone)
    notice = page.locator("#cw-offline")
    notice.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "offline.png"))
    said = re.fullmatch(
        r"Tidak ada sambungan ke server sejak (\d\d:\d\d)\. Layar menampilkan data terakhir yang diterima\.", notice.inner_text()
    )
    assert said is not None, notice.inner_text()
    assert said.group(1) in {before, after}, "since the drop, on the city's clock"
    assert notice.get_attribute("role") == "alert"
    assert page.locator("#cw-refused").count() == 0, "an outage is not a refusal"
    assert page.evaluate(PANEL_READY), "the page keeps what it showed"

    proxy.refusing.clear()
    notice.wait_for(state="detached", timeout=30_000)
    assert page.locator(".cw-notice").count() == 0


def test_a_kiosk_refused_as_it_reconnects_says_it_is_refused(
    page_factory: Callable[..., Any], kiosk: tuple[City, TokenStore, Any, str]
) -> None:
    """Revoked while its socket was down: no socket is open for the server to close with 4401,
    and the new one is refused at the handshake."""
    _, tokens, (token, proxy), url = kiosk
    page = opened(page_factory, url)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    proxy.refusing.set()
    proxy.cut()
    assert len(tokens.revoke(token.id)) == 1
    direct = url.replace(f":{proxy.port}/", f":{proxy.target}/")
    # past the guard's short memory of who a token is: the next handshake itself is refused
    wait_until(lambda: requests.get(direct, allow_redirects=False, timeout=10).status_code == 401, 15, "the token refused")
    accepted = proxy.accepted
    proxy.refusing.clear()
    wait_until(lambda: proxy.accepted > accepted, 30, "the page came back through the proxy")

    notice = page.locator("#cw-refused")
    notice.wait_for(timeout=30_000)
    assert notice.inner_text() == (
        "Layar ini tidak lagi diizinkan server: tokennya dicabut atau tidak berlaku. Minta alamat baru ke admin."
    )
    assert page.locator("#cw-offline").count() == 0, "the server answered: refused, not offline"
    # its poll goes on being refused, and Dash's renderer reads each refusal's body twice: that
    # threw "body stream already read" on every one
    for _ in range(2):
        with page.expect_response(lambda r: "/_dash-update-component" in r.url and r.status == 401, timeout=30_000):
            pass
    assert errors == []


def test_a_signed_in_tablet_whose_session_ended_goes_to_the_login(page_factory: Callable[..., Any]) -> None:
    config = closed_config()
    city = City(config).replay(hours=1.0, step_s=180)
    viewer = add_users(city.store)["viewer"]
    with running_app(config, city.store) as base:
        page = page_factory(1180, 820)
        page.goto(f"{base}/tablet")
        page.wait_for_selector("[data-page=login]")
        page.fill("#username", viewer.name)
        page.fill("#password", viewer.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/tablet")
        page.wait_for_selector('[data-panel="tablet"]')

        page.context.clear_cookies(name="citywall_session")
        page.wait_for_url("**/login?next=%2Ftablet", timeout=30_000)


def test_a_tablet_on_a_kiosk_token_hides_it_and_says_so_when_refused(page_factory: Callable[..., Any]) -> None:
    """The mayor's tablet shows an address bar: its token leaves it as the page starts, the
    tablet reads on its cookie after a reload, and once the token is revoked it says it is
    refused, where a signed-in tablet would go to the login form."""
    config = closed_config()
    city = City(config).replay(hours=1.0, step_s=180)
    tokens = TokenStore(city.store)
    token, secret = tokens.create("kiosk", scope="tablet", name="tablet-mayor")
    with running_app(config, city.store) as base:
        page = page_factory(1180, 820)
        page.goto(f"{base}/tablet?token={secret}&pillar=economy")
        page.wait_for_selector('[data-pillar=economy][aria-expanded="true"]', timeout=20_000)
        assert page.url == f"{base}/tablet?pillar=economy"
        assert secret not in page.evaluate("() => window.location.href")

        page.reload()
        page.wait_for_selector('[data-pillar=economy][aria-expanded="true"]', timeout=20_000)
        assert page.url == f"{base}/tablet?pillar=economy"

        assert len(tokens.revoke(token.id)) == 1
        # two refused callbacks: the page has read the first one's answer before the second
        for _ in range(2):
            page.wait_for_event("response", lambda r: r.status == 401 and "/_dash-update-component" in r.url, timeout=60_000)
        page.locator("#cw-refused").wait_for(timeout=30_000)
        assert urlsplit(page.url).path == "/tablet", "no sign-in form for a tablet on a token"

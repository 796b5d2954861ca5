"""Access control over HTTP and the websocket, in the default (closed) mode.

Every identity the product knows (nobody, each role's session, kiosk tokens of each scope, an
API token) is sent against every kind of route (pages, Dash endpoints, the JSON API, metrics,
health, a route guarded by ``writer``), and the status codes are the ones written here by
hand. CSRF: a session's write without its token, with a wrong one, or from a foreign Origin is
refused; a bearer token's write needs none.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from fastapi import Depends
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dashboard.auth import Principal, current_principal, writer
from dashboard.auth.sessions import CookieSigner, shared_secret
from dashboard.auth.tokens import TokenStore, digest
from dashboard.auth.users import UserStore
from dashboard.store.memory import MemoryStore
from layouts.push import PUSH_PATH
from tests.support.auth import Credentials, add_users, closed_config, login, running_app
from tests.support.helpers import beat_callback, wait_until

#: The pages router callback: what a browser POSTs to render /wall.
PAGE_CALLBACK = {
    "output": "..cw-page.children...cw-page-title.data..",
    "outputs": [{"id": "cw-page", "property": "children"}, {"id": "cw-page-title", "property": "data"}],
    "inputs": [
        {"id": "cw-location", "property": "pathname", "value": "/wall"},
        {"id": "cw-location", "property": "search", "value": ""},
    ],
    "changedPropIds": ["cw-location.pathname"],
    "state": [],
}


def add_test_routes(app: Any) -> None:
    """Routes guarded the way the operations endpoints are, so the contract is tested as used."""
    for role in ("operator", "supervisor", "admin"):

        def act(who: Principal = Depends(writer(role))) -> dict[str, str]:
            return {"name": who.name, "role": who.role}

        app.server.post(f"/api/v1/test-write/{role}")(act)

    def seen() -> dict[str, Any]:
        who = current_principal()
        return {"name": who.name if who else None}

    app.server.get("/api/v1/test-current")(seen)

    from dash import Input, Output

    @app.callback(Output("test-who", "children"), Input("test-ask", "value"))
    def who_http(_: Any) -> str:
        who = current_principal()
        return f"{who.name}/{who.role}/{who.via}" if who else "none"

    @app.callback(Output("test-who-ws", "children"), Input("test-ask-ws", "value"), websocket=True)
    def who_ws(_: Any) -> str:
        who = current_principal()
        return f"{who.name}/{who.role}/{who.via}" if who else "none"


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, Any]]:
    store = MemoryStore()
    users = add_users(store)
    tokens = TokenStore(store)
    secrets = {
        "screen4": tokens.create("kiosk", scope="screen", screen=4)[1],
        "wall": tokens.create("kiosk", scope="wall")[1],
        "tablet": tokens.create("kiosk", scope="tablet")[1],
        "kiosk": tokens.create("kiosk")[1],
        "api-operator": tokens.create("operator", name="integration")[1],
    }
    with running_app(closed_config(), store, setup=add_test_routes) as base:
        yield {"base": base, "store": store, "users": users, "tokens": secrets}


def client(site: dict[str, Any], who: str) -> requests.Session:
    """A client acting as ``who``: nobody, a role's session, a kiosk (cookie set by its URL), or an API token."""
    base = site["base"]
    if who == "nobody":
        return requests.Session()
    if who in site["users"]:
        creds: Credentials = site["users"][who]
        return login(base, creds.name, creds.password)
    session = requests.Session()
    secret = site["tokens"][who]
    if who.startswith("api-"):
        session.headers["Authorization"] = f"Bearer {secret}"
        return session
    landing = {"screen4": "/screen/4", "wall": "/wall", "tablet": "/tablet", "kiosk": "/wall"}[who]
    first = session.get(f"{base}{landing}?token={secret}", allow_redirects=False, timeout=30)
    assert first.status_code == 200, first.text[:200]
    assert "citywall_kiosk" in session.cookies, "the kiosk URL must leave a cookie for Dash's own requests"
    return session


WHO = ["nobody", "viewer", "operator", "supervisor", "admin", "screen4", "wall", "tablet", "kiosk", "api-operator"]
# expected GET status per route, in WHO's order; 303 is the redirect to /login
READS: dict[str, list[int]] = {
    "/wall": [303, 200, 200, 200, 200, 403, 200, 403, 200, 200],
    "/screen/4": [303, 200, 200, 200, 200, 200, 200, 403, 200, 200],
    "/screen/5": [303, 200, 200, 200, 200, 403, 200, 403, 200, 200],
    "/tablet": [303, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "/_dash-layout": [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "/_dash-dependencies": [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    "/api/v1/state": [401, 200, 200, 200, 200, 403, 403, 403, 200, 200],
    "/api/v1/feeds": [401, 200, 200, 200, 200, 403, 403, 403, 200, 200],
    "/api/v1/summary.html": [401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "/metrics": [401, 200, 200, 200, 200, 403, 403, 403, 200, 200],
    "/docs": [404] * 10,  # the API docs are off by default (server.api_docs), for everyone
    "/healthz": [200] * 10,
    "/login": [200] * 10,
    "/assets/citywall.css": [200] * 10,
    "/_dash-component-suites/dash/dcc/dash_core_components.js": [200] * 10,
    # not a file Dash serves: a 404 once signed in (it was Dash's catch-all page)
    "/_dash-component-suites/x": [401] + [404] * 9,
}
# expected POST status of writer(role) routes
WRITES: dict[str, list[int]] = {
    "operator": [401, 403, 200, 200, 200, 403, 403, 403, 403, 200],
    "supervisor": [401, 403, 403, 200, 200, 403, 403, 403, 403, 403],
    "admin": [401, 403, 403, 403, 200, 403, 403, 403, 403, 403],
}


@pytest.mark.parametrize("who", WHO)
def test_reads_by_identity(site: dict[str, Any], who: str) -> None:
    s = client(site, who)
    got = {path: s.get(site["base"] + path, allow_redirects=False, timeout=60).status_code for path in READS}
    want = {path: codes[WHO.index(who)] for path, codes in READS.items()}
    assert got == want


def test_a_page_without_login_redirects_to_the_login_and_back(site: dict[str, Any]) -> None:
    r = requests.get(site["base"] + "/screen/7?lang=en", allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fscreen%2F7%3Flang%3Den"
    page = requests.get(site["base"] + r.headers["location"], timeout=30).text
    assert 'data-next="/screen/7?lang=en"' in page


@pytest.mark.parametrize(
    ("token", "cookie"), [("not-a-token", None), (None, "not-signed-here"), ("not-a-token", "not-signed-here")]
)
def test_a_page_asked_for_with_an_unknown_token_says_its_address_is_not_valid(
    site: dict[str, Any], token: str | None, cookie: str | None
) -> None:
    """A kiosk, or the mayor's tablet, whose token was revoked or whose server was set up anew
    went to the login form on its next load, where nobody in front of it can sign in."""
    params = {"lang": "en", **({"token": token} if token else {})}
    cookies = {"citywall_kiosk": cookie} if cookie else {}
    r = requests.get(site["base"] + "/screen/7", params=params, cookies=cookies, allow_redirects=False, timeout=30)
    assert (r.status_code, r.headers["content-type"]) == (401, "text/html; charset=utf-8")
    assert (
        "<title>citywall – Alamat layar ini tidak berlaku lagi / This screen&#x27;s address is no longer valid</title>" in r.text
    )
    # each language a paragraph of its own: run together, the Indonesian stopped mid-sentence into the English
    assert '<section lang="id"><h1>Alamat layar ini tidak berlaku lagi</h1><p>Token pada alamat ini dicabut' in r.text
    assert '<section lang="en"><h2>This screen&#x27;s address is no longer valid</h2><p>The token in this address' in r.text
    assert '<a href="/login?next=%2Fscreen%2F7%3Flang%3Den">masuk / sign in</a>' in r.text
    assert "not-a-token" not in r.text
    api = requests.get(site["base"] + "/api/v1/incidents", params=params, cookies=cookies, timeout=30)
    assert (api.status_code, api.json()) == (401, {"detail": "login or token required"})


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"])
def test_login_page_never_sends_elsewhere(site: dict[str, Any], target: str) -> None:
    page = requests.get(site["base"] + "/login", params={"next": target}, timeout=30).text
    assert 'data-next="/wall"' in page


@pytest.mark.parametrize("who", WHO)
def test_writes_by_identity(site: dict[str, Any], who: str) -> None:
    s = client(site, who)
    got = {role: s.post(f"{site['base']}/api/v1/test-write/{role}", timeout=30).status_code for role in WRITES}
    want = {role: codes[WHO.index(who)] for role, codes in WRITES.items()}
    assert got == want


def test_writer_answers_with_the_identity(site: dict[str, Any]) -> None:
    s = client(site, "supervisor")
    assert s.post(f"{site['base']}/api/v1/test-write/operator", timeout=30).json() == {"name": "supervisor", "role": "supervisor"}
    assert s.get(f"{site['base']}/api/v1/test-current", timeout=30).json() == {"name": "supervisor"}
    api = client(site, "api-operator")
    assert api.post(f"{site['base']}/api/v1/test-write/operator", timeout=30).json() == {
        "name": "integration",
        "role": "operator",
    }


@pytest.mark.parametrize("path", ["/api/v1/test-write/operator", "/_dash-update-component", "/api/v1/logout"])
def test_session_writes_need_the_csrf_token_and_our_origin(site: dict[str, Any], path: str) -> None:
    creds = site["users"]["admin"]
    base = site["base"]
    s = login(base, creds.name, creds.password)
    token = s.headers.pop("X-CSRF-Token")
    body = PAGE_CALLBACK if "dash" in path else None
    assert s.post(base + path, json=body, timeout=30).status_code == 403
    assert s.post(base + path, json=body, headers={"X-CSRF-Token": token[:-2] + "xx"}, timeout=30).status_code == 403
    foreign = s.post(base + path, json=body, headers={"X-CSRF-Token": token, "Origin": "http://evil.example"}, timeout=30)
    assert foreign.status_code == 403
    assert "origin" in foreign.text  # refused by the web layer's origin check or by the CSRF guard
    null_origin = s.post(base + path, json=body, headers={"X-CSRF-Token": token, "Origin": "null"}, timeout=30)
    assert null_origin.status_code == 403
    assert s.post(base + path, json=body, headers={"X-CSRF-Token": token}, timeout=30).status_code == 200


def drawn(site: dict[str, Any], who: str, path: str) -> str:
    """What the page router's callback gives ``who`` for ``path``: the HTTP status when it
    refused the request, else which page it drew ("console", whose mini wall is no "wall") or
    "not allowed"."""
    body = {**PAGE_CALLBACK, "inputs": [{**PAGE_CALLBACK["inputs"][0], "value": path}, PAGE_CALLBACK["inputs"][1]]}
    r = client(site, who).post(site["base"] + "/_dash-update-component", json=body, timeout=60)
    if r.status_code != 200:
        return str(r.status_code)
    for marker, name in (("cw-console", "console"), ("cw-wall", "wall"), ("Token ini tidak boleh", "not allowed")):
        if marker in r.text:
            return name
    return r.text[:200]


def test_dash_callbacks_by_identity(site: dict[str, Any]) -> None:
    """Read-only callbacks run for every reader, kiosks included; nobody gets nothing. The
    page router draws a kiosk only the pages its token may read: every page is drawn by that
    one callback, from whatever path the browser posts."""

    def expected(page: str, refused: tuple[str, ...]) -> dict[str, str]:
        return {who: "401" if who == "nobody" else "not allowed" if who in refused else page for who in WHO}

    assert {who: drawn(site, who, "/wall") for who in WHO} == expected("wall", ("screen4", "tablet"))
    assert {who: drawn(site, who, "/console") for who in WHO} == expected("console", ("screen4", "wall", "tablet"))


@pytest.mark.parametrize(
    ("who", "path", "own"), [("tablet", "/wall", "/tablet"), ("screen4", "/screen/5", "/screen/4"), ("wall", "/tablet", "/wall")]
)
def test_a_kiosk_on_a_page_not_its_own_gets_a_page_that_says_so_and_links_its_own(
    site: dict[str, Any], who: str, path: str, own: str
) -> None:
    """It got the guard's JSON refusal: a line of raw text on a wall screen."""
    page = client(site, who).get(site["base"] + path, timeout=30)
    assert (page.status_code, page.headers["content-type"]) == (403, "text/html; charset=utf-8")
    assert "Token ini bukan untuk halaman ini / This token is not for this page" in page.text
    assert f'<a href="{own}">{own}</a>' in page.text
    api = client(site, who).get(site["base"] + "/api/v1/incidents", timeout=30)
    assert (api.status_code, api.json()) == (403, {"detail": "this token may not read this page"})
    write = client(site, who).post(site["base"] + "/api/v1/incidents/X-1/actions", json={"action": "acknowledge"}, timeout=30)
    assert (write.status_code, write.json()) == (403, {"detail": "kiosk tokens only read"})  # not "may not read this page"


#: The console's queue list: a read-only callback of a page a scoped kiosk may not show.
CONSOLE_QUEUE_CALLBACK = {
    "output": "..cw-console-queue.children...cw-console-queue-sig.data..",
    "outputs": [{"id": "cw-console-queue", "property": "children"}, {"id": "cw-console-queue-sig", "property": "data"}],
    "inputs": [
        {"id": "cw-version", "property": "data", "value": 1},
        {"id": "cw-filter-severity", "property": "value", "value": None},
        {"id": "cw-filter-status", "property": "value", "value": None},
        {"id": "cw-filter-text", "property": "value", "value": None},
        {"id": "cw-console-selected", "property": "data", "value": None},
    ],
    "changedPropIds": ["cw-version.data"],
    "state": [{"id": "cw-console-queue-sig", "property": "data", "value": None}],
}


def test_a_page_s_callbacks_answer_only_those_who_may_show_the_page(site: dict[str, Any]) -> None:
    """Dash's endpoint is open to every kiosk (every page needs it), so a token scoped to a
    screen, the wall or the tablet could run the console's list: 204 (nothing updated) now."""
    url = site["base"] + "/_dash-update-component"
    got = {who: client(site, who).post(url, json=CONSOLE_QUEUE_CALLBACK, timeout=60) for who in WHO}
    statuses = {who: r.status_code for who, r in got.items()}
    assert statuses == dict(zip(WHO, [401, 200, 200, 200, 200, 204, 204, 204, 200, 200], strict=True))
    assert all("cw-console-queue" in r.json()["response"] for r in got.values() if r.status_code == 200)


QUEUE_ID = {"instance": "s4-0", "role": "incident_queue-content"}
QUEUE_SIG = {"instance": "s4-0", "role": "incident_queue-sig"}
#: The incident queue's poll (``layouts.live_parts``), for the copy on screen 4 and the wall.
QUEUE_POLL = {
    "output": '..{"instance":["ALL"],"role":"incident_queue-content"}.tree'
    '...{"instance":["ALL"],"role":"incident_queue-sig"}.data..',
    "outputs": [[{"id": QUEUE_ID, "property": "tree"}], [{"id": QUEUE_SIG, "property": "data"}]],
    "inputs": [{"id": "cw-version", "property": "data", "value": 1}],
    "changedPropIds": ["cw-version.data"],
    "state": [[{"id": QUEUE_SIG, "property": "data", "value": None}]],
}


def test_a_live_part_goes_only_to_those_who_may_show_a_page_that_holds_it(site: dict[str, Any]) -> None:
    """The queue is on screen 4 and the wall: a tablet's token read it through its poll."""
    url = site["base"] + "/_dash-update-component"
    got = {who: client(site, who).post(url, json=QUEUE_POLL, timeout=60) for who in WHO}
    statuses = {who: r.status_code for who, r in got.items()}
    assert statuses == dict(zip(WHO, [401, 200, 200, 200, 200, 200, 200, 204, 200, 200], strict=True))
    assert all("incident_queue-content" in r.text for r in got.values() if r.status_code == 200)


def first_push_frame(site: dict[str, Any], who: str, parts: list[list[str]]) -> dict[str, Any]:
    """The first frame the push sends ``who`` after claiming ``parts``."""
    session = client(site, who)
    jar = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    url = site["base"].replace("http://", "ws://") + "/_citywall/push"
    with connect(url, origin=site["base"], additional_headers={"Cookie": jar}, open_timeout=10) as ws:
        ws.send(json.dumps({"parts": parts}))
        frame: dict[str, Any] = json.loads(ws.recv(timeout=15))
        return frame


def test_the_push_sends_a_scoped_kiosk_only_the_parts_of_its_pages(site: dict[str, Any]) -> None:
    """The same rule on the push: what a page claims is kept to what its token may show."""
    parts = [["incident_queue", "s4-0"], ["ticker", "s13-0"]]
    sent = {who: {u[0] for u in first_push_frame(site, who, parts)["u"]} for who in ("screen4", "tablet", "wall")}
    assert sent == {"screen4": {"incident_queue-content"}, "tablet": set(), "wall": {"incident_queue-content", "ticker-content"}}


def beat_as(site: dict[str, Any], who: str, beat_id: str, page: str) -> int:
    """The poll's callback posted as ``who``, carrying a heartbeat for ``page`` (``layouts.live``)."""
    body = beat_callback(beat_id, page)
    return client(site, who).post(site["base"] + "/_dash-update-component", json=body, timeout=60).status_code


def test_a_heartbeat_counts_only_for_a_page_its_sender_may_read(site: dict[str, Any]) -> None:
    """A kiosk token for screen 4 (or the tablet) cannot make screen 9 look alive on the list."""
    readers = [who for who in WHO if who != "nobody"]
    assert {who: beat_as(site, who, f"nine-{who}", "/screen/9") for who in readers} == {who: 200 for who in readers}
    assert beat_as(site, "screen4", "four-screen4", "/screen/4") == 200
    listing = client(site, "operator").get(site["base"] + "/api/v1/screens", timeout=30).json()
    reported = sorted(e["id"] for e in listing["screens"] if e["id"].startswith(("nine-", "four-")))
    assert reported == sorted(["four-screen4", *(f"nine-{who}" for who in readers if who not in ("screen4", "tablet"))])
    by = {e["id"]: e["by"] for e in listing["screens"] if e["id"] in ("four-screen4", "nine-viewer")}
    assert by == {"four-screen4": "screen-4 (token)", "nine-viewer": "viewer (session)"}, "each entry names who reported it"


def callback_payload(suffix: str = "") -> dict[str, Any]:
    return {
        "output": f"test-who{suffix}.children",
        "outputs": {"id": f"test-who{suffix}", "property": "children"},
        "inputs": [{"id": f"test-ask{suffix}", "property": "value", "value": 1}],
        "changedPropIds": [f"test-ask{suffix}.value"],
        "state": [],
    }


@pytest.mark.parametrize(
    "who, expected",
    [
        ("operator", "operator/operator/session"),
        ("screen4", "screen-4/kiosk/token"),
        ("api-operator", "integration/operator/token"),
    ],
)
def test_dash_callbacks_know_who_called_them(site: dict[str, Any], who: str, expected: str) -> None:
    r = client(site, who).post(site["base"] + "/_dash-update-component", json=callback_payload(), timeout=30)
    assert r.status_code == 200
    assert r.json()["response"]["test-who"]["children"] == expected


def test_bearer_writes_need_no_csrf_token_but_a_wrong_bearer_is_nobody(site: dict[str, Any]) -> None:
    base = site["base"]
    ok = requests.post(
        f"{base}/api/v1/test-write/operator",
        timeout=30,
        headers={"Authorization": f"Bearer {site['tokens']['api-operator']}", "Origin": base},
    )
    assert ok.status_code == 200
    bad = requests.post(f"{base}/api/v1/test-write/operator", headers={"Authorization": "Bearer x" * 3}, timeout=30)
    assert bad.status_code == 401
    huge = requests.get(f"{base}/api/v1/state", headers={"Authorization": "Bearer " + "x" * 5000}, timeout=30)
    assert huge.status_code == 401


def test_login_refuses_wrong_passwords_unknown_users_bad_shapes_and_foreign_origins(site: dict[str, Any]) -> None:
    base, creds = site["base"], site["users"]["operator"]
    url = f"{base}/api/v1/login"
    assert requests.post(url, json={"username": creds.name, "password": "wrong-password"}, timeout=30).status_code == 401
    assert requests.post(url, json={"username": "nobody-here", "password": "whatever-1"}, timeout=30).status_code == 401
    assert requests.post(url, json={"username": creds.name}, timeout=30).status_code == 422
    too_long = requests.post(url, json={"username": creds.name, "password": "p" * 1030}, timeout=30)
    assert (too_long.status_code, too_long.json()["detail"][0]["loc"]) == (422, ["body", "password"])
    assert "ppp" not in too_long.text  # the refusal does not echo the password
    as_text = requests.post(url, data="password=hunter2-secret", headers={"Content-Type": "text/plain"}, timeout=30)
    assert as_text.status_code == 422 and "hunter2" not in as_text.text
    assert requests.post(url, json={"username": "u" * 65, "password": "whatever-1"}, timeout=30).status_code == 422
    assert (
        requests.post(url, json={"username": creds.name, "password": creds.password, "role": "admin"}, timeout=30).status_code
        == 422
    )
    foreign = requests.post(
        url, json={"username": creds.name, "password": creds.password}, headers={"Origin": "http://evil.example"}, timeout=30
    )
    assert foreign.status_code == 403
    assert "set-cookie" not in foreign.headers


def test_ten_wrong_passwords_from_one_address_make_the_next_try_wait() -> None:
    """Its own app: the tries of this test's address would hold up every other login here."""
    store = MemoryStore()
    creds = add_users(store)["operator"]
    with running_app(closed_config(), store) as base:
        url, origin = f"{base}/api/v1/login", {"Origin": base}
        codes = [
            requests.post(url, json={"username": creds.name, "password": "salah"}, headers=origin, timeout=30).status_code
            for _ in range(10)
        ]
        right = requests.post(url, json={"username": creds.name, "password": creds.password}, headers=origin, timeout=30)
    assert codes == [401] * 10
    assert (right.status_code, right.headers.get("retry-after")) == (429, "900"), "the longest the wait lasts: 15 minutes"


def test_many_logins_at_once_from_one_address_leave_checks_for_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one address keeps six wrong passwords in flight, an operator logging in from
    another address gets in: answered "too many" at once, the wrong ones had held every check.

    Its own app. The wrong passwords' checks are held open until the operator's answer is in
    (slow checks, as on a loaded server), so that their overlap does not hang on timing. The
    addresses come in ``X-Forwarded-For``, which uvicorn takes from a peer on 127.0.0.1."""
    store = MemoryStore()
    creds = add_users(store)["operator"]
    release = threading.Event()
    held: list[str] = []

    def hold_wrong_ones(app: Any) -> None:
        auth = app.server.state.citywall_auth
        check = auth.login

        def login(name: str, password: str) -> Any:
            if password == "salah":
                held.append(name)
                release.wait(60)
            return check(name, password)

        monkeypatch.setattr(auth, "login", login)

    with running_app(closed_config(), store, setup=hold_wrong_ones) as base:

        def attempt(address: str, password: str) -> int:
            headers = {"Origin": base, "X-Forwarded-For": address}
            body = {"username": creds.name, "password": password}
            return requests.post(f"{base}/api/v1/login", json=body, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(6) as pool:
            wrong = [pool.submit(attempt, "203.0.113.7", "salah") for _ in range(6)]
            try:
                wait_until(lambda: len(held) + sum(f.done() for f in wrong) == 6, 30, "each wrong try held or answered")
                right = attempt("198.51.100.20", creds.password)
            finally:
                release.set()
            answers = sorted(f.result() for f in wrong)
    assert right == 200
    assert answers == [401, 401, 429, 429, 429, 429], "two of that address's tries in at once, the rest refused"


def test_login_sets_a_signed_httponly_samesite_session(site: dict[str, Any]) -> None:
    base, creds = site["base"], site["users"]["viewer"]
    r = requests.post(f"{base}/api/v1/login", json={"username": creds.name, "password": creds.password}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == "viewer" and body["role"] == "viewer" and len(body["csrf_token"]) >= 32
    cookies = r.raw.headers.getlist("set-cookie")
    session = next(c for c in cookies if c.startswith("citywall_session="))
    csrf = next(c for c in cookies if c.startswith("citywall_csrf="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert csrf.startswith(f"citywall_csrf={body['csrf_token']};") and "HttpOnly" not in csrf
    # a tampered session is nobody
    value = session.split(";")[0].split("=", 1)[1]
    tampered = requests.get(f"{base}/api/v1/me", cookies={"citywall_session": value[:-3] + "AAA"}, timeout=30)
    assert tampered.status_code == 401
    assert requests.get(f"{base}/api/v1/me", cookies={"citywall_session": value}, timeout=30).json()["name"] == "viewer"


def wait_for_status(fetch: Callable[[], int], want: int, timeout: float = 15.0) -> int:
    """Per-worker caches hold a lookup for a few seconds; poll until the change shows."""
    deadline = time.monotonic() + timeout
    while True:
        status = fetch()
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_a_logout_ends_the_session_for_every_copy_of_its_cookie(site: dict[str, Any]) -> None:
    """A copy of the cookie taken before the logout (a shared desk, a saved cookie jar) was
    still an operator for the cookie's 12 hours; another login of the same user is not touched."""
    base, store = site["base"], site["store"]
    UserStore(store).add("desk-op", "operator", "desk-password-1")
    browser = login(base, "desk-op", "desk-password-1")
    other_login = login(base, "desk-op", "desk-password-1")
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    copy.headers.update(browser.headers)  # the CSRF token and Origin too
    assert copy.get(f"{base}/api/v1/me", timeout=30).json()["name"] == "desk-op"
    assert browser.post(f"{base}/api/v1/logout", timeout=30).status_code == 200
    assert copy.get(f"{base}/api/v1/me", timeout=30).status_code == 401  # this worker: at once
    assert copy.post(f"{base}/api/v1/test-write/operator", timeout=30).status_code == 401
    assert other_login.get(f"{base}/api/v1/me", timeout=30).json()["name"] == "desk-op"


def test_password_change_and_removal_end_sessions_and_revocation_ends_tokens(site: dict[str, Any]) -> None:
    base, store = site["base"], site["store"]
    accounts = UserStore(store)
    accounts.add("temp-op", "operator", "temp-password-1")
    s = login(base, "temp-op", "temp-password-1")
    assert s.get(f"{base}/api/v1/me", timeout=30).status_code == 200
    accounts.passwd("temp-op", "temp-password-2")
    assert wait_for_status(lambda: s.get(f"{base}/api/v1/me", timeout=30).status_code, 401) == 401
    s = login(base, "temp-op", "temp-password-2")
    accounts.remove("temp-op")
    assert wait_for_status(lambda: s.get(f"{base}/api/v1/me", timeout=30).status_code, 401) == 401

    tokens = TokenStore(store)
    _, secret = tokens.create("kiosk", scope="screen", screen=9, name="temp-screen")
    kiosk = requests.Session()
    assert kiosk.get(f"{base}/screen/9?token={secret}", timeout=30).status_code == 200
    assert kiosk.get(f"{base}/_dash-layout", timeout=30).status_code == 200
    assert [t.name for t in tokens.revoke("temp-screen")] == ["temp-screen"]
    assert wait_for_status(lambda: kiosk.get(f"{base}/_dash-layout", timeout=30).status_code, 401) == 401
    assert kiosk.get(f"{base}/screen/9", allow_redirects=False, timeout=30).status_code == 401  # says its address is not valid


def test_a_kiosk_cookie_names_its_token_by_signature_not_by_hash(site: dict[str, Any]) -> None:
    """Someone who read the token hashes from the store still cannot forge a kiosk cookie."""
    from dashboard.auth.tokens import digest

    forged = requests.get(f"{site['base']}/_dash-layout", timeout=30, cookies={"citywall_kiosk": digest(site["tokens"]["kiosk"])})
    assert forged.status_code == 401


# --- the websocket ------------------------------------------------------------------------
def ws_status(site: dict[str, Any], session: requests.Session | None, origin: str | None = None, path: str = PUSH_PATH) -> int:
    """101 when the upgrade is accepted, else the HTTP status the handshake was refused with."""
    base = site["base"]
    url = base.replace("http://", "ws://") + path
    headers = {}
    if session is not None:
        headers.update({k: v for k, v in session.headers.items() if k == "Authorization"})
        jar = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        if jar:
            headers["Cookie"] = jar
    try:
        with connect(url, origin=origin or base, additional_headers=headers, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_every_reader_kiosks_of_any_scope_included_may_open_the_push_socket(site: dict[str, Any]) -> None:
    """A kiosk's page is kept current by the push whatever its token's scope; refused, it
    would be left on the slower poll for good. Nobody may open it without an identity."""
    got = {who: ws_status(site, None if who == "nobody" else client(site, who)) for who in WHO}
    assert got == {who: 401 if who == "nobody" else 101 for who in WHO}


def test_dashs_own_callback_socket_is_open_to_nobody(site: dict[str, Any]) -> None:
    """The app sends callbacks over HTTP: Dash's websocket for them only gave every reader a
    second long-lived socket, whose messages of the wrong shape logged a traceback each."""
    got = {who: ws_status(site, None if who == "nobody" else client(site, who), path="/_dash-ws-callback") for who in WHO}
    assert got == {who: 401 if who == "nobody" else 403 for who in WHO}


def test_websocket_with_a_session_refuses_a_foreign_origin(site: dict[str, Any]) -> None:
    creds = site["users"]["operator"]
    s = login(site["base"], creds.name, creds.password)
    assert ws_status(site, s, origin="http://evil.example") == 403
    assert ws_status(site, s) == 101


def test_anonymous_read_opens_reading_never_writing() -> None:
    store = MemoryStore()
    users = add_users(store)
    with running_app(closed_config(anonymous_read=True), store, setup=add_test_routes) as base:
        anyone = requests.Session()
        reads = {
            path: anyone.get(base + path, allow_redirects=False, timeout=60).status_code
            for path in ("/wall", "/screen/4", "/tablet", "/_dash-layout", "/api/v1/state", "/metrics")
        }
        assert reads == dict.fromkeys(reads, 200)
        assert anyone.get(f"{base}/api/v1/me", timeout=30).json()["via"] == "anonymous"
        assert anyone.post(base + "/_dash-update-component", json=PAGE_CALLBACK, timeout=60).status_code == 200
        assert (
            anyone.post(base + "/_dash-update-component", json=callback_payload(), timeout=30).json()["response"]["test-who"][
                "children"
            ]
            == "anonymous/viewer/anonymous"
        )
        writes = {role: anyone.post(f"{base}/api/v1/test-write/{role}", timeout=30).status_code for role in WRITES}
        assert writes == {"operator": 403, "supervisor": 403, "admin": 403}
        assert anyone.post(f"{base}/api/v1/logout", timeout=30).status_code == 403
        assert ws_status({"base": base}, None) == 101
        # a session still proves CSRF, even where anonymous reading is open
        s = login(base, users["operator"].name, users["operator"].password)
        token = s.headers.pop("X-CSRF-Token")
        assert s.post(base + "/_dash-update-component", json=PAGE_CALLBACK, timeout=60).status_code == 403
        assert s.post(base + "/api/v1/test-write/operator", headers={"X-CSRF-Token": token}, timeout=30).status_code == 200


def test_an_open_websocket_closes_once_its_token_is_revoked(site: dict[str, Any]) -> None:
    """Push runs over one long-lived socket; revoking the kiosk's token must end it too."""
    from websockets.exceptions import ConnectionClosed

    base, store = site["base"], site["store"]
    tokens = TokenStore(store)
    _, secret = tokens.create("kiosk", scope="screen", screen=11, name="revoked-while-open")
    kiosk = requests.Session()
    assert kiosk.get(f"{base}/screen/11?token={secret}", timeout=30).status_code == 200
    jar = "; ".join(f"{c.name}={c.value}" for c in kiosk.cookies)
    url = base.replace("http://", "ws://") + PUSH_PATH
    with connect(url, origin=base, additional_headers={"Cookie": jar}, open_timeout=10) as ws:
        ws.send(json.dumps({"parts": [["incident_queue-content", "s11-0"]]}))
        version = json.loads(ws.recv(timeout=20))["v"]
        tokens.revoke("revoked-while-open")
        code = None
        deadline = time.monotonic() + 20
        while code is None and time.monotonic() < deadline:
            try:
                ws.send(json.dumps({"ack": version}))  # the next frame (a heartbeat at least) waits for it
                version = json.loads(ws.recv(timeout=5))["v"]
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
    assert code == 4401


def test_only_a_kiosk_token_may_come_in_the_url_or_stay_as_a_cookie(site: dict[str, Any]) -> None:
    """An operator's API token in ``?token=`` is nobody, and leaves no cookie: as the kiosk
    cookie it wrote without the CSRF proof, for 400 days, through logouts. A logout also
    takes a kiosk cookie away from a shared desk."""
    base, store = site["base"], site["store"]
    secret = site["tokens"]["api-operator"]
    browser = requests.Session()
    answer = browser.get(f"{base}/api/v1/state?token={secret}", allow_redirects=False, timeout=30)
    assert (answer.status_code, "citywall_kiosk" in browser.cookies) == (401, False)
    forged = requests.Session()  # the cookie such a URL once left behind
    forged.cookies.set("citywall_kiosk", CookieSigner(shared_secret(store), 3_600).bind_kiosk(digest(secret)))
    write = forged.post(f"{base}/api/v1/test-write/operator", headers={"Origin": base}, timeout=30)
    assert write.status_code == 401

    desk = client(site, "viewer")
    assert desk.get(f"{base}/screen/4?token={site['tokens']['screen4']}", timeout=30).status_code == 200
    assert "citywall_kiosk" in desk.cookies
    assert desk.post(f"{base}/api/v1/logout", timeout=30).status_code == 200
    assert "citywall_kiosk" not in desk.cookies


def live_part_poll(role: str, prop: str, copies: int) -> dict[str, Any]:
    """A live part's poll callback (``layouts.live_parts``) for ``copies`` copies of it."""
    content = [{"id": {"role": f"{role}-content", "instance": f"c{i}"}, "property": prop} for i in range(copies)]
    sigs = [{"id": {"role": f"{role}-sig", "instance": f"c{i}"}, "property": "data"} for i in range(copies)]
    return {
        "output": f'..{{"instance":["ALL"],"role":"{role}-content"}}.{prop}...{{"instance":["ALL"],"role":"{role}-sig"}}.data..',
        "outputs": [content, sigs],
        "inputs": [{"id": "cw-version", "property": "data", "value": 1}],
        "state": [[{**s, "value": None} for s in sigs]],
        "changedPropIds": ["cw-version.data"],
    }


def test_a_live_part_s_poll_answers_no_more_copies_than_the_pages_hold(site: dict[str, Any]) -> None:
    """Each copy costs the answer a whole tree: 500 made-up copies of the ticker in one small
    request were 500 trees built on the event loop. One copy is answered."""
    url = site["base"] + "/_dash-update-component"
    kiosk = client(site, "wall")  # the ticker is on the wall (and screen 13)
    one = kiosk.post(url, json=live_part_poll("ticker", "tree", 1), timeout=60)
    many = kiosk.post(url, json=live_part_poll("ticker", "tree", 500), timeout=60)
    assert one.status_code == 200
    assert sorted(one.json()["response"]) == [
        '{"instance":"c0","role":"ticker-content"}',
        '{"instance":"c0","role":"ticker-sig"}',
    ]
    assert many.status_code == 204


def test_the_push_counters_name_the_worker_they_count_for(site: dict[str, Any]) -> None:
    """Several workers share one port: unlabelled, one scrape read 144 and the next 50."""
    import os
    import socket

    metrics = client(site, "viewer").get(site["base"] + "/metrics", timeout=30).text
    worker = f"{socket.gethostname().split('.')[0]}-{os.getpid()}"  # the app runs in this process
    lines = [line.split(" ")[0] for line in metrics.splitlines() if line.startswith("citywall_push_batches_total")]
    assert lines == [f'citywall_push_batches_total{{worker="{worker}"}}']


class _HangingTokens(MemoryStore):
    """A store whose token lookups hang while ``hold`` is set, as Redis does on a dead
    connection; ``inside`` says one is hanging now."""

    def __init__(self) -> None:
        super().__init__()
        self.hold, self.inside = threading.Event(), threading.Event()
        self.release = threading.Event()
        self.hanging = threading.Semaphore(0)  # one release per lookup that hangs

    def map_get(self, name: str, key: str) -> str | None:
        if self.hold.is_set() and name == "auth:tokens":
            self.inside.set()
            self.hanging.release()
            self.release.wait(60)
        return super().map_get(name, key)


def test_a_lookup_that_hangs_holds_up_nothing_else() -> None:
    """Identities were looked up on the event loop: one lookup waiting on a dead Redis held
    up every page, every push and /healthz of the worker for as long as it waited."""
    store = _HangingTokens()
    secret = TokenStore(store).create("kiosk", scope="screen", screen=4)[1]
    with running_app(closed_config(), store) as base:
        store.hold.set()
        waiting: dict[str, int] = {}
        lookup = threading.Thread(
            target=lambda: waiting.update(code=requests.get(f"{base}/screen/4?token={secret}", timeout=90).status_code)
        )
        lookup.start()
        assert store.inside.wait(30), "the lookup reached the store"
        try:
            assert requests.get(f"{base}/healthz", timeout=20).status_code == 200
            assert requests.get(f"{base}/login", timeout=20).status_code == 200
        finally:
            store.release.set()
            lookup.join(90)
    assert waiting == {"code": 200}


def test_an_identity_in_memory_is_answered_while_lookups_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request's identity went through a thread of the loop's shared pool, cache hits
    too: a handful of lookups waiting on a dead Redis left a signed-in desk, and the pages'
    picture reads, queued behind them."""
    from dashboard.auth import guard, service

    monkeypatch.setattr(service, "CACHE_S", 3_600.0)  # the desk's identity stays in memory however slow the test
    # as many lookups hang as the loop's shared pool has threads (6 on two cores), in threads of their own
    monkeypatch.setattr(guard, "LOOKUP_THREADS", 8, raising=False)
    store = _HangingTokens()
    secrets = [TokenStore(store).create("kiosk", scope="screen", screen=4)[1] for _ in range(8)]
    creds = add_users(store)["viewer"]
    with running_app(closed_config(), store) as base:
        desk = login(base, creds.name, creds.password)
        assert desk.get(f"{base}/api/v1/me", timeout=20).json()["name"] == creds.name  # its identity now in memory
        store.hold.set()
        lookups = [threading.Thread(target=lambda s=s: requests.get(f"{base}/screen/4?token={s}", timeout=90)) for s in secrets]
        for thread in lookups:
            thread.start()
        try:
            for _ in range(min(6, (os.cpu_count() or 1) + 4)):
                assert store.hanging.acquire(timeout=30), "the lookups reached the store"
            assert desk.get(f"{base}/api/v1/me", timeout=20).json()["name"] == creds.name
        finally:
            store.release.set()
            for thread in lookups:
                thread.join(90)

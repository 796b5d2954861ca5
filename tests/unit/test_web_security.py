"""Security headers, request and response limits, origins, docs off, and the PDF queue.

The app runs on a real uvicorn on loopback (``serve`` from the browser tests); requests are
plain ``urllib`` and ``websockets`` clients. The CSP in a real Chromium: browser/test_csp.py.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import stat
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets
from dash import Input, Output

from dashboard.config import Config, load_config
from dashboard.export import PrinterBusy, SummaryPrinter
from dashboard.ingest import CityState
from dashboard.layout_settings import view_settings
from dashboard.local_services import running_app, serve, wait_until
from dashboard.reader import PictureCache
from dashboard.store.memory import MemoryStore
from feeds.events import Incident
from layouts.push import PUSH_PATH
from tests.support.auth import closed_config
from tests.support.helpers import run_async


def configured(**server: Any) -> Config:
    config = load_config()
    return config.model_copy(update={"server": config.server.model_copy(update=server)})


def fetch(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def base() -> Any:
    with serve(load_config(), MemoryStore()) as url:
        yield url


@pytest.mark.parametrize("path", ["/wall", "/screen/4", "/tablet", "/api/v1/state", "/healthz", "/assets/citywall.css"])
def test_every_response_carries_the_security_headers(base: str, path: str) -> None:
    status, headers, _ = fetch(base + path)
    assert status == 200
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'sha256-" in script_src


def test_every_inline_script_of_a_page_is_hashed(base: str) -> None:
    """Each executable inline script Dash writes is allowed by its hash, and nothing else."""
    import base64
    import hashlib
    import re

    _, headers, body = fetch(base + "/wall")
    html = re.sub(r"<!--\[if IE\]>.*?<!\[endif\]-->", "", body.decode(), flags=re.S)
    inline = [
        m.group(2)
        for m in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S)
        if "application/json" not in m.group(1)
    ]
    assert len(inline) >= 2
    csp = headers["content-security-policy"]
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, script[:80]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_off_by_default(base: str, path: str) -> None:
    status, headers, body = fetch(base + path)
    assert status == 404
    text = body.decode(errors="replace").lower()
    assert "swagger" not in text and "redoc" not in text and '"openapi"' not in text
    assert "cdn" not in text


def test_api_docs_when_configured_are_the_schema_only() -> None:
    with serve(configured(api_docs=True), MemoryStore()) as url:
        status, _, body = fetch(url + "/openapi.json")
        assert status == 200 and json.loads(body)["paths"]["/healthz"]
        assert "swagger" not in fetch(url + "/docs")[2].decode().lower()


def test_request_bodies_are_limited(base: str) -> None:
    big = b"x" * (300 * 1024)
    status, _, body = fetch(base + "/_dash-update-component", data=big, headers={"Content-Type": "application/json"})
    assert status == 413 and b"262144" in body
    # a 50 MB announcement is answered before a byte of its body is read
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/state HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n")
        assert sock.recv(200).startswith(b"HTTP/1.1 413 ")


def test_request_headers_are_limited_before_the_login_is_asked(base: str) -> None:
    """A public path, no login: headers past the limit are refused while they come, not held."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(base)
    line = b"X-Pad: " + b"a" * 8_000 + b"\r\n"
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(1_000):  # 8 MB, never finished
                sock.sendall(line)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we still sent
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    status, _, _ = fetch(base + "/healthz", headers={"X-Pad": "a" * 8_000})  # a big but sane header passes
    assert status == 200


def test_a_request_head_that_does_not_come_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that opened connections and sent a byte now and then, or nothing, held each one
    for ever, without a login: a few hundred took the worker's file descriptors. A request
    whose head has not come within the limit is closed; one that comes in time is answered,
    and so is a kept-alive connection's next request."""
    import socket
    from urllib.parse import urlsplit

    from dashboard.http_deadlines import TimedH11

    monkeypatch.setattr(TimedH11, "head_timeout_s", 1.0)
    with serve(load_config(), MemoryStore()) as url:
        where = urlsplit(url)
        silent = socket.create_connection((where.hostname, where.port), timeout=30)
        trickle = socket.create_connection((where.hostname, where.port), timeout=30)
        kept = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
        with silent, trickle:
            trickle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and no end of the head
            assert silent.recv(100) == b"", "closed, having sent nothing"
            assert trickle.recv(100) == b"", "closed, its head unfinished"
        for _ in range(2):  # a kept-alive connection whose heads come in time is answered each time
            kept.request("GET", "/healthz")
            answer = kept.getresponse()
            assert (answer.status, json.loads(answer.read())["status"]) == (200, "ok")
        assert kept.sock is not None
        kept.sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # its next head, unfinished: timed afresh
        assert kept.sock.recv(100) == b""
        kept.close()

        async def live_past_the_limit() -> int:
            """A websocket is no head in waiting: it answers pings past the limit."""
            async with websockets.connect(ws_url(url), origin=url, open_timeout=10) as ws:
                pongs, until = 0, time.monotonic() + 3 * TimedH11.head_timeout_s
                while time.monotonic() < until:
                    await asyncio.wait_for(await ws.ping(), timeout=10)
                    pongs += 1
                return pongs

        assert run_async(live_past_the_limit()) > 0


def test_a_request_body_that_does_not_come_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """With its head in time, a client could announce a body and send a byte of it now and
    then: the connection was held for ever, before any login. A body that has not come
    within the limit is closed; one that comes in time, in parts, is answered."""
    import select
    import socket
    from urllib.parse import urlsplit

    from dashboard.http_deadlines import TimedH11

    monkeypatch.setattr(TimedH11, "body_timeout_s", 1.0)
    monkeypatch.setattr(TimedH11, "head_timeout_s", 60.0)  # so that only the body's limit can cut
    body = b'{"username": "nobody", "password": "not-the-password"}'
    head = b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    with serve(load_config(), MemoryStore()) as url:
        where = urlsplit(url)
        trickle = socket.create_connection((where.hostname, where.port), timeout=30)
        prompt = socket.create_connection((where.hostname, where.port), timeout=30)
        piped = socket.create_connection((where.hostname, where.port), timeout=30)
        with trickle, prompt, piped:
            trickle.sendall(head)
            for byte in body[:6]:  # a byte every 0.3 s: the limit is for the whole body, not between bytes
                trickle.sendall(bytes([byte]))
                ready, _, _ = select.select([trickle], [], [], 0.3)
                if ready:
                    break
            assert trickle.recv(100) == b"", "closed, its body unfinished"
            # a request behind an answered one on the same connection, its body never coming
            piped.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + head)
            answers = b""
            while chunk := piped.recv(65_536):
                answers += chunk
            assert answers.startswith(b"HTTP/1.1 200") and answers.count(b"HTTP/1.1") == 1, answers[:200]
            prompt.sendall(head)
            for part in (body[:20], body[20:40], body[40:]):  # the body in three sends, in time
                prompt.sendall(part)
            assert prompt.recv(12) == b"HTTP/1.1 401"  # answered: no such user


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{}", "no output named"),
        (b"[]", "the body is not a JSON object"),
        (b"null", "the body is not a JSON object"),
        (b"{nope", "the body is not JSON"),
        (b'{"output": "a.b", "outputs": {"id": "a", "property": "b"}, "inputs": 5}', "inputs is not a list"),
        (b'{"output": "a.b", "outputs": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper than 32 levels"),
    ],
)
def test_a_callback_request_of_the_wrong_shape_is_told_why(base: str, body: bytes, reason: str) -> None:
    """Dash answered each of these with a bare 500 and logged nothing."""
    status, _, answer = fetch(base + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"})
    assert (status, json.loads(answer)) == (400, {"error": f"not a Dash callback request: {reason}"})


def router_request(base: str) -> dict[str, Any]:
    """A well-formed request for the page router's callback, as the app lists it."""
    _, _, listed = fetch(base + "/_dash-dependencies")
    router = next(c for c in json.loads(listed) if any(i["property"] == "pathname" for i in c["inputs"]))
    return {
        "output": router["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in router["output"].strip(".").split("...")],
        "inputs": [{**i, "value": "/wall" if i["property"] == "pathname" else ""} for i in router["inputs"]],
        "changedPropIds": [],
        "state": [{**s, "value": None} for s in router.get("state", [])],
    }


def test_a_callback_the_app_does_not_have_or_with_inputs_missing_is_told_why(base: str) -> None:
    """Dash indexes its callbacks by the output it is sent and takes the inputs as they come:
    an unknown output or an input short was a bare 500."""
    request = router_request(base)
    assert len(request["inputs"]) == 2
    for body, reason in [
        ({**request, "output": "nope.children"}, "no such callback"),
        ({**request, "inputs": request["inputs"][:1]}, "the callback takes 2 inputs, not 1"),
        ({**request, "inputs": [5, 6]}, "inputs[0] is not an object"),
    ]:
        status, _, answer = fetch(
            base + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        assert (status, json.loads(answer)) == (400, {"error": f"not a Dash callback request: {reason}"})
    status, _, _ = fetch(
        base + "/_dash-update-component", data=json.dumps(request).encode(), headers={"Content-Type": "application/json"}
    )
    assert status == 200, "the whole request is served"


def test_a_callback_that_fails_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Dash answers a callback's error with a bare 500 and writes nothing: a real fault in a
    panel would go unseen."""

    def failing(app: Any) -> None:
        @app.callback(Output("cw-test-out", "children"), Input("cw-test-in", "n_clicks"))
        def fail(_: int | None) -> str:
            raise RuntimeError("a fault in a panel")

    body = {
        "output": "cw-test-out.children",
        "outputs": {"id": "cw-test-out", "property": "children"},
        "inputs": [{"id": "cw-test-in", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["cw-test-in.n_clicks"],
    }
    with (
        running_app(load_config(), MemoryStore(), setup=failing) as url,
        caplog.at_level(logging.ERROR, logger="citywall.callbacks"),
    ):
        status, _, _ = fetch(
            url + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
    assert status == 500
    assert [r.getMessage().split(":")[0] for r in caplog.records if r.name == "citywall.callbacks"] == ["a callback failed"]


def poll_request(base: str) -> dict[str, Any]:
    """A well-formed request for the poll's callback (its inputs a count, a pattern for every
    part holder), as the app lists it: no part holder on this page."""
    _, _, listed = fetch(base + "/_dash-dependencies")
    poll = next(
        c for c in json.loads(listed) if any(i["property"] == "n_intervals" and i["id"] == "cw-tick" for i in c["inputs"])
    )

    def entry(dependency: dict[str, Any], value: Any) -> Any:
        return [] if dependency["id"].startswith("{") else {**dependency, "value": value}

    outputs = [o.rsplit(".", 1) for o in poll["output"].strip(".").split("...")]
    return {
        "output": poll["output"],
        "outputs": [[] if i.startswith("{") else {"id": i, "property": p} for i, p in outputs],
        "inputs": [entry(i, 3) for i in poll["inputs"]],
        "state": [entry(d, None) for d in poll["state"]],
        "changedPropIds": ["cw-tick.n_intervals"],
    }


def test_each_entry_of_a_callback_request_is_held_against_the_callback(base: str) -> None:
    """Dash took entries as they came: a list where an object belongs, an input under another
    name, a path that is a number or a count that is text each made it or the callback raise,
    a bare 500 for the page."""
    router, poll = router_request(base), poll_request(base)
    pathname = next(i for i, d in enumerate(router["inputs"]) if d["property"] == "pathname")
    pattern = next(i for i, d in enumerate(poll["state"]) if isinstance(d, list))

    def changed(request: dict[str, Any], key: str, at: int, entry: Any) -> dict[str, Any]:
        return {**request, key: [entry if i == at else e for i, e in enumerate(request[key])]}

    cases = [
        (
            changed(router, "inputs", pathname, {**router["inputs"][pathname], "value": 5}),
            f"inputs[{pathname}]: pathname is not text",
        ),
        (
            changed(router, "inputs", pathname, {**router["inputs"][pathname], "value": "x"}),
            f"inputs[{pathname}]: the pathname does not start with /",
        ),
        (
            changed(router, "inputs", pathname, {**router["inputs"][pathname], "property": "hash"}),
            f"inputs[{pathname}] is not the property pathname",
        ),
        (
            changed(router, "inputs", pathname, {**router["inputs"][pathname], "id": "cw-other"}),
            f"inputs[{pathname}] is not the component the callback takes",
        ),
        ({**router, "outputs": router["outputs"][:1]}, "the callback has 2 outputs"),
        ({**router, "outputs": [1, 2]}, "outputs[0] is not an object"),
        ({**router, "changedPropIds": [1]}, "an entry of changedPropIds is not text"),
        (changed(poll, "inputs", 0, {**poll["inputs"][0], "value": "A"}), "inputs[0]: n_intervals is not a whole number"),
        (changed(poll, "inputs", 0, {**poll["inputs"][0], "value": True}), "inputs[0]: n_intervals is not a whole number"),
        (
            changed(poll, "state", pattern, {"id": {"role": "cw-has-parts", "page": "x"}, "property": "data"}),
            f"state[{pattern}] is not a list",
        ),
        (
            changed(poll, "state", pattern, [{"id": {"role": "other", "page": "x"}, "property": "data"}]),
            f"state[{pattern}] is not the component the callback takes",
        ),
        (
            changed(poll, "state", pattern, [{"id": {"role": "cw-has-parts"}, "property": "data"}]),
            f"state[{pattern}] is not the component the callback takes",
        ),
    ]
    for body, reason in cases:
        status, _, answer = fetch(
            base + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        assert (status, json.loads(answer)) == (400, {"error": f"not a Dash callback request: {reason}"}), reason
    for body in (
        router,
        poll,
        changed(poll, "state", pattern, [{"id": {"role": "cw-has-parts", "page": "x"}, "property": "data"}]),
    ):
        status, _, _ = fetch(
            base + "/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        assert status in (200, 204), "a well-formed request is served"


@pytest.mark.parametrize("content_type", ["text/plain", "Application/JSON", "application/x-www-form-urlencoded"])
def test_a_callback_request_that_is_not_sent_as_json_is_told_so(base: str, content_type: str) -> None:
    """Dash reads a callback's body only when it comes as ``application/json``; any other was a 500."""
    body = json.dumps(router_request(base)).encode()
    status, _, answer = fetch(base + "/_dash-update-component", data=body, headers={"Content-Type": content_type})
    assert (status, json.loads(answer)) == (415, {"error": "a Dash callback request is sent as application/json"})


@pytest.mark.parametrize("path", ["/_dash-component-suites/nopkg/x.js", "/_dash-component-suites/dash/nofile.js"])
def test_a_script_dash_does_not_serve_is_not_found(base: str, path: str) -> None:
    status, _, answer = fetch(base + path)
    assert (status, json.loads(answer)) == (404, {"error": "no such component script"})


def test_an_unknown_api_route_is_a_json_404(base: str) -> None:
    """Dash's page route took every other path: a typo in a script's URL answered 200 and a page's HTML."""
    for path, method in [("/api/v1/typo", "GET"), ("/api/v1/wall/preset", "GET"), ("/api/v2/state", "GET")]:
        status, headers, answer = fetch(base + path, method=method)
        assert (status, headers["content-type"]) == (404, "application/json"), path
        assert json.loads(answer) == {"detail": "no such API route (or not with this method)"}
    status, _, answer = fetch(base + "/api/v1/state")
    assert status == 200 and "version" in json.loads(answer)


def test_a_body_without_a_length_is_limited_too(base: str) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"z" * 16_384

    request = urllib.request.Request(
        base + "/_dash-update-component",
        data=chunks(),
        method="POST",
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    # Refused either way: a 413, or, when the server's answer and close land while the client is
    # still sending, the connection closed under the rest of the body (a broken pipe or reset).
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(request, timeout=20)
    if isinstance(caught.value, urllib.error.HTTPError):
        assert caught.value.code == 413
    else:
        assert isinstance(caught.value.reason, (BrokenPipeError, ConnectionResetError)), caught.value.reason
    status, _, _ = fetch(base + "/healthz")
    assert status == 200


def test_a_write_from_another_origin_is_refused(base: str) -> None:
    status, _, _ = fetch(
        base + "/_dash-update-component",
        data=b"{}",
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    assert status == 403
    status, _, _ = fetch(
        base + "/_dash-update-component", data=b"{}", headers={"Content-Type": "application/json", "Origin": base}
    )
    assert status != 403


def test_an_origin_that_is_no_url_is_refused_with_a_reason(base: str, caplog: pytest.LogCaptureFixture) -> None:
    """``Origin: http://[`` made the URL parser raise: any visitor got a 500, and the log a
    traceback, for each request."""
    with caplog.at_level(logging.ERROR):
        status, _, answer = fetch(base + "/healthz", data=b"{}", headers={"Origin": "http://["}, method="POST")
        refused = run_async(_handshake(ws_url(base), "http://["))
    assert (status, json.loads(answer)) == (403, {"error": "origin not allowed"})
    assert refused == (403, b'{"error": "origin not allowed"}')
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_allowed_origins_admit_a_proxy_origin() -> None:
    with serve(configured(allowed_origins=["https://wall.example.go.id"]), MemoryStore()) as url:
        status, _, _ = fetch(
            url + "/_dash-update-component",
            data=b"{}",
            headers={"Content-Type": "application/json", "Origin": "https://wall.example.go.id"},
        )
        assert status != 403


def test_a_response_past_the_cap_is_refused() -> None:
    config = configured(max_response_bytes=64 * 1024)
    store = MemoryStore()
    state = CityState(store, config)
    now = datetime.now(UTC)
    for n in range(400):
        state.accept(Incident(id=f"big-{n}", observed_at=now, source_type="Alert", category="flood", description="d" * 480))
    with serve(config, store) as url:
        status, _, body = fetch(url + "/api/v1/dead-letters")
        assert status == 200
        status, _, body = fetch(url + "/api/v1/state", headers={"Accept-Encoding": "identity"})
        assert status == 500 and b"response over 65536 bytes" in body


def test_the_dead_letters_hide_the_credentials_a_producer_sent_along() -> None:
    """The store keeps the refused bytes as they came; every reader of the list saw a
    gateway's Redis password and its API key in them."""
    from feeds.events import DeadLetter, Reason

    store = MemoryStore()
    sent = '{"type": "Alert", "password": "hunter2", "apiKey": "k-77", "upstream": "redis://:S3cretPW@10.0.0.1:6379", "id": "A"}'
    CityState(store, configured()).reject(
        DeadLetter(
            feed="mqtt",
            origin="pekanbaru/incidents",
            reason=Reason.INVALID_VALUE,
            detail="category: field required",
            received_at=datetime.now(UTC),
            excerpt=sent,
        )
    )
    with serve(configured(), store) as url:
        status, _, body = fetch(url + "/api/v1/dead-letters")
    assert status == 200
    (letter,) = json.loads(body)["dead_letters"]
    assert letter["excerpt"] == (
        '{"type": "Alert", "password": "***", "apiKey": "***", "upstream": "redis://:***@10.0.0.1:6379", "id": "A"}'
    )
    assert (letter["origin"], letter["detail"]) == ("pekanbaru/incidents", "category: field required")
    assert store.dead_letters()[0]["excerpt"] == sent, "the store keeps what came"


def ws_url(base: str, path: str = PUSH_PATH) -> str:
    return base.replace("http://", "ws://") + path


def test_websocket_from_another_origin_is_refused(base: str) -> None:
    """Refused with its reason: the handshake was a bare 403 with an empty body."""
    assert run_async(_handshake(ws_url(base), base)) == (101, b"")
    assert run_async(_handshake(ws_url(base), "http://evil.example")) == (403, b'{"error": "origin not allowed"}')


async def _handshake(url: str, origin: str) -> tuple[int, bytes]:
    """The handshake's status and, when refused, the body that says why."""
    try:
        async with websockets.connect(url, origin=origin, open_timeout=10):  # type: ignore[arg-type]
            return 101, b""
    except websockets.InvalidStatus as refused:
        return refused.response.status_code, refused.response.body or b""


def test_websocket_connections_per_client_are_limited() -> None:
    async def open_many(url: str, n: int, origin: str) -> tuple[int, int]:
        opened: list[Any] = []
        refused = 0
        for _ in range(n):
            try:
                opened.append(await websockets.connect(url, origin=origin, open_timeout=10))
            except websockets.InvalidStatus:
                refused += 1
        for ws in opened:
            await ws.close()
        return len(opened), refused

    async def one_past(url: str, origin: str) -> tuple[int, bytes]:
        held = [await websockets.connect(url, origin=origin, open_timeout=10) for _ in range(5)]
        try:
            return await _handshake(url, origin)
        finally:
            for ws in held:
                await ws.close()

    with serve(configured(max_connections_per_client=5), MemoryStore()) as url:
        assert run_async(open_many(ws_url(url), 8, url)) == (5, 3)
        assert run_async(open_many(ws_url(url), 5, url)) == (5, 0)  # closed ones are counted out again
        assert run_async(one_past(ws_url(url), url)) == (429, b'{"error": "too many connections from this address"}')


# ---------------------------------------------------------------------------------------
# the PDF printer: one at a time, per minute, a short queue, 429 when busy


def gated_chromium(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in printer for the queue test only (the real Chromium is tested in test_tablet):
    it prints once the returned gate file exists, so the test decides when a print ends."""
    script, gate = tmp_path / "chromium", tmp_path / "gate"
    script.write_text(
        '#!/bin/sh\nfor a in "$@"; do case $a in --print-to-pdf=*) out=${a#--print-to-pdf=};; esac; done\n'
        f"while [ ! -e '{gate}' ]; do sleep 0.05; done\nprintf '%%PDF-1.4 stand-in' > \"$out\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, gate


def test_pdf_requests_beyond_the_queue_get_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config()
    store = MemoryStore()
    script, gate = gated_chromium(tmp_path)
    monkeypatch.setenv("CITYWALL_CHROMIUM", str(script))
    printer = SummaryPrinter(PictureCache(store, config), view_settings(config), queue_max=2)
    outcomes: list[str] = []
    lock = threading.Lock()
    minute = (time.time() // 60) * 60 + 1  # one fixed minute for every request

    def ask() -> None:
        try:
            printer.pdf(now=minute)
            result = "pdf"
        except PrinterBusy:
            result = "busy"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    try:
        # while the first print is held: one printing and two waiting are admitted, the other 17 refused at once
        wait_until(lambda: outcomes.count("busy") == 17, 60, "17 requests refused as busy")
        assert printer._queued == 3 and outcomes == ["busy"] * 17
    finally:
        gate.touch()
        for t in threads:
            t.join(timeout=60)
    assert sorted(outcomes) == ["busy"] * 17 + ["pdf"] * 3, "the two waiting ones get the print made for the minute"
    printer.pdf(now=minute + 30)  # the same minute: served from the cache, no queue
    assert printer._queued == 0


def test_pdf_is_cached_for_the_minute_whatever_the_data_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config()
    store = MemoryStore()
    runs = tmp_path / "runs"
    script = tmp_path / "chromium"
    script.write_text(
        "#!/bin/sh\necho run >> " + str(runs) + '\nfor a in "$@"; do case $a in --print-to-pdf=*) '
        "out=${a#--print-to-pdf=};; esac; done\nprintf '%%PDF-1.4' > \"$out\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CITYWALL_CHROMIUM", str(script))
    printer = SummaryPrinter(PictureCache(store, config), view_settings(config))
    minute = (time.time() // 60) * 60
    printer.pdf(now=minute + 1)
    CityState(store, config).accept(Incident(id="x", observed_at=datetime.now(UTC), source_type="Alert", category="fire"))
    printer.pdf(now=minute + 50)
    assert runs.read_text().count("run") == 1
    printer.pdf(now=minute + 61)
    assert runs.read_text().count("run") == 2


def test_a_city_name_with_markup_is_text_in_the_page_title() -> None:
    """Dash writes the page's title into its HTML as it is: a city's name holding markup put a
    refresh of its own into every page, which sent the wall to another site."""
    from dashboard.local_services import running_app
    from tests.support.auth import closed_config

    config = closed_config(anonymous_read=True)
    name = 'Kota X</title><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    config = config.model_copy(update={"city": config.city.model_copy(update={"name": name})})
    with running_app(config, MemoryStore()) as base, urllib.request.urlopen(f"{base}/wall", timeout=30) as answer:
        page = answer.read().decode()
    assert '<meta http-equiv="refresh"' not in page
    assert "<title>citywall – Kota X&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot;" in page


def test_without_a_login_a_callback_request_learns_nothing_of_the_apps_callbacks() -> None:
    """The callback check sits inside the login: a request not signed in gets the login's
    answer whatever it names, not "no such callback" or how many inputs one takes."""
    unknown = {"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": []}
    with running_app(closed_config(), MemoryStore()) as url:
        answers = [
            fetch(url + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"})
            for body in (json.dumps(unknown).encode(), b"{}")
        ]
    assert [status for status, _, _ in answers] == [401, 401]
    assert answers[0][2] == answers[1][2]
    assert b"callback" not in answers[0][2]

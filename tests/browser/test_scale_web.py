"""Several web workers behind nginx, as ``deploy/`` sets them up.

One ``citywall serve --workers 2`` on a Redis store, with Debian's nginx in front of it running
``deploy/nginx/citywall.conf`` (ports templated, nothing else changed). What must hold:

- sessions and CSRF work whichever worker answers (the signing secret and the users are in the
  store); each worker is made to answer alone by stopping the other one for a moment;
- the page's websocket through the proxy is accepted (the deploy config sends
  ``Host $host``, which drops the port, plus ``X-Forwarded-Host``) and carries pushes;
- when the workers are killed, the supervisor starts new ones and the open page reconnects
  and gets pushes again, through the same proxy.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dashboard.auth.sessions import META
from dashboard.config import Config, load_config
from dashboard.ingest import CityState
from dashboard.store.redis_store import RedisStore
from layouts.push import PUSH_PATH
from tests.support.auth import add_users, login
from tests.support.city import critical_now
from tests.support.configs import write_config
from tests.support.deploy import nginx_site
from tests.support.helpers import beat_callback
from tests.support.services import CITYWALL_CMD, HOST, CitywallProcess, Nginx, RedisServer, free_port, wait_until

pytestmark = pytest.mark.integration


def worker_pids(serve: CitywallProcess) -> set[int]:
    """The uvicorn worker processes: children of ``serve`` started by multiprocessing spawn."""
    children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()
    out = set()
    for pid in children:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            out.add(int(pid))
    return out


class Site:
    def __init__(self, config: Config, store: RedisStore, serve: CitywallProcess, nginx: Nginx) -> None:
        self.config, self.store, self.serve, self.nginx = config, store, serve, nginx
        self.state = CityState(store, config)
        self.direct = f"http://{HOST}:{serve_port(serve)}"

    def incident(self, tag: str) -> str:
        text = f"Uji pekerja {tag}"
        self.state.accept(critical_now(f"urn:ngsi-ld:Alert:workers-{tag}", text))
        return text

    def workers_ready(self, count: int = 2) -> set[int]:
        pids = wait_until(lambda: len(worker_pids(self.serve)) == count and worker_pids(self.serve), 60, f"{count} workers")
        return pids  # type: ignore[return-value]


def serve_port(serve: CitywallProcess) -> int:
    return int(serve.cmd[serve.cmd.index("--port") + 1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("workers")
    redis_server = RedisServer(work / "redis")
    redis_server.start()
    path = write_config(work, lambda c: c.update(store={"url": redis_server.url}))
    config = load_config(path, environ={})
    port = free_port()
    serve = CitywallProcess(
        [*CITYWALL_CMD, "serve", "--config", str(path), "--workers", "2", "--port", str(port)],
        work / "serve.log",
        env={"CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )
    proxy_port = free_port()
    nginx = Nginx(work / "nginx", nginx_site(proxy_port, [port]), port=proxy_port)
    store = RedisStore(redis_server.url)
    try:
        serve.start()
        serve.wait_http(f"http://{HOST}:{port}/healthz", timeout=120)
        nginx.start()
        made = Site(config, store, serve, nginx)
        made.workers_ready()
        yield made
    finally:
        nginx.stop()
        serve.terminate(timeout=10)
        store.close()
        redis_server.stop()


@pytest.mark.parametrize(
    ("headers", "accepted", "host_inside"),
    [
        ([(b"host", b"127.0.0.1")], False, None),  # what "Host $host" leaves of 127.0.0.1:8080
        ([(b"host", b"127.0.0.1"), (b"x-forwarded-host", b"127.0.0.1:8080")], True, b"127.0.0.1:8080"),
        ([(b"host", b"127.0.0.1"), (b"x-forwarded-host", b"127.0.0.1:8080, inner:1")], True, b"127.0.0.1:8080"),
        ([(b"host", b"127.0.0.1"), (b"x-forwarded-host", b"evil.example")], False, None),
    ],
)
def test_the_origin_check_takes_the_host_a_proxy_forwards(headers: list, accepted: bool, host_inside: bytes | None) -> None:
    """A browser on http://127.0.0.1:8080 behind a proxy; the websocket reaches the app only
    when the host it asked for (forwarded) matches its Origin."""
    import asyncio
    import concurrent.futures

    from dashboard.web_security import Limits, WebSecurity

    seen: list[dict] = []
    sent: list[dict] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen.append(scope)

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/_citywall/push",
        "client": ("127.0.0.1", 5000),
        "headers": [*headers, (b"origin", b"http://127.0.0.1:8080")],
    }
    # a thread of its own: a browser test earlier in the session may leave an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, WebSecurity(app, csp="default-src 'self'", limits=Limits())(scope, receive, send)).result()
    assert bool(seen) is accepted
    if accepted:
        assert [v for k, v in seen[0]["headers"] if k == b"host"] == [host_inside]
    else:
        assert sent == [{"type": "websocket.close", "code": 1008}]


def test_more_than_one_worker_refuses_the_memory_store(tmp_path: Path) -> None:
    import subprocess

    path = write_config(tmp_path, lambda c: c.update(store={"url": "memory://"}))
    done = subprocess.run(
        [*CITYWALL_CMD, "serve", "--config", str(path), "--workers", "2", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "store.url: serve --workers needs a shared store" in done.stderr


def test_sessions_and_csrf_hold_on_each_worker(site: Site) -> None:
    """Log in while only one worker can accept, then act while only the other can."""
    users = add_users(site.store)
    first, second = sorted(site.workers_ready())
    os.kill(first, signal.SIGSTOP)
    try:
        session = login(site.direct, users["supervisor"].name, users["supervisor"].password)
        me_first = session.get(f"{site.direct}/api/v1/me", timeout=10, headers={"Connection": "close"})
    finally:
        os.kill(first, signal.SIGCONT)
    os.kill(second, signal.SIGSTOP)
    try:
        me_second = session.get(f"{site.direct}/api/v1/me", timeout=10, headers={"Connection": "close"})
        written = session.post(
            f"{site.direct}/api/v1/wall/broadcast",
            json={"level": "ORANGE", "text": "Uji dua pekerja"},
            timeout=10,
            headers={"Connection": "close"},
        )
        forged = requests.post(
            f"{site.direct}/api/v1/wall/broadcast",
            json={"level": "RED", "text": "palsu"},
            cookies=session.cookies,
            headers={"Origin": site.direct, "Connection": "close"},
            timeout=10,
        )
    finally:
        os.kill(second, signal.SIGCONT)
    assert me_first.status_code == me_second.status_code == 200
    assert me_first.json() == me_second.json() and me_second.json()["name"] == "supervisor"
    assert written.status_code == 200, written.text
    assert forged.status_code == 403, "a write without the CSRF token is refused by the other worker too"
    assert list(site.store.map_all(META)) == ["secret"], "one signing secret, in the store, for every worker"


def test_every_worker_lists_a_screen_that_beat_on_another(site: Site) -> None:
    """Kept per worker, the live screens were 24, 1 or 0 by which worker answered."""
    first, second = sorted(site.workers_ready())
    os.kill(first, signal.SIGSTOP)
    try:
        posted = requests.post(
            f"{site.direct}/_dash-update-component",
            json=beat_callback("beat-on-second", "/screen/4"),
            timeout=10,
            headers={"Connection": "close"},
        )
    finally:
        os.kill(first, signal.SIGCONT)
    os.kill(second, signal.SIGSTOP)
    try:

        def listed() -> list[tuple[str, str]]:
            screens = requests.get(f"{site.direct}/api/v1/screens", timeout=10, headers={"Connection": "close"}).json()["screens"]
            return [(e["page"], e["status"]) for e in screens if e["id"] == "beat-on-second"]

        on_first = wait_until(listed, 10, "the first worker listing the beat the second took")
    finally:
        os.kill(second, signal.SIGCONT)
    assert posted.status_code in (200, 204), posted.text
    assert on_first == [("/screen/4", "live")]


def wait_in_page(page: Any, condition: Any, timeout: float, what: str) -> Any:
    """``wait_until`` that lets Playwright deliver its events between checks (a plain sleep
    would hold them back: the sync API dispatches only while it is called)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s")
        page.wait_for_timeout(50)


@pytest.mark.browser
def test_pages_through_nginx_get_pushes_before_and_after_the_workers_die(site: Site, page_factory: Any) -> None:
    """A push is recognised by a frame of the push socket that carries the text. (Whether the
    poll also fetched it is not asked: on a loaded machine a frame a tick late makes the poll
    take over for that change, as designed, and that made this test fail once while the push
    had delivered.) Connections are counted by the push script's own log line
    (assets/push.js)."""
    page = page_factory()
    connected: list[float] = []
    pushed: list[str] = []

    def console(message: Any) -> None:
        if "citywall push: connected" in message.text:
            connected.append(time.monotonic())

    def socket(ws: Any) -> None:
        if PUSH_PATH in ws.url:
            ws.on("framereceived", lambda payload: pushed.append(payload if isinstance(payload, str) else payload.decode()))

    page.on("console", console)
    page.on("websocket", socket)
    page.goto(f"{site.nginx.url}/screen/4", wait_until="domcontentloaded")
    wait_in_page(page, lambda: connected, 60, "the websocket through nginx")

    def shown(text: str) -> bool:
        return bool(page.evaluate(f"() => document.body.innerText.includes({text!r})"))

    # the page filled first (by push, or by the poll if the push was slow to start on a busy
    # machine); from then on a change must come by push
    filled = "() => (document.querySelector('[data-panel=incident_queue] .cw-panel-body')?.innerText ?? '').trim() !== ''"
    wait_in_page(page, lambda: page.evaluate(filled), 30, "the queue filled")
    before = site.incident("sebelum")
    wait_in_page(page, lambda: shown(before), 20, "a new incident on the page")
    wait_in_page(page, lambda: [f for f in pushed if before in f], 20, "a push frame through nginx carrying it")

    old = site.workers_ready()
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    new = wait_until(
        lambda: (p := worker_pids(site.serve)) and len(p) == 2 and not p & old and p, 120, "two new workers from the supervisor"
    )
    wait_until(lambda: requests.get(f"{site.nginx.url}/healthz", timeout=5).status_code == 200, 120, "the proxy answering again")
    wait_in_page(page, lambda: len(connected) > 1, 60, "the page's websocket connected again")
    after = site.incident("sesudah")
    started = time.monotonic()
    wait_in_page(page, lambda: shown(after), 30, "an incident written after the restart, on the page")
    print(f"after worker restart: shown in {time.monotonic() - started:.2f} s (new workers {sorted(new)})")  # type: ignore[arg-type]
    wait_in_page(page, lambda: [f for f in pushed if after in f], 20, "a push frame carrying it after the restart")

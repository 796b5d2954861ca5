"""A wiped Redis is seen as a reset; a dead Redis does not hang the web server.

Both against a real redis-server that the test restarts (without persistence, so the restart
empties it, exactly the case that used to leave ``/healthz`` at 200 over an empty city) or
stops (the case that made ``/healthz`` take over 10 s on a worker with open pages).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard.config import Config, load_config
from dashboard.health import StoreHealth
from dashboard.ingest import CityState
from dashboard.local_services import running_app, serve
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore
from feeds.events import Incident
from tests.support.services import RedisServer

pytestmark = pytest.mark.integration

#: Far above a healthy answer, far below the 10 s the blocking version took: catches a hang.
HANG_S = 3.0


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=HANG_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def redis_config(url: str) -> Config:
    config = load_config()
    return config.model_copy(update={"store": config.store.model_copy(update={"url": url})})


def incident(n: int) -> Incident:
    return Incident(id=f"inc-{n}", observed_at=datetime.now(UTC), source_type="Alert", category="flood")


def test_a_wiped_store_is_reported_as_a_reset(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, prefix="health")
    health = StoreHealth(store, every_s=3600)  # checked by hand below
    try:
        first = health.check()
        assert first["ok"] is True and first["reset_at"] is None
        assert health.snapshot()["status"] == "ok"
        redis_server.restart()  # no persistence: comes back empty
        assert wait_for(lambda: health.check()["ok"])
        state = health.snapshot()
        assert state["status"] == "reset"
        assert state["epoch"] != first["epoch"] and state["reset_at"] is not None
        # another process sharing the store learns of the reset from the store itself
        other = RedisStore(redis_server.url, prefix="health")
        try:
            assert StoreHealth(other).check()["reset_at"] == state["reset_at"]
        finally:
            other.close()
    finally:
        store.close()


def test_a_reset_hook_that_fails_is_tried_again_and_the_checks_go_on(redis_server: RedisServer) -> None:
    """A hook for the reset (the session secret's restore) that met the store flapping again
    raised out of the check, and took the checking thread down: every check was overdue from
    then on, /healthz and the API answered 503 until the worker restarted."""
    store = RedisStore(redis_server.url, prefix="hooks")
    health = StoreHealth(store, every_s=3600)  # checked by hand below
    tries: list[str] = []

    def flapping() -> None:
        tries.append("tried")
        if len(tries) == 1:
            raise ConnectionError("the store went again")

    health.on_reset(flapping)
    try:
        health.check()
        redis_server.restart()  # no persistence: comes back empty
        assert wait_for(lambda: health.check()["ok"])
        assert tries == ["tried"]
        assert health.check()["ok"] is True, "the check after a failed hook goes on"
        assert tries == ["tried", "tried"]
        health.check()
        assert tries == ["tried", "tried"], "once it has run, not again"
    finally:
        store.close()


def test_reset_and_outage_seen_through_the_web_server(redis_server: RedisServer) -> None:
    config = redis_config(redis_server.url)
    store = RedisStore(redis_server.url, prefix=config.store.key_prefix)
    CityState(store, config).accept(incident(1))
    with serve(config, store) as base:
        status, body = get(base + "/healthz")
        assert (status, body["status"]) == (200, "ok")
        epoch = body["store"]["epoch"]

        # outage: every answer comes at once, 503 where the store is needed
        lost_at = time.time()
        redis_server.stop()
        assert wait_for(lambda: get(base + "/healthz")[0] == 503)
        for _ in range(5):
            status, body = get(base + "/healthz")
            assert (status, body["status"], body["store"]["ok"]) == (503, "error", False)
            assert get(base + "/api/v1/state")[0] == 503
            with urllib.request.urlopen(base + "/screen/4", timeout=HANG_S) as page:
                assert page.status == 200  # pages still load and show what they had, turning stale

        # back, but empty: a reset, shown on /healthz and in the picture for feed health
        redis_server.start()
        assert wait_for(lambda: get(base + "/healthz")[1].get("status") == "reset")
        status, body = get(base + "/healthz")
        assert status == 200 and body["store"]["epoch"] != epoch
        assert lost_at <= body["store"]["reset_at"] <= time.time(), "the reset is dated when it was noticed"
        status, picture = get(base + "/api/v1/state")
        assert status == 200 and picture["store"]["status"] == "reset"
        assert picture["store"]["reset_at"] == body["store"]["reset_at"]
    store.close()


def test_the_probe_ends_with_the_server() -> None:
    """An app's store probe runs on a thread of its own; it stops when the server does. A test's
    dropped app once went on probing its Redis, and wrote a new epoch into the next test's."""
    before = {t for t in threading.enumerate() if t.name == "store-health"}
    with running_app(load_config(environ={}), MemoryStore()):
        probes = {t for t in threading.enumerate() if t.name == "store-health"} - before
        assert len(probes) == 1
    (probe,) = probes
    probe.join(timeout=10)
    assert not probe.is_alive()


#: The console's incident detail (``layouts/console/detail.py``), which reads the store itself.
CONSOLE_DETAIL = {
    "output": "..cw-console-detail.children...cw-console-detail-sig.data...cw-detail-seen.data..",
    "outputs": [
        {"id": "cw-console-detail", "property": "children"},
        {"id": "cw-console-detail-sig", "property": "data"},
        {"id": "cw-detail-seen", "property": "data"},
    ],
    "inputs": [
        {"id": "cw-console-selected", "property": "data", "value": "DET-1"},
        {"id": "cw-version", "property": "data", "value": 1},
        {"id": "cw-console-done", "property": "data", "value": None},
    ],
    "changedPropIds": ["cw-console-selected.data"],
    "state": [{"id": "cw-console-detail-sig", "property": "data", "value": None}],
}


def test_a_callback_that_meets_redis_away_changes_nothing(redis_server: RedisServer) -> None:
    """Dash callbacks are not behind the health gate: one that read Redis just after it went
    answered 500 with a traceback. It answers 204 now, and the page keeps what it shows."""
    import requests

    from tests.support.operations import incident

    config = load_config(environ={"CITYWALL_AUTH_ANONYMOUS_READ": "true"})  # no identity to read from Redis
    store = RedisStore(redis_server.url)
    try:
        CityState(store, config).accept(incident("DET-1", severity="high"))
        with running_app(config, store) as base:
            shown = requests.post(f"{base}/_dash-update-component", json=CONSOLE_DETAIL, timeout=30)
            redis_server.stop()
            gone = requests.post(f"{base}/_dash-update-component", json=CONSOLE_DETAIL, timeout=60)
        assert (shown.status_code, "DET-1" in shown.text) == (200, True)
        assert (gone.status_code, gone.text) == (204, "")
    finally:
        store.close()


def test_identities_stand_while_redis_is_away(redis_server: RedisServer) -> None:
    """Every request looked its identity up in Redis on the event loop: with Redis gone,
    each waited on the dead connection, the worker's pages, pushes and /healthz with it, and
    a signed-in desk or a kiosk then got 500. An identity looked up before now stands until
    Redis is back; one never seen is told to try again (503)."""
    import requests

    from dashboard.auth.tokens import TokenStore
    from tests.support.auth import add_users, closed_config, login

    config = closed_config()
    config = config.model_copy(update={"store": config.store.model_copy(update={"url": redis_server.url})})
    store = RedisStore(redis_server.url)
    try:
        operator = add_users(store)["operator"]
        tokens = TokenStore(store)
        seen, unseen = tokens.create("kiosk", scope="screen", screen=4)[1], tokens.create("kiosk", scope="screen", screen=4)[1]
        with running_app(config, store) as base:
            desk = login(base, operator.name, operator.password)
            kiosk = requests.Session()
            assert desk.get(f"{base}/console", timeout=30).status_code == 200
            assert kiosk.get(f"{base}/screen/4?token={seen}", timeout=30).status_code == 200
            redis_server.stop()
            assert wait_for(lambda: get(base + "/healthz")[0] == 503)
            assert desk.get(f"{base}/console", timeout=30).status_code == 200
            assert kiosk.get(f"{base}/screen/4", timeout=30).status_code == 200, "by its kiosk cookie"
            refused = requests.get(f"{base}/screen/4?token={unseen}", timeout=30)
            assert (refused.status_code, refused.json()) == (503, {"detail": "the store is unavailable: try again shortly"})
            assert requests.get(f"{base}/console", timeout=30, allow_redirects=False).status_code == 303, "nobody is nobody"
    finally:
        store.close()


def test_after_the_store_came_back_empty_every_worker_signs_with_one_secret(redis_server: RedisServer) -> None:
    """The session secret lives in Redis and went with a flush; a worker started after it
    signed with a new one while the running ones kept the old, so a desk's session worked on
    one worker and got 401 on the next. The running worker now puts its secret back."""
    import redis as redis_client
    import requests

    from dashboard.auth.sessions import META
    from tests.support.auth import add_users, closed_config, login

    config = closed_config()
    config = config.model_copy(update={"store": config.store.model_copy(update={"url": redis_server.url})})
    first, second = RedisStore(redis_server.url), RedisStore(redis_server.url)
    try:
        add_users(first)
        with running_app(config, first) as one:
            secret = first.map_get(META, "secret")
            raw = redis_client.Redis.from_url(redis_server.url)
            raw.flushall()
            raw.close()
            assert wait_for(lambda: first.map_get(META, "secret") == secret), "the running worker put its secret back"
            operator = add_users(first)["operator"]  # the users went too: made again, as a site would
            desk = login(one, operator.name, operator.password)
            with running_app(config, second) as two:  # a worker started after the flush
                assert desk.get(f"{one}/api/v1/me", timeout=30).json()["name"] == operator.name
                mine = requests.get(f"{two}/api/v1/me", cookies=desk.cookies, timeout=30)
                assert (mine.status_code, mine.json().get("name")) == (200, operator.name)
    finally:
        first.close()
        second.close()

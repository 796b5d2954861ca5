"""The Redis store as production runs it: several processes, one Redis, and Redis restarts.

The contract suite proves the Redis store behaves like the memory store inside one process;
these tests prove what only a shared, external store must: a second process sees the same
city, notifications cross processes, a persistent Redis restart loses nothing, a Redis outage
surfaces as an error (so ingest does not acknowledge), and concurrent writers cannot leave a
stale document or a version that disagrees with the changes made.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from dashboard.config import Config, load_config
from dashboard.picture import build_picture
from dashboard.store.base import SeriesPoint
from dashboard.store.redis_store import RedisStore
from feeds.sink import StoreUnavailable
from tests.support.city import NOW, comparable, feed_city_day
from tests.support.helpers import LONG_WAIT_S, WOKEN_S
from tests.support.services import RedisServer

pytestmark = pytest.mark.integration

KINDS = ("incident", "water_level", "report", "waste_fill", "queue", "kpi")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis with an append-only file, so a restart must bring the data back."""
    server = RedisServer(tmp_path / "redis", persistent=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def snapshot(store: RedisStore) -> dict[str, object]:
    """Everything a web worker can read, so two stores can be compared in one assert."""
    return {
        "entities": {kind: store.entities(kind) for kind in KINDS},
        "series": {key: store.series(key) for key in ("water_level:PS-SAIL", "queue:MPP-DPMPTSP", "kpi:open_incidents")},
        "version": store.version(),
        "recent": store.recent(100),
        "dead": store.dead_letters(),
        "feeds": store.feeds(),
        "last_seen": store.last_seen(),
    }


def test_a_second_process_sees_the_same_city(redis_url: str, config: Config) -> None:
    ingest, web = RedisStore(redis_url), RedisStore(redis_url)
    other_city = RedisStore(redis_url, prefix="pariaman")
    try:
        feed_city_day(ingest, config)
        assert snapshot(web) == snapshot(ingest)
        assert web.series("water_level:PS-SAIL") and web.version() > 0
        assert build_picture(web, config, NOW) == build_picture(ingest, config, NOW)
        assert other_city.version() == 0 and other_city.entities("incident") == {}, "prefixes isolate cities"
    finally:
        for store in (ingest, web, other_city):
            store.close()


def test_every_key_shares_one_hash_tag(redis_url: str, config: Config) -> None:
    """One slot for all keys is what keeps the multi-key scripts valid on Redis Cluster."""
    store = RedisStore(redis_url, prefix="cw")
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        feed_city_day(store, config)
        keys = list(raw.scan_iter("*"))
        assert keys and all(key.startswith("cw:{cw}:") for key in keys), keys
    finally:
        raw.close()
        store.close()


def test_a_change_in_one_process_wakes_a_waiter_in_another(redis_url: str) -> None:
    ingest, web = RedisStore(redis_url), RedisStore(redis_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            waiter = pool.submit(web.wait_changed, 0, LONG_WAIT_S)
            ingest.upsert("incident", "INC-9", 1.0, {"status": "new"})
            assert waiter.result(timeout=WOKEN_S) == 1, "woken by the other store's notification"
    finally:
        ingest.close()
        web.close()


def test_a_missed_notification_only_delays_until_the_timeout(redis_url: str) -> None:
    """A version bumped without PUBLISH (as when a message is lost) is still returned."""
    store = RedisStore(redis_url)
    raw = redis.Redis.from_url(redis_url)
    try:
        store.wait_changed(0, timeout=0.05)  # listener running
        with ThreadPoolExecutor(1) as pool:
            waiter = pool.submit(store.wait_changed, 0, 0.6)
            raw.incr("citywall:{citywall}:version")  # no PUBLISH: the waiter is never notified
            assert waiter.result(timeout=WOKEN_S) == 1, "the version is read again when the wait times out"
    finally:
        raw.close()
        store.close()


def test_survives_a_redis_restart_and_keeps_the_data(persistent_redis: RedisServer, config: Config) -> None:
    store, writer = RedisStore(persistent_redis.url), RedisStore(persistent_redis.url)
    try:
        feed_city_day(store, config)
        before, picture = snapshot(store), build_picture(store, config, NOW)
        store.wait_changed(before["version"], timeout=0.05)  # the listener is subscribed before the restart
        persistent_redis.restart()
        assert snapshot(store) == before, "same connection objects, reconnected; same data, from the AOF"
        assert comparable(build_picture(store, config, NOW)) == comparable(picture)
        version = store.version()
        with ThreadPoolExecutor(1) as pool:
            waiter = pool.submit(store.wait_changed, version, LONG_WAIT_S)
            writer.upsert("incident", "INC-NEW", NOW, {"status": "new"})
            assert waiter.result(timeout=WOKEN_S) == version + 1, "scripts reloaded, listener resubscribed"
    finally:
        store.close()
        writer.close()


def test_raises_while_redis_is_down_then_recovers(redis_server: RedisServer) -> None:
    """Raising is the point: the ingest side must not acknowledge a message it did not store."""
    store = RedisStore(redis_server.url)
    try:
        assert store.upsert("incident", "a", 1.0, {}) is True
        redis_server.stop()
        with pytest.raises(StoreUnavailable):  # a write says "not now", so the feed retries it
            store.upsert("incident", "a", 2.0, {})
        with pytest.raises(redis.exceptions.ConnectionError):
            store.entities("incident")
        assert store.ping() is False  # bounded retries: a hang would be stopped by the suite's timeout
        redis_server.start()
        assert store.ping() is True
        assert store.upsert("incident", "a", 2.0, {"back": True}) is True
    finally:
        store.close()


def test_concurrent_writers_end_with_the_newest_doc_and_a_consistent_version(redis_url: str) -> None:
    """Two ingest processes redelivering overlapping updates in different orders."""
    ids, times = [f"WL-{n:02d}" for n in range(50)], range(40)
    stores = [RedisStore(redis_url), RedisStore(redis_url)]
    accepted = [0, 0]
    start = threading.Barrier(2)

    def write(writer: int) -> None:
        work = [(i, t) for i in ids for t in times if t % 2 == writer or t >= 30]  # overlap: both send t >= 30
        random.Random(writer).shuffle(work)
        start.wait()
        for entity_id, t in work:
            point = SeriesPoint(f"water_level:{entity_id}", 60.0 * t, float(t))
            accepted[writer] += stores[writer].upsert("water_level", entity_id, float(t), {"t": t, "by": writer}, series=point)

    threads = [threading.Thread(target=write, args=(w,)) for w in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        docs = stores[0].entities("water_level")
        assert {i: d["t"] for i, d in docs.items()} == {i: 39 for i in ids}
        assert stores[1].version() == sum(accepted), "one bump per applied change, none lost"
        assert len(ids) <= sum(accepted) <= len(ids) * len(times)
        assert all(stores[1].series(f"water_level:{i}")[-1] == (60.0 * 39, 39.0) for i in ids)
        assert stores[0].oldest("water_level", before=39.0) == [], "the index holds the newest time of every id"
    finally:
        for store in stores:
            store.close()

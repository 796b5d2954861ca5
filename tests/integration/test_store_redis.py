"""The Redis store as production runs it: several processes, one Redis, and Redis restarts.

The contract suite proves the Redis store behaves like the memory store inside one process;
these tests prove what only a shared, external store must: a second process sees the same
city, notifications cross processes, a persistent Redis restart loses nothing, a Redis outage
surfaces as an error (so ingest does not acknowledge), and concurrent writers cannot leave a
stale document or a version that disagrees with the changes made.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from dashboard.config import Config, load_config
from dashboard.picture import build_picture
from dashboard.store.base import IndexRow, SeriesPoint
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


#: The families and one key each that must sit under the family's tag, written out here so
#: that the layout is checked against the documented one, not against itself.
FAMILY_KEYS = {
    "incidents": (
        "cw:{cw:incidents}:ent:incident",
        "cw:{cw:incidents}:ix:incidents:open",
        "cw:{cw:incidents}:ixc:incidents:open",
        "cw:{cw:incidents}:version",
        "cw:{cw:incidents}:recent",
    ),
    "reports": ("cw:{cw:reports}:ent:report", "cw:{cw:reports}:ixr:reports:open"),
    "drainage": ("cw:{cw:drainage}:ent:water_level", "cw:{cw:drainage}:series:water_level:PS-SAIL"),
    "waste": ("cw:{cw:waste}:ent:waste_fill",),
    "mpp": ("cw:{cw:mpp}:ent:queue", "cw:{cw:mpp}:series:queue:MPP-DPMPTSP"),
    "kpis": ("cw:{cw:kpis}:ent:kpi", "cw:{cw:kpis}:series:kpi:open_incidents", "cw:{cw:kpis}:series:kpi_h:open_incidents"),
    "feeds": ("cw:{cw:feeds}:dead", "cw:{cw:feeds}:feeds", "cw:{cw:feeds}:feed:mqtt:counts"),
    "ops": ("cw:{cw:ops}:ent:wall_control", "cw:{cw:ops}:audit", "cw:{cw:ops}:epoch"),
}


def test_each_family_has_a_hash_tag_of_its_own(redis_url: str, config: Config) -> None:
    """A tag per family puts each family in one slot (its scripts stay valid on a cluster)
    and the families in different slots (a cluster spreads them over its masters)."""
    store = RedisStore(redis_url, prefix="cw")
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        feed_city_day(store, config)
        store.swap("wall_control", "wall", None, 1.0, {"preset": "default"})
        store.append_audit({"what": "preset"}, keep=5)
        store.health_check()
        keys = set(raw.scan_iter("*"))
        tagged = {key: re.match(r"cw:(\{cw:[a-z]+\}):", key) for key in keys}
        assert [key for key, tag in tagged.items() if tag is None] == [], "every key has its family's tag"
        tags = {tag[1] for tag in tagged.values() if tag is not None}
        assert tags == {f"{{cw:{family}}}" for family in FAMILY_KEYS}, sorted(keys)
        missing = {key for names in FAMILY_KEYS.values() for key in names} - keys
        assert not missing, f"not where the layout puts them: {sorted(missing)}"
        assert len({key_slot(tag.encode()) for tag in tags}) == len(FAMILY_KEYS), "every family in a slot of its own"
    finally:
        raw.close()
        store.close()


def test_a_read_model_of_another_family_is_refused_before_anything_is_written(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix="cw")
    try:
        with pytest.raises(ValueError, match="one atomic write cannot span two families"):
            store.upsert("water_level", "PS-1", 1.0, {}, rows=(IndexRow("incidents:open", "PS-1", "k|PS-1", {}),))
        with pytest.raises(ValueError, match="one atomic write cannot span two families"):
            store.upsert("water_level", "PS-1", 1.0, {}, series=SeriesPoint("queue:PS-1", 1.0, 1.0))
        assert store.entities("water_level") == {} and store.version() == 0
    finally:
        store.close()


def test_every_kind_the_city_writes_has_a_family() -> None:
    """A kind left to the ``other`` family would still work, but would share a slot with
    everything else that was forgotten; each one the product writes is placed on purpose."""
    from dashboard.ingest import OPS_KIND
    from dashboard.read_models import INDEXES
    from dashboard.store.redis_keys import OTHER, KeyLayout
    from dashboard.wall_control import KIND as WALL_KIND
    from feeds.events import KIND_OF

    layout = KeyLayout("cw")
    kinds = {*KIND_OF.values(), OPS_KIND, WALL_KIND}
    assert {kind for kind in kinds if layout.family_of_kind(kind) == OTHER} == set()
    assert all(layout.family_of_index(index) == layout.family_of_kind(kind) for kind, names in INDEXES.items() for index in names)
    assert layout.family_of_kind("incident_ops") == layout.family_of_kind("incident"), "operators rewrite incident rows"


_MONITOR_LINE = re.compile(rb"^[0-9.]+ \[\d+ ([^\]]+)\] (.*)$", re.S)
_ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b", b"\\": b"\\", b'"': b'"'}


def _monitor_args(text: bytes) -> list[bytes]:
    """The arguments of a MONITOR line, unescaped (Redis quotes them as ``sdscatrepr`` does)."""

    def unescape(m: re.Match[bytes]) -> bytes:
        code = m[1]
        return bytes([int(code[1:], 16)]) if code[:1] == b"x" and len(code) == 3 else _ESCAPES[code]

    return [re.sub(rb"\\(x[0-9a-fA-F]{2}|.)", unescape, arg) for arg in _ARG.findall(text)]


def test_scripts_touch_only_the_keys_they_declare(redis_url: str, config: Config) -> None:
    """Every command a script runs (seen through MONITOR) touches only keys passed in KEYS, and
    all of a script's keys share one hash tag: what a slot migration needs to lose nothing."""
    from dashboard.read_models import INDEXES, incident_rows

    raw = redis.Redis.from_url(redis_url)
    store = RedisStore(redis_url, prefix="cw")
    token = f"end-{random.random()}".encode()
    lines: list[bytes] = []
    ready = threading.Event()

    def watch() -> None:
        with raw.monitor() as monitor:
            ready.set()
            while True:
                line = monitor.connection.read_response()
                if token in line:
                    return
                lines.append(line)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        assert ready.wait(10)
        store.ping()
        feed_city_day(store, config)
        incident = store.entities("incident")["INC-1"]
        store.swap(
            "incident_ops",
            "INC-1",
            None,
            NOW,
            {"status": "acknowledged"},
            rows=incident_rows({**incident, "status": "acknowledged"}, config),
        )
        store.delete("incident", ["INC-3", "INC-4"], INDEXES["incident"])
        store.trim("water_level", 1)
        store.add_point(SeriesPoint("kpi:x", NOW, 1.0))
        redis.Redis.from_url(redis_url).echo(token)
        watcher.join(30)
        assert not watcher.is_alive()
    finally:
        store.close()

    declared: list[bytes] = []
    scripts, touched, undeclared = 0, set(), []
    for line in lines:
        match = _MONITOR_LINE.match(line)
        assert match, line[:200]
        client, args = match[1], _monitor_args(match[2])
        if args[0].upper() == b"EVALSHA":
            scripts += 1
            declared = args[3 : 3 + int(args[2])]
            assert len({re.search(rb"\{[^}]*\}", key)[0] for key in declared}) == 1, declared  # type: ignore[index]
        elif client == b"lua":
            try:
                keys = [k if isinstance(k, bytes) else k.encode() for k in raw.command_getkeys(*args)]
            except redis.ResponseError:  # TIME, PUBLISH: no key
                keys = []
            touched.update(keys)
            undeclared += [(args[0], key) for key in keys if key not in declared]
    raw.close()
    assert scripts >= 25 and undeclared == []
    kinds_of_key = {key.split(b"}:", 1)[1].split(b":")[0] for key in touched}
    assert {b"ix", b"ixr", b"ixm", b"ixc", b"series", b"recent", b"version", b"seen", b"ent", b"idx"} <= kinds_of_key


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
            raw.incr("citywall:{citywall:drainage}:version")  # no PUBLISH: the waiter is never notified
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


def test_a_master_without_its_replicas_is_an_outage_not_a_bad_message(redis_server: RedisServer) -> None:
    """With ``min-replicas-to-write`` (deploy/redis/redis.conf, for Sentinel), a master cut off
    from its replicas (one being replaced in a failover) refuses writes with NOREPLICAS. The
    feed must retry them, unacknowledged, until the new master takes them: acknowledged on
    the old master, they were lost when it rejoined as a replica and dropped its data."""
    store = RedisStore(redis_server.url)
    admin = redis.Redis.from_url(redis_server.url)
    try:
        admin.config_set("min-replicas-to-write", 1)
        with pytest.raises(StoreUnavailable, match="NOREPLICAS"):
            store.upsert("incident", "a", 1.0, {})
        with pytest.raises(StoreUnavailable, match="NOREPLICAS"):
            store.record_feed("mqtt", {"received": 1}, {})
        admin.config_set("min-replicas-to-write", 0)
        assert store.upsert("incident", "a", 1.0, {"kept": True}) is True
        assert store.entities("incident") == {"a": {"kept": True}}
    finally:
        admin.close()
        store.close()


def test_a_full_redis_is_an_outage_in_a_pipeline_too(redis_server: RedisServer) -> None:
    """``maxmemory`` with ``noeviction`` (the deploy's) answers OOM; redis-py words it
    differently inside a pipeline, where it was taken for a bad message and dead-lettered."""
    store = RedisStore(redis_server.url)
    admin = redis.Redis.from_url(redis_server.url)
    try:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)
        with pytest.raises(StoreUnavailable, match="OutOfMemory"):
            store.record_feed("mqtt", {"received": 1}, {})
        with pytest.raises(StoreUnavailable, match="OutOfMemory"):
            store.upsert("incident", "a", 1.0, {})
        admin.config_set("maxmemory", 0)
        store.record_feed("mqtt", {"received": 1}, {})
        assert store.feeds()["mqtt"]["counts"] == {"received": 1}
    finally:
        admin.close()
        store.close()


def test_a_picture_read_that_meets_the_outage_is_the_last_picture(redis_server: RedisServer) -> None:
    """In the second before the health check sees Redis go, every page's poll and push read
    met the outage and answered 500 with a traceback; now they get the last picture."""
    from dashboard.ingest import CityState
    from dashboard.reader import PictureCache
    from tests.support.operations import incident

    config = load_config(environ={})
    store = RedisStore(redis_server.url)
    try:
        CityState(store, config).accept(incident("OUT-1", severity="critical"))
        reader = PictureCache(store, config)  # no health check: it has not looked yet
        before = reader.picture()
        redis_server.stop()
        assert reader.version() == before.version
        after = reader.picture()
        assert (after.version, after.incidents.open_count, [r.id for r in after.incidents.open]) == (
            before.version,
            1,
            ["OUT-1"],
        )
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

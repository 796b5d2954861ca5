"""The Redis store on the deployments a grown city runs: a Redis Cluster and a Sentinel master.

URL parsing is checked as data; the rest runs on real redis-server processes: a 3-master
cluster made with ``redis-cli --cluster create`` and a master + replica watched by a Sentinel.
What must hold there is what holds on one Redis: the same city picture as the memory store,
change notification across processes (pub/sub through the cluster client), and no write lost
when a slot moves to another master or the master fails over to its replica.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from dashboard.config import Config, ConfigError, load_config
from dashboard.picture import build_picture
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_client import parse
from dashboard.store.redis_store import RedisStore
from tests.support.city import NOW, comparable, feed_city_day
from tests.support.configs import write_config
from tests.support.services import RedisCluster, RedisSentinelSet, redis_cli, wait_until


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


# --- store.url ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "kind", "nodes", "extra"),
    [
        ("redis+cluster://10.0.0.1:7000,10.0.0.2:7001/", "cluster", (("10.0.0.1", 7000), ("10.0.0.2", 7001)), {}),
        (
            "rediss+cluster://ops:p%40ss@[::1]:7000,h2",
            "cluster",
            (("::1", 7000), ("h2", 6379)),
            {"tls": True, "username": "ops", "password": "p@ss"},
        ),
        ("redis+sentinel://s1:26379,s2/citywall", "sentinel", (("s1", 26379), ("s2", 26379)), {"service": "citywall", "db": 0}),
        (
            "rediss+sentinel://:pw@s1/city/3?ssl_cert_reqs=none&sentinel_auth=true",
            "sentinel",
            (("s1", 26379),),
            {
                "service": "city",
                "db": 3,
                "tls": True,
                "username": None,
                "password": "pw",
                "options": {"ssl_cert_reqs": "none", "sentinel_auth": "true"},
            },
        ),
        ("redis+cluster://tokenonly@h:7000", "cluster", (("h", 7000),), {"username": None, "password": "tokenonly"}),
    ],
)
def test_cluster_and_sentinel_urls_parse(url: str, kind: str, nodes: tuple, extra: dict) -> None:
    target = parse(url)
    assert (target.kind, target.nodes) == (kind, nodes)
    for name, value in extra.items():
        assert getattr(target, name) == value, name


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis+cluster://h:70x0", "a port in the node list is not a number"),
        ("redis+cluster://h:7000/2", "a cluster has only database 0"),
        ("redis+sentinel://h:26379", "redis+sentinel:// needs /SERVICE"),
        ("redis+sentinel://h/svc/one", "the database after the service must be a number"),
        ("redis+cluster://h:7000?password=hunter2", "an unknown option in the query"),
        ("rediss+cluster://h:7000?ssl_cert_reqs=maybe", "ssl_cert_reqs must be required or none"),
        ("redis+shard://h:7000", "must be memory:// or redis://host:port/db"),
        ("rediss://127.0.0.1:1/0?ssl_cert_reqs=bogus", "ssl_cert_reqs must be required or none"),
        ("redis://127.0.0.1:6379/0?socket_timeout=1", "an unknown option in the query"),
    ],
)
def test_a_bad_store_url_is_a_config_error_without_the_password(tmp_path: Path, url: str, reason: str) -> None:
    secret_url = url.replace("://", "://ops:hunter2@", 1)
    path = write_config(tmp_path, lambda c: c["store"].update(url=secret_url))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert f"{path}: store.url: {reason}" in message
    assert "hunter2" not in message


# --- a real cluster ----------------------------------------------------------------------------
@pytest.mark.integration
def test_the_store_on_a_three_master_cluster(redis_cluster: RedisCluster, config: Config) -> None:
    """The same picture as the memory store; a change wakes a waiter in another client."""
    assert len(redis_cluster.masters()) == 3
    memory, ingest, web = MemoryStore(), RedisStore(redis_cluster.url), RedisStore(redis_cluster.url)
    try:
        for backend in (memory, ingest):
            feed_city_day(backend, config)
        assert comparable(build_picture(web, config, NOW)) == comparable(build_picture(memory, config, NOW))
        assert web.feeds() == memory.feeds() and web.dead_letters() == memory.dead_letters()
        assert web.health_check()["version"] == ingest.version() > 0
        holding = {port: int(redis_cli(port, "dbsize").strip()) for port in redis_cluster.masters().values()}
        assert sum(n > 0 for n in holding.values()) >= 2, f"the families spread over the masters: {holding}"
        version = web.version()
        timer = threading.Timer(0.3, lambda: ingest.upsert("incident", "INC-CL", NOW, {"status": "new"}))
        timer.start()
        assert web.wait_changed(version, timeout=10) == version + 1, "pub/sub through the cluster client"
        timer.join()
        assert web.map_put("meta", "secret", "one", only_new=True) and not ingest.map_put("meta", "secret", "two", only_new=True)
        assert ingest.map_get("meta", "secret") == "one"
    finally:
        for store in (memory, ingest, web):
            store.close()


@pytest.mark.integration
def test_no_write_is_lost_while_the_slot_moves_to_another_master(redis_cluster: RedisCluster) -> None:
    """A writer keeps upserting while every key of the incidents' slot is migrated (MIGRATING /
    IMPORTING, MIGRATE, SETSLOT NODE): redis-py follows ASK and TRYAGAIN, and what it cannot
    place raises StoreUnavailable, which a feed answers by retrying, as this writer does."""
    from feeds.sink import StoreUnavailable

    store, web = RedisStore(redis_cluster.url, prefix="mig"), RedisStore(redis_cluster.url, prefix="mig")
    slot = int(redis_cli(redis_cluster.nodes[0].port, "cluster", "keyslot", "{mig:incidents}"))
    source_id, _ = redis_cluster.node_for_slot(slot)
    target_port = next(port for node_id, port in redis_cluster.masters().items() if node_id != source_id)
    total, written, retries = 3_000, [0], [0]
    started = threading.Event()

    def write() -> None:
        for n in range(total):
            while True:
                try:
                    store.upsert("incident", f"INC-{n:05d}", float(n), {"n": n}, recent={"n": n})
                    break
                except StoreUnavailable:
                    retries[0] += 1
            written[0] = n + 1
            if n == 300:
                started.set()

    writer = threading.Thread(target=write)
    try:
        writer.start()
        assert started.wait(30)
        moved = redis_cluster.migrate_slot(slot, target_port)
        writer.join(timeout=120)
        assert not writer.is_alive() and written[0] == total
        assert moved > 0, "keys were moved while the writer ran"
        assert redis_cluster.node_for_slot(slot)[1] == target_port
        assert web.count("incident") == total
        assert set(web.entities("incident")) == {f"INC-{n:05d}" for n in range(total)}
        assert web.version() == total, "each new incident bumped the version exactly once"
        assert web.kind_versions() == {"incident": total}
        assert len(web.recent(total)) == 50 and web.recent(1) == [{"n": total - 1}], "the ticker kept its newest lines"
    finally:
        writer.join(timeout=5)
        store.close()
        web.close()


# --- Sentinel ----------------------------------------------------------------------------------
@pytest.mark.integration
def test_the_store_follows_a_sentinel_failover_and_loses_nothing(redis_sentinel: RedisSentinelSet) -> None:
    store, web = RedisStore(redis_sentinel.url, prefix="sn"), RedisStore(redis_sentinel.url, prefix="sn")
    try:
        for n in range(500):
            store.upsert("incident", f"INC-{n:04d}", float(n), {"n": n})
        assert web.count("incident") == 500
        old_master = redis_sentinel.master.port
        # the replica holds every write before the master dies (replication is asynchronous)
        assert int(redis_cli(old_master, "wait", "1", "5000").strip()) == 1
        version = web.version()
        web.wait_changed(version, timeout=0.05)  # the listener is subscribed to the old master
        redis_sentinel.master.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        wait_until(lambda: redis_sentinel.master_port() == redis_sentinel.replica.port, 60, "failover to the replica")
        from feeds.sink import StoreUnavailable

        def write_after_failover() -> bool:
            try:
                return store.upsert("incident", "INC-AFTER", 1_000.0, {"after": True})
            except StoreUnavailable:  # the feed's answer: retry later
                return False

        wait_until(write_after_failover, 30, "a write to the new master")
        assert web.wait_changed(version, timeout=10) == version + 1, "the listener resubscribed on the new master"
        assert web.count("incident") == 501
        assert set(web.entities("incident")) == {f"INC-{n:04d}" for n in range(500)} | {"INC-AFTER"}
    finally:
        store.close()
        web.close()


@pytest.mark.parametrize("url", ["redis+cluster://ops:hunter2@h:7000,h:7001", "rediss+sentinel://hunter2@s1/city"])
def test_cluster_and_sentinel_passwords_are_redacted(url: str) -> None:
    from dashboard.redact import redact

    shown = redact(f"connecting to {url}")
    assert "hunter2" not in shown and "***@" in shown


@pytest.mark.integration
def test_an_acl_user_on_the_cluster_and_no_access_without_it(tmp_path: Path) -> None:
    """ACL credentials in the URL reach every node the cluster client talks to (the seed and
    those it discovers); without them the default user may only PING, so the store refuses."""
    import redis

    cluster = RedisCluster(tmp_path / "acl-cluster", acl=("citywall", "s3cret-acl"))
    try:
        cluster.start()
        store = RedisStore(cluster.url, prefix="acl")
        try:
            assert store.upsert("incident", "INC-ACL", 1.0, {"ok": True}) is True
            assert store.entities("incident") == {"INC-ACL": {"ok": True}}
            assert store.wait_changed(0, timeout=5) == 1
        finally:
            store.close()
        anonymous = cluster.url.replace("citywall:s3cret-acl@", "")
        with pytest.raises((redis.RedisError, redis.exceptions.RedisClusterException)):
            RedisStore(anonymous, prefix="acl").upsert("incident", "INC-NO", 1.0, {})
    finally:
        cluster.stop()


def test_a_cluster_client_that_gave_up_redirecting_is_an_outage_not_a_bad_message() -> None:
    """While a slot migrates, a script whose keys are half moved is answered TRYAGAIN until the
    migration ends; redis-py then gives up with ClusterError("TTL exhausted."). The feed must
    retry that message (StoreUnavailable), not dead-letter it."""
    from redis.exceptions import ClusterDownError, ClusterError, TryAgainError

    from dashboard.store.redis_store import _writing
    from feeds.sink import StoreUnavailable

    for error in (ClusterError("TTL exhausted."), TryAgainError("slot 1 moving"), ClusterDownError("down")):
        with pytest.raises(StoreUnavailable), _writing():
            raise error
    with pytest.raises(ValueError), _writing():  # anything about the data passes through
        raise ValueError("not JSON")

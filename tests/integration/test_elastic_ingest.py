"""Ingest processes join and leave an MQTT 5 shared group without stranding a message.

Real programs: Mosquitto 2 (persistent sessions, QoS 1), ``citywall ingest`` processes in one
``$share`` group writing into a Redis store. One member is SIGKILLed mid-stream and a
replacement with a new client id starts; another leaves by SIGTERM. Every published alert must
be stored exactly once (present with its text, and the store's version grown by exactly the
number of distinct alerts: a redelivered duplicate does not bump it), the dead member must be
shown dead in the feed records, and its session must have been emptied by a survivor (see
``feeds/membership.py`` for why the broker alone does not do it).
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from dashboard.store.redis_store import RedisStore
from tests.support.helpers import PacedPublisher, check_all_present_once, make_alerts, start_ingest, wait_until, write_config
from tests.support.services import CitywallProcess, Mosquitto

pytestmark = pytest.mark.integration

TOTAL = 20_000
KILL_AT = 5_000
RATE = 2_000.0  # msg/s: the stream lasts about 10 s, so the kill lands in its middle
TOPIC = "pekanbaru/alerts"


def members(store: RedisStore) -> dict[str, dict[str, Any]]:
    return {name: doc for name, doc in store.feeds().items() if name.startswith("mqtt@")}


def member_of(store: RedisStore, proc: CitywallProcess) -> tuple[str, dict[str, Any]] | None:
    return next(((n, d) for n, d in members(store).items() if d.get("pid") == proc.pid and d.get("connected")), None)


def all_stored(store: RedisStore, total: int, timeout: float, proc: CitywallProcess) -> None:
    """Wait for ``total`` incidents; a failure says how far it got and what each member shows."""
    try:
        wait_until(lambda: store.count("incident") >= total, timeout, f"all {total} alerts stored", interval=0.2, proc=proc)
    except AssertionError as exc:
        health = {
            n: {k: d.get(k) for k in ("state", "alive", "connected", "counts", "drained_messages")}
            for n, d in members(store).items()
        }
        raise AssertionError(f"{exc}\nstored {store.count('incident')}; members {health}") from None


def group_config(tmp_path: Path, mosquitto: Mosquitto, redis_url: str) -> Path:
    return write_config(
        tmp_path,
        {
            "feeds.mqtt.url": mosquitto.url,
            "feeds.mqtt.shared_group": "ingest",
            "feeds.mqtt.heartbeat_s": 1,
            "store.url": redis_url,
            "history.open_incidents_max": 2 * TOTAL,
        },
    )


def test_a_killed_member_and_its_replacement_store_every_alert_once(
    mosquitto: Mosquitto, redis_url: str, citywall_proc: Callable[..., CitywallProcess], tmp_path: Path
) -> None:
    config = group_config(tmp_path, mosquitto, redis_url)
    store = RedisStore(redis_url)
    try:
        first, second = start_ingest(citywall_proc, config, {}), start_ingest(citywall_proc, config, {})
        for proc in (first, second):
            wait_until(lambda p=proc: member_of(store, p), 60, "member connected and subscribed", proc=proc)
        version = store.version()
        alerts = make_alerts(TOTAL, "ELASTIC")
        publisher = PacedPublisher(mosquitto, [(TOPIC, json.dumps(a).encode()) for a in alerts], rate=RATE)
        publisher.start()
        wait_until(lambda: store.count("incident") >= KILL_AT, 60, f"{KILL_AT} alerts stored", proc=first)
        killed_name, _ = member_of(store, first)  # type: ignore[misc]
        first.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        replacement = start_ingest(citywall_proc, config, {})
        dead = wait_until(
            lambda: members(store)[killed_name].get("alive") is False and members(store)[killed_name],
            30,
            "the killed member shown dead",
            interval=0.1,
        )
        seen_dead_s = time.monotonic() - killed_at
        publisher.finish(180)
        all_stored(store, TOTAL, 180, second)
        check_all_present_once(store, alerts, extra_ids=set())
        assert store.version() - version == TOTAL, "each alert applied exactly once"
        record = wait_until(
            lambda: members(store)[killed_name].get("state") == "drained" and members(store)[killed_name],
            60,
            "the killed member's session emptied",
        )
        survivors = {d["member"] for d in members(store).values() if d.get("pid") in (second.pid, replacement.pid)}
        assert record["drained_by"] in survivors
        assert record["drained_messages"] > 0, "the dead member's session held messages, and they were stored"
        assert dead["connected"] is False and dead["host"] == socket.gethostname() and dead["pid"] == first.pid
        assert member_of(store, replacement) is not None, "the replacement joined under a new client id"
        assert member_of(store, replacement)[0] != killed_name  # type: ignore[index]
        print(
            f"\nkilled member shown dead after {seen_dead_s:.1f} s (heartbeat 1 s); "
            f"{record['drained_messages']} message(s) rescued from its session"
        )
    finally:
        store.close()


def test_a_member_that_leaves_by_sigterm_hands_over_at_once(
    mosquitto: Mosquitto, redis_url: str, citywall_proc: Callable[..., CitywallProcess], tmp_path: Path
) -> None:
    """A graceful stop keeps the session (so a group that is stopped entirely still queues),
    says "left", and a survivor empties it without waiting for missed heartbeats."""
    config = group_config(tmp_path, mosquitto, redis_url)
    store = RedisStore(redis_url)
    try:
        leaving, staying = start_ingest(citywall_proc, config, {}), start_ingest(citywall_proc, config, {})
        for proc in (leaving, staying):
            wait_until(lambda p=proc: member_of(store, p), 60, "member connected and subscribed", proc=proc)
        name, _ = member_of(store, leaving)  # type: ignore[misc]
        alerts = make_alerts(4_000, "LEAVE")
        publisher = PacedPublisher(mosquitto, [(TOPIC, json.dumps(a).encode()) for a in alerts], rate=RATE)
        publisher.start()
        wait_until(lambda: store.count("incident") >= 1_000, 60, "1,000 alerts stored", proc=leaving)
        assert leaving.terminate(timeout=15) == 0
        publisher.finish(120)
        all_stored(store, len(alerts), 120, staying)
        check_all_present_once(store, alerts, extra_ids=set())
        record = wait_until(
            lambda: members(store)[name].get("state") == "drained" and members(store)[name],
            60,
            "the leaving member's session emptied",
        )
        assert record["alive"] is False and record["connected"] is False
    finally:
        store.close()


def test_a_named_member_resumes_its_own_session_after_the_store_lost_its_record(
    mosquitto: Mosquitto, redis_url: str, citywall_proc: Callable[..., CitywallProcess], tmp_path: Path
) -> None:
    """``feeds.mqtt.member`` (systemd's instance): a restart has the client id it had, and the
    broker hands it what came while it was away, though the store that would have named its
    session to a survivor came back empty. With the pid in the id, those messages waited in a
    session no process would ever resume, and went when it expired."""
    config = write_config(
        tmp_path,
        {
            "feeds.mqtt.url": mosquitto.url,
            "feeds.mqtt.shared_group": "ingest",
            "feeds.mqtt.member": "1",
            "feeds.mqtt.heartbeat_s": 1,
            "store.url": redis_url,
        },
    )
    store = RedisStore(redis_url)
    try:
        first = start_ingest(citywall_proc, config, {})
        wait_until(lambda: member_of(store, first), 60, "member 1 connected and subscribed", proc=first)
        assert first.terminate(timeout=15) == 0
        flush = redis.Redis.from_url(redis_url)
        flush.flushall()  # the store comes back empty: no record names member 1's session
        flush.close()
        alerts = make_alerts(50, "AWAY")
        publisher = PacedPublisher(mosquitto, [(TOPIC, json.dumps(a).encode()) for a in alerts], rate=500.0)
        publisher.start()
        publisher.finish(60)
        again = start_ingest(citywall_proc, config, {})
        all_stored(store, len(alerts), 60, again)
        check_all_present_once(store, alerts, extra_ids=set())
    finally:
        store.close()

"""The real-service fixtures work: if these fail, every integration test
would fail for reasons that have nothing to do with the dashboard."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
import redis

from tests.support.services import CitywallProcess, Mosquitto, RedisServer, free_port

pytestmark = pytest.mark.integration

TIMEOUT = 10.0


class _Client:
    """paho client that records CONNACK and messages, so tests can wait on
    them instead of sleeping."""

    def __init__(self, broker: Mosquitto, client_id: str = "", *, clean_session: bool = True) -> None:
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.session_present: bool | None = None
        self.messages: list[mqtt.MQTTMessage] = []
        self.got_message = threading.Event()
        self.broker = broker
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        self.session_present = bool(flags.session_present)
        self.connected.set()

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(msg)
        self.got_message.set()

    def connect(self) -> _Client:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        assert self.connected.wait(TIMEOUT), "no CONNACK"
        return self

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.client.subscribe(topic, qos=qos)
        assert self.subscribed.wait(TIMEOUT), "no SUBACK"

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos).wait_for_publish(TIMEOUT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mosquitto_publish_subscribe(mosquitto: Mosquitto) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    sub = _Client(mosquitto).connect()
    pub = _Client(mosquitto).connect()
    try:
        sub.subscribe("city/traffic/+")
        pub.publish("city/traffic/cam1", b'{"vehicles": 12}')
        assert sub.got_message.wait(TIMEOUT)
        assert sub.messages[0].topic == "city/traffic/cam1"
        assert sub.messages[0].payload == b'{"vehicles": 12}'
    finally:
        sub.close()
        pub.close()


def test_mosquitto_session_fixture_is_usable(mosquitto_session: Mosquitto) -> None:
    sub = _Client(mosquitto_session).connect()
    try:
        sub.subscribe("selftest/session")
        sub.publish("selftest/session", b"ok")
        assert sub.got_message.wait(TIMEOUT)
    finally:
        sub.close()


def test_persistent_session_survives_broker_restart(mosquitto: Mosquitto) -> None:
    """A wall that was offline must get the alerts sent meanwhile, even if
    the broker restarted in between: this needs the broker's persistence."""
    sub = _Client(mosquitto, "wall-1", clean_session=False).connect()
    sub.subscribe("city/alerts")
    sub.close()

    pub = _Client(mosquitto).connect()
    pub.publish("city/alerts", b"flood warning", qos=1)
    pub.close()

    port = mosquitto.port
    mosquitto.restart()
    assert mosquitto.port == port

    again = _Client(mosquitto, "wall-1", clean_session=False).connect()
    try:
        assert again.session_present is True
        assert again.got_message.wait(TIMEOUT), f"queued message lost:\n{mosquitto.log_text()}"
        assert [m.payload for m in again.messages] == [b"flood warning"]
    finally:
        again.close()


def test_redis_set_get(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    try:
        assert r.dbsize() == 0
        r.set("citywall:selftest", "halo")
        assert r.get("citywall:selftest") == b"halo"
    finally:
        r.close()


def test_redis_url_starts_empty(redis_url: str) -> None:
    """Runs after test_redis_set_get on the same shared server."""
    r = redis.Redis.from_url(redis_url)
    try:
        assert r.get("citywall:selftest") is None
    finally:
        r.close()


def test_persistent_redis_keeps_data_across_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path, persistent=True)
    try:
        server.start()
        r = redis.Redis.from_url(server.url)
        r.set("k", "v")
        r.close()
        server.restart()
        r = redis.Redis.from_url(server.url)
        assert r.get("k") == b"v"
        r.close()
    finally:
        server.stop()


def test_process_runner_waits_and_kills(citywall_proc: Callable[..., CitywallProcess]) -> None:
    port = free_port()
    proc = citywall_proc(
        [sys.executable, "-c", "import os, http.server, sys; print('env', os.environ['CW_TEST']);"
         "http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='127.0.0.1')",
         str(port)],
        env={"CW_TEST": "yes"},
    )  # fmt: skip
    proc.wait_http(f"http://127.0.0.1:{port}/", timeout=15)
    assert "env yes" in proc.log_text()
    proc.kill(signal.SIGKILL)
    assert not proc.alive
    assert proc.returncode == -signal.SIGKILL
    with pytest.raises(RuntimeError, match="exited"):
        proc.wait_http(f"http://127.0.0.1:{port}/", timeout=1)

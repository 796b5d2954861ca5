"""Write-back: every operator action goes out to the field, so field apps see it.

Each action is published on MQTT at ``<slug>/actions/incidents/<id>`` (QoS 1, not retained)
through paho, and, when Redis feeds are configured, added to the Redis stream
``<slug>:actions`` (bounded with MAXLEN ~). A publish that fails is logged and counted and
never fails the action: the action is already stored and audited, and the wall must not
stop because a broker is away. paho queues QoS 1 messages while it reconnects.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol
from urllib.parse import urlsplit

log = logging.getLogger("citywall.writeback")
STREAM_MAXLEN = 10_000


class Publisher(Protocol):
    def publish(self, incident_id: str, payload: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class WriteBack:
    """Fans one action out to every configured channel."""

    def __init__(self, publishers: list[Publisher]) -> None:
        self.publishers = publishers
        self.failures = 0

    def publish(self, incident_id: str, payload: dict[str, Any]) -> None:
        for publisher in self.publishers:
            try:
                publisher.publish(incident_id, payload)
            except Exception:  # the action stands; the channel is reported, not the operator
                self.failures += 1
                log.exception("write-back via %s failed for incident %s", type(publisher).__name__, incident_id)

    def close(self) -> None:
        for publisher in self.publishers:
            publisher.close()


def actions_prefix(slug: str) -> str:
    """Where a city's actions are published, one topic per incident below it."""
    return f"{slug}/actions/incidents/"


class MqttWriteBack:
    def __init__(self, url: str, slug: str, client_id: str = "citywall-actions", qos: int = 1) -> None:
        import paho.mqtt.client as mqtt

        parts = urlsplit(url)
        self.prefix = actions_prefix(slug)
        self.qos = qos
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.connect_async(parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883))
        self._client.loop_start()

    def publish(self, incident_id: str, payload: dict[str, Any]) -> None:
        self._client.publish(self.prefix + incident_id, json.dumps(payload, ensure_ascii=False), qos=self.qos)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class RedisStreamWriteBack:
    def __init__(self, url: str, slug: str) -> None:
        import redis

        self.stream = f"{slug}:actions"
        self._client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._lock = threading.Lock()

    def publish(self, incident_id: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False)
        with self._lock:
            self._client.xadd(self.stream, {"incident": incident_id, "data": data}, maxlen=STREAM_MAXLEN, approximate=True)

    def close(self) -> None:
        self._client.close()


def from_config(mqtt_url: str | None, redis_url: str | None, slug: str, client_id: str) -> WriteBack:
    """MQTT when a broker is configured, the Redis stream when Redis feeds are."""
    publishers: list[Publisher] = []
    if mqtt_url:
        publishers.append(MqttWriteBack(mqtt_url, slug, client_id=client_id))
    if redis_url:
        publishers.append(RedisStreamWriteBack(redis_url, slug))
    return WriteBack(publishers)

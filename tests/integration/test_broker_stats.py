"""Messages the broker drops are invisible to the feed, so feed health shows the broker's count.

A real Mosquitto with a tiny queue per client and ``$SYS`` every second: a persistent
subscriber goes offline, 40 QoS 1 messages are published, the broker keeps 5 and drops the
rest, and the adapter's feed status carries the broker's own dropped count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from dashboard.config import MqttFeed
from feeds.mqtt import MqttAdapter
from tests.support.helpers import RecordingSink, make_normalizer
from tests.support.services import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture
def small_queue_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto", extra=["max_queued_messages 5", "sys_interval 1"])
    broker.workdir.mkdir(parents=True, exist_ok=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def test_feed_health_shows_the_brokers_dropped_count(small_queue_broker: Mosquitto) -> None:
    broker = small_queue_broker
    # a persistent session that goes away: the broker queues for it, up to 5
    offline = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="away", protocol=mqtt.MQTTv311, clean_session=False)
    offline.connect(broker.host, broker.port)
    offline.loop_start()
    offline.subscribe("drop/#", qos=1)
    offline.publish("drop/hello", b"x", qos=1).wait_for_publish(10)
    offline.disconnect()
    offline.loop_stop()

    sink = RecordingSink()
    adapter = MqttAdapter(
        MqttFeed(url=broker.url, topics=["elsewhere/#"], client_id="ingest-stats"), make_normalizer(), sink, flush_every_s=0.2
    )
    adapter.start()
    try:
        assert adapter.wait_connected(10)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        pub.connect(broker.host, broker.port)
        pub.loop_start()
        for n in range(40):
            pub.publish("drop/x", str(n).encode(), qos=1).wait_for_publish(10)
        pub.disconnect()
        pub.loop_stop()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (sink.status.get("mqtt", {}).get("broker_dropped") or 0) < 35:
            time.sleep(0.1)
        dropped = sink.status.get("mqtt", {}).get("broker_dropped")
        assert dropped is not None and dropped >= 35, f"feed status: {sink.status.get('mqtt')}"
    finally:
        adapter.stop()

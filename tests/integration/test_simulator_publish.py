"""The city simulator's publisher through a real mosquitto: every message it counts as sent
arrives, on a known topic, as the type that topic carries. (The simulator itself, on a fake
clock and without a broker: unit/test_simulator.py.)"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from dashboard.local_services import wait_until
from feeds.geo import Districts
from feeds.publish import publish_mqtt
from feeds.sim_catalog import TYPE_OF_TOPIC
from feeds.simulator import CitySimulator
from tests.support.services import Mosquitto

GEOJSON = Path(__file__).resolve().parents[2] / "assets" / "pekanbaru_kecamatan.geojson"


@pytest.fixture(scope="module")
def districts() -> Districts:
    return Districts.load(GEOJSON)


@pytest.fixture
def mosquitto_url(mosquitto: Mosquitto) -> str:
    return mosquitto.url


@pytest.mark.integration
def test_publish_mqtt_delivers_every_message(districts: Districts, mosquitto_url: str) -> None:
    import paho.mqtt.client as mqtt

    received: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    subscribed = threading.Event()
    host, port = mosquitto_url.removeprefix("mqtt://").split(":")

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe("pkutest/#", qos=1)

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        with lock:
            received.append((msg.topic, msg.payload))

    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="simulator-test-sub")
    subscriber.on_connect = on_connect
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.on_message = on_message
    subscriber.connect(host, int(port))
    subscriber.loop_start()
    try:
        assert subscribed.wait(10)
        sim = CitySimulator(districts, rng_seed=5)
        initial = len(sim.initial_state())  # what publish_mqtt will send first, counted apart
        sim = CitySimulator(districts, rng_seed=5)
        sent = publish_mqtt(mosquitto_url, "pkutest/", rate=200, duration_s=2.0, simulator=sim)
        # the initial state, then the stream, never above its rate (how close to the rate a
        # loaded machine gets is the benchmarks' business, not asserted here)
        assert initial < sent <= 400 + initial + 40, (initial, sent)
        wait_until(lambda: len(received) >= sent, 60, f"{sent} messages at the subscriber")
        assert len(received) == sent
        for topic, body in received:
            prefix, suffix = topic.split("/")
            payload = json.loads(body)
            assert prefix == "pkutest" and TYPE_OF_TOPIC[suffix] == payload["type"]
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()

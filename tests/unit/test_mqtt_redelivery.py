"""A store that fails makes the MQTT adapter drop its connection, so that the broker sends
the unacknowledged messages again: once per failure, never the reconnect that follows."""

from __future__ import annotations

import logging
import socket
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

import feeds.mqtt as mqtt_feed
from dashboard.config_sections import MqttFeed
from feeds.mqtt import MqttAdapter
from tests.support.helpers import RecordingSink, kpi_payload, make_normalizer


def test_a_failed_store_drops_the_connection_once_and_not_the_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The housekeeper looks every second. A reconnect whose CONNACK (which clears the
    failure) is not read yet when the next look comes must not be dropped in turn: paho's
    backoff of 1, 2 and 4 s kept landing the reconnects on those looks."""
    clock = [1000.0]
    monkeypatch.setattr(mqtt_feed, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    config = MqttFeed(url="mqtt://127.0.0.1:1883", topics=["city/#"], client_id="redelivery-test")
    adapter = MqttAdapter(config, make_normalizer(), RecordingSink())
    drops: list[int] = []
    monkeypatch.setattr(adapter._client, "socket", lambda: SimpleNamespace(shutdown=drops.append))

    adapter._store_failed("city/kpi", ConnectionError("store is down"))
    adapter._maybe_redeliver()
    assert drops == [], "not before the failure's delay (1 s for the first)"
    clock[0] += 1.5
    adapter._maybe_redeliver()
    assert drops == [socket.SHUT_RDWR]
    clock[0] += 1.0
    adapter._maybe_redeliver()  # the reconnect, its CONNACK not read yet
    clock[0] += 2.0
    adapter._maybe_redeliver()
    assert drops == [socket.SHUT_RDWR], "the reconnect was dropped in turn"

    # the store fails again, on the new connection: 2 s this time
    adapter._store_failed("city/kpi", ConnectionError("store is down"))
    clock[0] += 2.5
    adapter._maybe_redeliver()
    assert drops == [socket.SHUT_RDWR, socket.SHUT_RDWR]


def test_an_outage_s_cause_is_told_once_and_each_retry_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """Each retry's traceback was the first one again: a Redis outage of an hour was a
    hundred of them around the lines that said what happened. A message stored ends the
    outage: the next one is told with its cause again."""
    config = MqttFeed(url="mqtt://127.0.0.1:1883", topics=["city/#"], client_id="outage-log-test")
    sink = RecordingSink()
    adapter = MqttAdapter(config, make_normalizer(), sink)
    message = mqtt.MQTTMessage(0, b"city/kpi")
    message.payload = kpi_payload(1)
    connected = ReasonCode(PacketTypes.CONNACK, "Success")

    def redelivered() -> None:  # the reconnect that follows a failure, and the message again
        adapter._on_connect(adapter._client, None, SimpleNamespace(session_present=True), connected, None)
        adapter._on_message(adapter._client, None, message)

    sink.fail = True
    with caplog.at_level(logging.ERROR, logger="feeds.mqtt"):
        for _ in range(3):
            redelivered()
        sink.fail = False
        redelivered()
        sink.fail = True
        redelivered()
    told = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert told == [
        ("mqtt: store failed on a message from city/kpi; retrying in 1 s", True),
        ("mqtt: store failed on a message from city/kpi (2 in a row): ConnectionError: store is down; retrying in 2 s", False),
        ("mqtt: store failed on a message from city/kpi (3 in a row): ConnectionError: store is down; retrying in 4 s", False),
        ("mqtt: store failed on a message from city/kpi; retrying in 1 s", True),
    ]
    assert "store is down" in caplog.records[0].exc_text
    assert len(sink.events) == 1

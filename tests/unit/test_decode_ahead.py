"""Messages that arrive together are all decoded before the first is stored, each decoded
once, and each still settled on its own: stored or dead-lettered, then acknowledged, in the
order they came."""

from __future__ import annotations

import json
import socket
from typing import Any

import paho.mqtt.client as mqtt

from dashboard.config_sections import MqttFeed, RedisFeed
from feeds.events import Event, Reason
from feeds.health import FeedStats
from feeds.mqtt import MqttAdapter
from feeds.mqtt_socket import ReadAheadSocket
from feeds.normalize import Normalizer
from feeds.pipeline import Pipeline
from feeds.redis_feed import RedisStreamAdapter
from tests.support.helpers import RecordingSink, make_normalizer
from tests.support.mqtt_packets import puback, publish_packet


def alert(ident: str) -> bytes:
    return json.dumps(
        {"id": ident, "type": "Alert", "category": "traffic", "dateIssued": "2026-01-02T03:04:05Z"}, separators=(",", ":")
    ).encode()


class Told:
    """What happened, in order: each decode and each store, by the message's id."""

    def __init__(self) -> None:
        self.said: list[str] = []


class TellingNormalizer:
    def __init__(self, told: Told) -> None:
        self.inner: Normalizer = make_normalizer()
        self.told = told

    def decode(self, payload: bytes | bytearray | str, origin: str = "") -> Event:
        self.told.said.append(f"decode {_ident(payload)}")
        return self.inner.decode(payload, origin)


class TellingSink(RecordingSink):
    def __init__(self, told: Told, fail_on: str | None = None) -> None:
        super().__init__()
        self.told = told
        self.fail_on = fail_on

    def accept(self, event: Event) -> bool:
        self.told.said.append(f"store {event.id}")
        self.fail = event.id == self.fail_on
        return super().accept(event)


def _ident(payload: bytes | bytearray | str) -> str:
    try:
        return str(json.loads(payload)["id"])
    except (ValueError, KeyError, TypeError):
        return "?"


def adapter_on(ours: socket.socket, told: Told, sink: RecordingSink) -> MqttAdapter:
    """The real adapter, its client reading one end of a socket pair as if connected."""
    config = MqttFeed(url="mqtt://127.0.0.1:1883", topics=["kota/#"], client_id="ahead-test")
    adapter = MqttAdapter(config, TellingNormalizer(told), sink)  # type: ignore[arg-type]
    adapter._client._sock = ReadAheadSocket(ours)
    return adapter


def test_a_turn_is_decoded_whole_before_its_first_message_is_stored(socket_pair: tuple[socket.socket, socket.socket]) -> None:
    ours, theirs = socket_pair
    told = Told()
    sink = TellingSink(told)
    adapter = adapter_on(ours, told, sink)
    theirs.sendall(
        publish_packet(b"kota/a", alert("A1"), qos=1, mid=1)
        + publish_packet(b"kota/a", b'{"id":"B2","type":"Alert"}', qos=1, mid=2)  # no category, no time
        + publish_packet(b"citywall/status/other", b"online", qos=1, mid=3)  # another member's presence
        + publish_packet(b"kota/a", alert("C3"), qos=1, mid=4)
    )
    assert adapter._client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert told.said == ["decode A1", "decode B2", "decode C3", "store A1", "store C3"]
    assert [e.id for e in sink.events] == ["A1", "C3"]
    assert [(letter.origin, letter.reason) for letter in sink.letters] == [("kota/a", Reason.MISSING_FIELD)]
    assert theirs.recv(100) == puback(1) + puback(2) + puback(3) + puback(4)
    assert adapter.stats.snapshot()["received"] == 3
    assert adapter._ahead == {}


def test_a_store_that_fails_mid_turn_leaves_the_rest_unacknowledged(socket_pair: tuple[socket.socket, socket.socket]) -> None:
    """Decoded ahead or not, nothing after the failure is stored or acknowledged: the broker
    sends it again after the reconnect."""
    ours, theirs = socket_pair
    told = Told()
    sink = TellingSink(told, fail_on="B2")
    adapter = adapter_on(ours, told, sink)
    theirs.sendall(
        publish_packet(b"kota/a", alert("A1"), qos=1, mid=1)
        + publish_packet(b"kota/a", alert("B2"), qos=1, mid=2)
        + publish_packet(b"kota/a", alert("C3"), qos=1, mid=3)
    )
    adapter._client.loop_read()
    assert told.said == ["decode A1", "decode B2", "decode C3", "store A1", "store B2"]
    assert theirs.recv(100) == puback(1)
    assert adapter.stats.snapshot()["store_errors"] == 1


def test_a_message_outside_a_turn_is_decoded_when_it_is_handled() -> None:
    """paho's own reader (a message with MQTT 5 properties) hands it on without a turn."""
    told = Told()
    sink = TellingSink(told)
    config = MqttFeed(url="mqtt://127.0.0.1:1883", topics=["kota/#"], client_id="ahead-test")
    adapter = MqttAdapter(config, TellingNormalizer(told), sink)  # type: ignore[arg-type]
    message = mqtt.MQTTMessage(5, b"kota/a")
    message.payload, message.qos = alert("D4"), 1
    adapter._on_message(adapter._client, None, message)
    assert told.said == ["decode D4", "store D4"]


def test_pipeline_decode_says_why_and_never_raises() -> None:
    told = Told()

    class Broken:
        def decode(self, payload: bytes, origin: str) -> Any:
            raise RuntimeError("a decoder bug")

    pipeline = Pipeline(Broken(), TellingSink(told), FeedStats("t"))  # type: ignore[arg-type]
    refused = pipeline.decode(b"{}", "kota/x")
    assert (refused.reason, refused.detail) == (Reason.INVALID_VALUE, "decoder error: RuntimeError: a decoder bug")  # type: ignore[union-attr]
    assert pipeline.handle(b"{}", "kota/x", refused) is False
    assert [(letter.reason, letter.detail) for letter in pipeline.sink.letters] == [  # type: ignore[attr-defined]
        (Reason.INVALID_VALUE, "decoder error: RuntimeError: a decoder bug")
    ]


class StreamClient:
    """Only what ``_settle`` calls of a Redis client: the acknowledgements."""

    def __init__(self) -> None:
        self.acked: list[tuple[str, ...]] = []

    def xack(self, stream: str, group: str, *ids: bytes) -> int:
        self.acked.append(tuple(i.decode() for i in ids))
        return len(ids)


def test_a_stream_read_is_decoded_whole_before_its_first_entry_is_stored() -> None:
    told = Told()
    sink = TellingSink(told)
    adapter = RedisStreamAdapter(
        RedisFeed(url="redis://127.0.0.1:6379/0", streams=["kota:events"], consumer="c1"),
        TellingNormalizer(told),
        sink,  # type: ignore[arg-type]
    )
    client = StreamClient()
    entries = [
        (b"1-0", {b"data": alert("A1")}),
        (b"2-0", {b"other": b"x"}),  # no payload field
        (b"3-0", None),  # deleted while pending
        (b"4-0", {b"data": b"not json"}),
        (b"5-0", {b"data": alert("E5")}),
    ]
    adapter._settle(client, "kota:events", entries)  # type: ignore[arg-type]
    assert told.said == ["decode A1", "decode ?", "decode E5", "store A1", "store E5"]
    assert [letter.reason for letter in sink.letters] == [Reason.MISSING_FIELD, Reason.MALFORMED_JSON]
    assert client.acked == [("1-0", "2-0", "3-0", "4-0", "5-0")]

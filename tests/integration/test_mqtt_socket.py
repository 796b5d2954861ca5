"""paho on the read-ahead socket against a real Mosquitto: a burst arrives whole and in
order in far fewer reads and sends than paho's own, and every message is acknowledged, on
MQTT 3.1.1 and on MQTT 5 (where the plain PUBLISH packets are cut from the buffer, not read
by paho)."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from feeds.mqtt_socket import ReadAheadClient, ReadAheadSocket
from tests.support.helpers import CountingSocket
from tests.support.services import Mosquitto

TIMEOUT = 10.0
BURST = 2000
END = b"end"


class Subscriber:
    """A read-ahead client with a persistent session that records payloads in order."""

    def __init__(self, broker: Mosquitto, client_id: str, protocol: mqtt.MQTTProtocolVersion) -> None:
        self.payloads: list[bytes] = []
        self.with_properties = 0  # under MQTT 5, the messages paho's own reader decoded
        self.arrived = threading.Condition()
        self.subscribed = threading.Semaphore(0)
        v5 = protocol == mqtt.MQTTv5
        self.client = ReadAheadClient(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, clean_session=None if v5 else False
        )
        self.client.on_connect = lambda c, *a: c.subscribe("burst/#", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.release()
        self.client.on_message = self._on_message
        if v5:  # a session that outlives the connection, as the adapter's
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 300
            self.client.connect(broker.host, broker.port, clean_start=False, properties=properties)
        else:
            self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.subscribed.acquire(timeout=TIMEOUT)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.payloads.append(msg.payload)
            self.with_properties += msg.properties is not None
            self.arrived.notify_all()

    def wait_for(self, count: int) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.payloads) >= count, TIMEOUT)

    def round_trip(self) -> bool:
        """The broker answers packets in the order they came, so once it has answered a
        subscribe sent now it has also taken in every ack the client queued before it."""
        self.client.subscribe("sync/#", qos=1)
        return self.subscribed.acquire(timeout=TIMEOUT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(broker: Mosquitto, payloads: list[bytes]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for info in [client.publish("burst/x", p, qos=1) for p in payloads]:
            info.wait_for_publish(TIMEOUT)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_a_burst_arrives_whole_in_order_and_acknowledged(mosquitto: Mosquitto, protocol: mqtt.MQTTProtocolVersion) -> None:
    subscriber = Subscriber(mosquitto, "read-ahead", protocol)
    sock = subscriber.client.socket()
    assert isinstance(sock, ReadAheadSocket)
    counting = sock._sock = CountingSocket(sock._sock)
    sent = [b"m-%05d" % n + b"x" * (n % 300) for n in range(BURST)]
    try:
        # paho queues a message's ack after its callback returns: the end marker's callback
        # runs only once every ack of the burst is queued
        publish(mosquitto, [*sent, END])
        assert subscriber.wait_for(BURST + 1)
        assert subscriber.payloads == [*sent, END]
        # Mosquitto's packets carry no properties here: under MQTT 5 they were cut from the buffer,
        # but for one cut across two reads, which paho's reader finishes (once per 64 KiB at most)
        assert subscriber.with_properties <= counting.recvs
        # paho alone reads a packet in three recv calls at least (command, length, body)
        assert counting.recvs < 2 * BURST
        # and sends each ack by itself (BURST sends); here a turn's acks leave together. How
        # many a turn holds is the broker's and the scheduler's doing: Mosquitto has at most 20
        # unacknowledged messages in flight to a client, and a busy machine splits them further
        # (9 a send on average in one clean-clone run, 10 and more in others)
        assert counting.sends < BURST // 4
        # the broker may take in a disconnect after a new connection of the same client, and
        # hand the session over without the acks still unread on the old one
        assert subscriber.round_trip()
    finally:
        subscriber.close()
    # the same session again: a message of the burst left unacknowledged would be sent again now
    again = Subscriber(mosquitto, "read-ahead", protocol)
    try:
        publish(mosquitto, [b"after"])
        with again.arrived:  # a message resent from the session comes before it
            assert again.arrived.wait_for(lambda: b"after" in again.payloads, TIMEOUT)
        # only the end marker's ack may still have been on its way at the disconnect
        assert [p for p in again.payloads if p != END] == [b"after"]
    finally:
        again.close()


def test_a_callback_that_publishes_from_the_caller_s_thread_goes_through(mosquitto: Mosquitto) -> None:
    """Without a loop thread paho writes from inside ``publish`` and calls ``on_publish``
    there; a callback that publishes again re-enters the client on the same thread."""
    client = ReadAheadClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    published: list[int] = []

    def on_publish(c: mqtt.Client, userdata: Any, mid: int, *rest: Any) -> None:
        published.append(mid)
        if len(published) == 1:
            c.publish("burst/again", b"2", qos=0)

    client.on_publish = on_publish
    client.connect(mosquitto.host, mosquitto.port)
    for _ in range(100):
        if client.is_connected():
            break
        client.loop(0.1)
    assert client.is_connected()
    done = threading.Event()

    def first() -> None:
        client.publish("burst/first", b"1", qos=0)
        done.set()

    worker = threading.Thread(target=first, daemon=True)
    worker.start()
    try:
        assert done.wait(TIMEOUT), "the nested publish deadlocked the client"
        client.loop(0.1)  # writes the nested message and calls its on_publish
        assert len(published) == 2
    finally:
        if done.is_set():
            client.disconnect()
        else:  # the client is stuck on its own lock: only its socket can still be let go
            client.socket().close()

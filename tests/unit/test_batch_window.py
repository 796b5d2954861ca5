"""A busy feed's messages are held a few ms and handed on together, an idle feed's at once
(``feeds.batch_window``); the client that reads keeps their order, acks each only once it
was handed on, and hands them on when the window ends without another message."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest

from feeds.batch_window import BatchWindow
from feeds.mqtt_socket import ReadAheadClient, ReadAheadSocket
from tests.unit.test_mqtt_socket import USER_PROPERTY, mqtt_string, puback, publish_packet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def window(clock: Clock) -> BatchWindow[str]:
    return BatchWindow(0.01, busy_s=0.02, most=4, clock=clock)


def test_the_first_message_after_a_quiet_spell_goes_at_once(clock: Clock) -> None:
    w = window(clock)
    assert w.add("a") is True
    assert w.take() == ["a"]
    clock.now += 0.5  # quiet again
    assert w.add("b") is True


def test_a_busy_feed_s_messages_wait_for_the_window_then_go_in_order(clock: Clock) -> None:
    w = window(clock)
    assert w.add("a") is True
    w.take()
    clock.now += 0.002
    assert w.add("b") is False
    assert w.wait() == pytest.approx(0.01)
    clock.now += 0.004
    assert w.add("c") is False
    assert w.wait() == pytest.approx(0.006)
    clock.now += 0.007
    assert w.wait() == 0.0  # overdue: the reader hands them on without another message
    assert w.add("d") is True
    assert w.take() == ["b", "c", "d"]
    assert w.wait() is None


def test_a_full_window_goes_at_once(clock: Clock) -> None:
    w = window(clock)
    w.add("first")
    w.take()
    held = []
    for name in "abcd":
        clock.now += 0.001
        held.append(w.add(name))
    assert held == [False, False, False, True]
    assert w.take() == ["a", "b", "c", "d"]


# -- the client that holds ---------------------------------------------------------------------


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


class Holding:
    """A client reading one end of a socket pair through a window on a clock of the test's,
    acknowledging each message from its callback as citywall's adapter does."""

    def __init__(self, ours: socket.socket, clock: Clock) -> None:
        self.window: BatchWindow[mqtt.MQTTMessage] = BatchWindow(0.01, busy_s=0.02, most=16, clock=clock)
        self.client = ReadAheadClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, batch=self.window)
        self.client._sock = ReadAheadSocket(ours)
        self.client.manual_ack_set(True)
        self.payloads: list[bytes] = []

        def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            self.payloads.append(message.payload)
            client.ack(message.mid, message.qos)

        self.client.on_message = on_message

    def read(self) -> None:
        assert self.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS


def pending_bytes(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    try:
        return sock.recv(1000)
    except BlockingIOError:
        return b""


def test_held_messages_are_neither_handed_on_nor_acked_until_the_window_ends(
    pair: tuple[socket.socket, socket.socket], clock: Clock
) -> None:
    ours, theirs = pair
    holding = Holding(ours, clock)
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=1))
    holding.read()
    assert holding.payloads == [b"1"]  # after a quiet spell: at once
    assert theirs.recv(100) == puback(1)
    clock.now += 0.002
    theirs.sendall(publish_packet(b"kota/b", b"2", qos=1, mid=2))
    holding.read()
    clock.now += 0.002
    theirs.sendall(publish_packet(b"kota/c", b"3", qos=0) + publish_packet(b"kota/d", b"4", qos=1, mid=3))
    holding.read()
    assert holding.payloads == [b"1"]
    assert pending_bytes(theirs) == b""  # nothing acknowledged that is not stored
    clock.now += 0.01
    # the loop's select ends when the window does; nothing more came
    assert holding.client._loop(1.0) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert holding.payloads == [b"1", b"2", b"3", b"4"]
    assert theirs.recv(100) == puback(2) + puback(3)


def test_a_publish_that_paho_reads_does_not_overtake_the_held_ones(
    pair: tuple[socket.socket, socket.socket], clock: Clock
) -> None:
    ours, theirs = pair
    holding = Holding(ours, clock)
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=1))
    holding.read()
    clock.now += 0.002
    user_property = bytes([USER_PROPERTY]) + mqtt_string(b"k") + mqtt_string(b"v")
    theirs.sendall(
        publish_packet(b"kota/b", b"2", qos=1, mid=2)
        + publish_packet(b"kota/c", b"3", qos=1, mid=3, properties=user_property)  # paho's reader hands it on at once
    )
    holding.read()
    assert holding.payloads == [b"1", b"2", b"3"]
    assert theirs.recv(100) == puback(1) + puback(2) + puback(3)


def test_on_a_new_connection_held_qos1_messages_are_left_to_the_broker_and_qos0_ones_handed_on(
    pair: tuple[socket.socket, socket.socket], clock: Clock
) -> None:
    ours, theirs = pair
    holding = Holding(ours, clock)
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=1))
    holding.read()
    clock.now += 0.002
    theirs.sendall(publish_packet(b"kota/b", b"2", qos=1, mid=2) + publish_packet(b"kota/c", b"3", qos=0))
    holding.read()
    assert holding.payloads == [b"1"]
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        holding.client._host, holding.client._port = listener.getsockname()
        holding.client._create_socket().close()  # what paho's reconnect does first
    finally:
        listener.close()
    assert holding.payloads == [b"1", b"3"]  # QoS 1's "2" comes again in the broker's session
    assert holding.window.held == []

"""A busy feed's PUBACKs are held a few ms and go together, an idle feed's at once
(``feeds.ack_window``); the client that reads hands every message on as it is read, sends
the held acks in order when the window ends without another message, and never sends an ack
for a message before the callback acknowledged it."""

from __future__ import annotations

import select
import socket

import paho.mqtt.client as mqtt
import pytest

from feeds.ack_window import AckWindow
from feeds.mqtt_socket import ReadAheadClient, ReadAheadSocket
from tests.support.mqtt_packets import USER_PROPERTY, mqtt_string, puback, publish_packet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def window(clock: Clock, most: int = 4) -> AckWindow:
    return AckWindow(0.01, busy_s=0.02, most=most, clock=clock)


def test_the_first_message_after_a_quiet_spell_is_acknowledged_at_once(clock: Clock) -> None:
    w = window(clock)
    assert w.due() is None
    w.read()
    assert w.due() == 0.0
    w.sent()
    assert w.due() is None
    clock.now += 0.5  # quiet again
    w.read()
    assert w.due() == 0.0


def test_a_busy_feed_s_acks_wait_for_the_window(clock: Clock) -> None:
    w = window(clock)
    w.read()
    w.sent()
    clock.now += 0.002
    w.read()
    assert w.due() == pytest.approx(0.01)
    clock.now += 0.004
    w.read()
    assert w.due() == pytest.approx(0.006)  # from the first one held
    clock.now += 0.007
    assert w.due() == 0.0
    w.sent()
    assert w.due() is None


def test_a_full_window_goes_at_once(clock: Clock) -> None:
    w = window(clock)
    w.read()
    w.sent()
    dues = []
    for _ in range(4):
        clock.now += 0.001
        w.read()
        dues.append(w.due())
    assert dues == [pytest.approx(0.01), pytest.approx(0.009), pytest.approx(0.008), 0.0]


# -- the client that holds ---------------------------------------------------------------------


class Holding:
    """A client reading one end of a socket pair with an ack window on the test's clock,
    acknowledging each message from its callback as citywall's adapter does."""

    def __init__(self, ours: socket.socket, clock: Clock, most: int = 16) -> None:
        self.window = window(clock, most)
        self.client = ReadAheadClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, ack_window=self.window)
        self.client._sock = ReadAheadSocket(ours)
        self.client.manual_ack_set(True)
        self.payloads: list[bytes] = []

        def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            self.payloads.append(message.payload)
            client.ack(message.mid, message.qos)

        self.client.on_message = on_message

    def read(self) -> None:
        assert self.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS


def sent_back(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    try:
        return sock.recv(1000)
    except BlockingIOError:
        return b""


def test_held_acks_go_together_when_the_window_ends_and_every_message_was_handed_on_at_once(
    socket_pair: tuple[socket.socket, socket.socket], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = socket_pair
    holding = Holding(ours, clock)
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=1))
    holding.read()
    assert holding.payloads == [b"1"]
    assert sent_back(theirs) == puback(1)  # after a quiet spell: at once
    clock.now += 0.002
    theirs.sendall(publish_packet(b"kota/b", b"2", qos=1, mid=2))
    holding.read()
    clock.now += 0.002
    theirs.sendall(publish_packet(b"kota/c", b"3", qos=0) + publish_packet(b"kota/d", b"4", qos=1, mid=3))
    holding.read()
    assert holding.payloads == [b"1", b"2", b"3", b"4"]
    assert sent_back(theirs) == b""
    assert not holding.client.want_write()  # or select would wake at once, for nothing
    clock.now += 0.003
    waits: list[float] = []
    real_select = select.select

    def timed_select(r: list[object], w: list[object], x: list[object], timeout: float) -> object:
        waits.append(timeout)
        return real_select(r, w, x, 0)

    monkeypatch.setattr(select, "select", timed_select)
    # nothing more comes: the loop's select ends when the window does, and the next turn sends
    assert holding.client._loop(1.0) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert waits == [pytest.approx(0.005)]  # the first held came at +0.002, the window is 0.01
    assert sent_back(theirs) == b""
    clock.now += 0.006
    assert holding.client._loop(1.0) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert sent_back(theirs) == puback(2) + puback(3)


def test_a_message_past_the_window_s_size_sends_the_held_acks(
    socket_pair: tuple[socket.socket, socket.socket], clock: Clock
) -> None:
    ours, theirs = socket_pair
    holding = Holding(ours, clock, most=3)
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=1))
    holding.read()
    assert sent_back(theirs) == puback(1)
    for mid in (2, 3, 4):
        clock.now += 0.001
        theirs.sendall(publish_packet(b"kota/x", b"n", qos=1, mid=mid))
        holding.read()
    assert sent_back(theirs) == puback(2) + puback(3) + puback(4)


def test_an_ack_is_never_sent_for_a_message_the_callback_has_not_acknowledged(
    socket_pair: tuple[socket.socket, socket.socket], clock: Clock
) -> None:
    """The store is down: the adapter does not ack, and the window ending sends nothing."""
    ours, theirs = socket_pair
    holding = Holding(ours, clock)
    holding.client.on_message = lambda client, userdata, message: holding.payloads.append(message.payload)
    user_property = bytes([USER_PROPERTY]) + mqtt_string(b"k") + mqtt_string(b"v")
    theirs.sendall(
        publish_packet(b"kota/a", b"1", qos=1, mid=1) + publish_packet(b"kota/b", b"2", qos=1, mid=2, properties=user_property)
    )
    holding.read()
    clock.now += 1.0
    assert holding.client._loop(0.0) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert holding.payloads == [b"1", b"2"]
    assert sent_back(theirs) == b""

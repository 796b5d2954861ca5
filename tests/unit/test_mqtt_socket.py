"""The read-ahead socket under paho: bytes come out as they went in, one ``recv`` a chunk, and
whole PUBLISH packets reach the callback as paho's own reader would hand them on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import paho.mqtt.client as mqtt
import pytest

from feeds.ack_window import AckWindow
from feeds.gather import Gather, urgent_marks
from feeds.mappers import CRITICAL_WORDS
from feeds.mqtt_socket import GATHER_MAX_BYTES, READ_CHUNK, ReadAheadClient, ReadAheadSocket
from tests.support.helpers import CountingSocket
from tests.support.mqtt_packets import USER_PROPERTY, mqtt_string, puback, publish_packet


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, CountingSocket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        yield theirs, CountingSocket(ours)
    finally:
        ours.close()
        theirs.close()


def test_small_reads_are_served_from_one_chunk(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    theirs.sendall(b"\x30\x05hello\x30\x03abc")
    sock = ReadAheadSocket(counting)
    read = [sock.recv(1), sock.recv(1), sock.recv(5)]
    assert read == [b"\x30", b"\x05", b"hello"]
    assert sock.pending() == 5
    assert [sock.recv(1), sock.recv(1), sock.recv(3)] == [b"\x30", b"\x03", b"abc"]
    assert sock.pending() == 0
    assert counting.recvs == 1


def test_a_read_past_the_chunk_returns_what_there_is(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    theirs.sendall(b"abcdef")
    sock = ReadAheadSocket(counting)
    assert sock.recv(2) == b"ab"
    assert sock.recv(100) == b"cdef"  # a short read, as a socket's: paho asks again for the rest
    theirs.sendall(b"gh")
    assert sock.recv(100) == b"gh"
    assert counting.recvs == 2


def test_nothing_waiting_and_a_closed_peer_look_as_they_do_on_a_socket(
    pair: tuple[socket.socket, CountingSocket],
) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    theirs.sendall(b"z")
    theirs.close()
    assert sock.recv(1) == b"z"
    assert sock.recv(1) == b""  # paho reads this as the connection lost


def test_everything_else_is_the_socket_s(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    assert sock.fileno() == counting.sock.fileno()  # what select() waits on
    sock.send(b"ping")
    assert theirs.recv(10) == b"ping"


# -- whole PUBLISH packets taken from the buffer ------------------------------------------------


class Received:
    """A client (MQTT 5 unless told) on one end of a socket pair that keeps what paho hands its callback."""

    def __init__(self, ours: socket.socket, protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv5) -> None:
        self.client = ReadAheadClient(mqtt.CallbackAPIVersion.VERSION2, protocol=protocol)
        self.client._sock = ReadAheadSocket(ours)  # connected as far as reading is concerned
        self.messages: list[mqtt.MQTTMessage] = []
        self.client.on_message = lambda client, userdata, message: self.messages.append(message)

    def seen(self) -> list[tuple[str, bytes, int, int, bool, list[tuple[str, str]] | None]]:
        """Each message's fields; its user properties, or None when it came without properties."""
        return [
            (m.topic, m.payload, m.qos, m.mid, m.retain, None if m.properties is None else m.properties.UserProperty)
            for m in self.messages
        ]


def test_publishes_come_in_order_with_their_flags_properties_and_acks(
    pair: tuple[socket.socket, CountingSocket],
) -> None:
    theirs, counting = pair
    received = Received(counting.sock)
    user_property = bytes([USER_PROPERTY]) + mqtt_string(b"k") + mqtt_string(b"v")
    theirs.sendall(
        publish_packet(b"kota/a", b"one", qos=1, mid=7)
        + publish_packet(b"kota/b", b"two", retain=True)
        + publish_packet(b"kota/c", b"three", qos=1, mid=8, properties=user_property)
        + publish_packet(b"kota/d", b"four", qos=2, mid=9)
        + publish_packet(b"kota/e", b"five")
    )
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert received.seen() == [
        ("kota/a", b"one", 1, 7, False, None),
        ("kota/b", b"two", 0, 0, True, None),
        ("kota/c", b"three", 1, 8, False, [("k", "v")]),
        # a QoS 2 message is handed on when the broker releases it, after the PUBREC
        ("kota/e", b"five", 0, 0, False, None),
    ]
    # PUBACK 7, PUBACK 8, PUBREC 9: every ack written in the same turn
    assert theirs.recv(100) == bytes.fromhex("400200074002000850020009")


def test_a_publish_cut_across_reads_is_handed_on_whole_once(pair: tuple[socket.socket, CountingSocket]) -> None:
    """The rest of a cut packet is never read as a packet of its own, even when its bytes
    look like one (this payload is a whole PUBLISH of topic ``x``)."""
    theirs, counting = pair
    received = Received(counting.sock)
    looks_like_a_packet = bytes([0x30, 5]) + mqtt_string(b"x") + b"\x00z"
    first, second = publish_packet(b"kota/a", b"one"), publish_packet(b"kota/b", looks_like_a_packet)
    cut = len(second) - len(looks_like_a_packet)
    theirs.sendall(first + second[:cut])
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert received.seen() == [("kota/a", b"one", 0, 0, False, None)]
    theirs.sendall(second[cut:] + first)
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert [(m.topic, m.payload) for m in received.messages] == [
        ("kota/a", b"one"),
        ("kota/b", looks_like_a_packet),
        ("kota/a", b"one"),
    ]


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311])
def test_a_publish_whose_topic_runs_past_its_end_is_a_protocol_error(
    pair: tuple[socket.socket, CountingSocket], protocol: mqtt.MQTTProtocolVersion
) -> None:
    theirs, counting = pair
    received = Received(counting.sock, protocol)
    theirs.sendall(bytes([0x30, 4]) + b"\x00\x09ab")  # a topic of 9 bytes in a body of 4
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
    assert received.messages == []


# -- the acks of a turn, written together --------------------------------------------------------


def acking(ours: CountingSocket) -> Received:
    """A client that acknowledges each message from its callback, as citywall's adapter does."""
    received = Received(ours.sock)
    received.client._sock = ReadAheadSocket(ours)
    received.client.manual_ack_set(True)

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        received.messages.append(message)
        client.ack(message.mid, message.qos)

    received.client.on_message = on_message
    return received


def test_the_acks_of_a_turn_leave_in_order_in_one_send(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    received = acking(counting)
    user_property = bytes([USER_PROPERTY]) + mqtt_string(b"k") + mqtt_string(b"v")
    theirs.sendall(
        publish_packet(b"kota/a", b"1", qos=1, mid=11)
        + publish_packet(b"kota/b", b"2", qos=1, mid=12, properties=user_property)  # read by paho
        + publish_packet(b"kota/c", b"3", qos=1, mid=13)
        + publish_packet(b"kota/d", b"4", qos=0)
        + publish_packet(b"kota/e", b"5", qos=1, mid=14)
    )
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert [m.payload for m in received.messages] == [b"1", b"2", b"3", b"4", b"5"]
    assert theirs.recv(100) == puback(11) + puback(12) + puback(13) + puback(14)
    assert counting.sends == 1
    assert not received.client.want_write()


def test_a_turn_s_publishes_are_shown_together_before_the_first_is_handed_on(
    pair: tuple[socket.socket, CountingSocket],
) -> None:
    """``on_turn`` sees the plain PUBLISHes at the head of the buffer, and only those: a
    packet paho reads itself (one with properties) ends the run, and what follows it is a
    turn of its own."""
    theirs, counting = pair
    received = acking(counting)
    calls: list[str] = []
    received.client.on_turn = lambda messages: calls.append("turn " + " ".join(m.payload.decode() for m in messages))
    seen = received.client.on_message
    assert seen is not None

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        calls.append(message.payload.decode())
        seen(client, userdata, message)

    received.client.on_message = on_message
    user_property = bytes([USER_PROPERTY]) + mqtt_string(b"k") + mqtt_string(b"v")
    theirs.sendall(
        publish_packet(b"kota/a", b"1", qos=1, mid=31)
        + publish_packet(b"kota/b", b"2", qos=0)
        + publish_packet(b"kota/c", b"3", qos=1, mid=32, properties=user_property)  # read by paho
        + publish_packet(b"kota/d", b"4", qos=1, mid=33)
    )
    assert received.client.loop_read() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert calls == ["turn 1 2", "1", "2", "3", "turn 4", "4"]
    assert theirs.recv(100) == puback(31) + puback(32) + puback(33)


def test_an_ack_outside_a_turn_goes_paho_s_way(pair: tuple[socket.socket, CountingSocket]) -> None:
    """As from a thread of the application's: with no loop thread running, paho writes it at
    once (the turn's buffer would hold it until a turn that may never come)."""
    theirs, counting = pair
    client = acking(counting).client
    client.ack(21, 1)
    assert theirs.recv(100) == puback(21)
    assert not client.want_write()


def test_a_full_socket_gets_every_packet_whole_and_the_acks_in_order(pair: tuple[socket.socket, CountingSocket]) -> None:
    """The socket takes a few bytes at a time: a packet paho had half written is finished
    (with the rest of its queue) before the turn's acks start, and no packet is cut into."""
    theirs, counting = pair
    client = acking(counting).client
    ping = bytes([0xC0, 0])
    counting.room = 1
    client._send_pingreq()  # paho's own packet, queued before the turn
    assert client.loop_write() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS  # one byte of it leaves
    theirs.sendall(publish_packet(b"kota/a", b"1", qos=1, mid=31) + publish_packet(b"kota/b", b"2", qos=1, mid=32))
    client.loop_read()  # the acks wait: the socket is full
    client._send_pingreq()  # queued while the acks wait
    for _ in range(20):
        if not client.want_write():
            break
        counting.room = 3
        assert client.loop_write() == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert not client.want_write()
    assert theirs.recv(100) == ping + ping + puback(31) + puback(32)


# -- a busy feed's messages gathered (feeds.gather) ---------------------------------------------

AN_HOUR = 3600.0
MARKS = urgent_marks(CRITICAL_WORDS)


def patient(**changes: int | float) -> Gather:
    """A window of an hour that no pause ends: a wait below ends for the reason its test names."""
    return replace(Gather(AN_HOUR, MARKS, quiet_s=AN_HOUR), **changes)


def returns(work: Callable[[], object]) -> bool:
    """Whether ``work`` came back within half a minute: each wait below may last an hour, so
    one that ends did so for its reason, not its deadline."""
    done = threading.Event()
    threading.Thread(target=lambda: (work(), done.set()), daemon=True).start()
    return done.wait(30)


def gathers(sock: ReadAheadSocket, gather: Gather, wake: object = None) -> bool:
    return returns(lambda: sock.gather(time.monotonic() + gather.hold_s, gather, wake))


def alert(n: int, severity: bytes) -> bytes:
    return publish_packet(b"kota/incidents", b'{"id":"A%d","severity":"%s"}' % (n, severity), qos=1, mid=n)


def test_the_words_that_end_a_wait_are_the_critical_severity_s_in_the_usual_cases() -> None:
    gather = Gather(0.02, MARKS)
    for text in (b'"critical"', b'"Critical"', b'"CRITICAL"', b'"kritis"', b'"Kritis"', b'"KRITIS"'):
        assert gather.urgent(b'{"severity":' + text + b"}"), text
    for text in (b'"high"', b'"medium"', b'"informational"', b'"tinggi"'):
        assert not gather.urgent(b'{"severity":' + text + b"}"), text


@pytest.mark.parametrize(("word", "cut"), [(w, c) for w in (b"critical", b"KRITIS") for c in range(1, len(w))])
def test_a_critical_message_ends_the_wait_wherever_a_read_cuts_its_word(
    pair: tuple[socket.socket, CountingSocket], word: bytes, cut: int
) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    first, critical = alert(1, b"high"), alert(2, word)
    at = critical.index(word) + cut
    theirs.sendall(first + critical[:at])
    assert sock.fill()  # what came first is in the buffer, the word's start at its end
    theirs.sendall(critical[at:])
    assert gathers(sock, patient())
    assert sock.recv(1000) == first + critical


def test_a_critical_message_left_in_the_buffer_ends_the_wait_at_once(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    theirs.sendall(alert(1, b"critical"))
    assert sock.fill()
    assert gathers(sock, patient())
    assert sock.packets(10) == 1


def test_a_wait_ends_once_the_broker_s_window_is_nearly_full(pair: tuple[socket.socket, CountingSocket]) -> None:
    """The broker sends 20 unacknowledged messages at most: waiting for more would stall it."""
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    theirs.sendall(b"".join(alert(n, b"low") for n in range(1, 5)))
    assert gathers(sock, patient(most=4))
    assert sock.packets(10) == 4


def test_a_pause_ends_the_wait(pair: tuple[socket.socket, CountingSocket]) -> None:
    """A broker that allows fewer unacknowledged messages than ``most`` sends nothing more
    until it has our acks: the wait ends after a pause, not after the window."""
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    theirs.sendall(alert(1, b"low") + alert(2, b"low"))
    assert gathers(sock, patient(quiet_s=0.05))
    assert sock.recv(1000) == alert(1, b"low") + alert(2, b"low")


def test_another_thread_s_publish_ends_the_wait(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    wake_r, wake_w = socket.socketpair()
    with wake_r, wake_w:
        wake_w.send(b"x")  # what paho writes to its pipe for a publish from another thread
        assert gathers(sock, patient(), wake_r)
        assert wake_r.recv(1) == b"x"  # left for paho's own select


def test_a_wait_keeps_what_came_when_its_time_is_up_or_the_peer_closes(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    theirs.sendall(alert(1, b"low"))
    assert gathers(sock, patient(hold_s=0.05))
    theirs.sendall(alert(2, b"low"))
    theirs.close()
    assert gathers(sock, patient())
    assert sock.recv(1000) == alert(1, b"low") + alert(2, b"low")
    assert sock.recv(1000) == b""  # paho reads this as the connection lost


def test_a_wait_ends_once_a_big_message_fills_the_buffer(pair: tuple[socket.socket, CountingSocket]) -> None:
    """Nothing is gained by waiting with a quarter of a megabyte in, and every read copies it."""
    theirs, counting = pair
    sock = ReadAheadSocket(counting)
    size = GATHER_MAX_BYTES + READ_CHUNK
    header = bytes([0x30]) + bytes([0x80 | (size & 0x7F), 0x80 | (size >> 7 & 0x7F), size >> 14])  # one PUBLISH, not all here
    writer = threading.Thread(target=lambda: theirs.sendall(header + b"x" * size), daemon=True)
    writer.start()
    assert gathers(sock, patient())
    assert sock.packets(10) == 0
    assert sock.pending() >= GATHER_MAX_BYTES


class Telling(CountingSocket):
    """Says when it was read from: the test then knows what a read has taken."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.read = threading.Event()

    def recv(self, size: int) -> bytes:
        data = super().recv(size)
        self.read.set()
        return data


def test_a_turn_that_read_a_message_gathers_before_the_next(pair: tuple[socket.socket, CountingSocket]) -> None:
    theirs, counting = pair
    telling = Telling(counting.sock)
    received = acking(telling)
    client = received.client
    client._gather = patient()
    theirs.sendall(alert(1, b"high"))
    assert returns(lambda: client._loop(AN_HOUR))  # the first after a quiet spell: at once
    assert [m.mid for m in received.messages] == [1]
    assert theirs.recv(100) == puback(1)
    telling.read.clear()
    theirs.sendall(alert(2, b"low") + alert(3, b"medium"))
    gathered = threading.Event()
    threading.Thread(target=lambda: (client._loop(AN_HOUR), gathered.set()), daemon=True).start()
    assert telling.read.wait(30)  # the two are read; the turn waits for more
    theirs.sendall(alert(4, b"critical"))  # ends the wait
    assert gathered.wait(30)
    assert [m.mid for m in received.messages] == [1, 2, 3, 4]
    assert theirs.recv(100) == puback(2) + puback(3) + puback(4)
    assert telling.sends == 2  # the acks of each turn in one send


def test_no_wait_while_paho_reads_a_packet_part_way(pair: tuple[socket.socket, CountingSocket]) -> None:
    """A read that ended inside a critical Alert, after its word: paho holds the first part,
    and the rest goes as soon as it comes."""
    theirs, counting = pair
    received = acking(counting)
    client = received.client
    client._gather = patient()
    critical = publish_packet(b"kota/incidents", b'{"severity":"critical","id":"A2","description":"banjir"}', qos=1, mid=2)
    at = critical.index(b"critical") + len(b"critical") + 2
    theirs.sendall(alert(1, b"low") + critical[:at])
    assert returns(lambda: client._loop(AN_HOUR))
    assert [m.mid for m in received.messages] == [1]
    theirs.sendall(critical[at:])
    assert returns(lambda: client._loop(AN_HOUR))
    assert [m.mid for m in received.messages] == [1, 2]


def test_no_wait_where_the_acks_are_held(pair: tuple[socket.socket, CountingSocket]) -> None:
    """``feeds.mqtt.hold_ms`` gathers at the broker; both at once would wait twice."""
    theirs, counting = pair
    received = acking(counting)
    client = received.client
    client._gather = patient()
    client._ack_window = AckWindow(0.0)
    theirs.sendall(alert(1, b"low"))
    assert returns(lambda: client._loop(AN_HOUR))
    theirs.sendall(alert(2, b"low"))
    assert returns(lambda: client._loop(AN_HOUR))
    assert [m.mid for m in received.messages] == [1, 2]

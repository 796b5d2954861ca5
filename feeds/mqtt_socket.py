"""Fewer system calls per MQTT message under paho.

paho 2.x reads a packet the way the protocol spells it: a ``recv`` for the command byte, one
per byte of the length, one for the body. Each ack it queues from its own thread also writes
a byte to its wake-up pipe, which costs a ``select`` and a ``recv`` more. At 500 Alerts/s
that was nine system calls a message, each a release and a re-take of the GIL that the web
server's thread also wants. With the socket read 64 KiB at a time, a turn of the loop
draining what was read and sending its acks, and no wake-up for what paho's own thread
queues, it is three: ``select``, ``recv``, ``send`` (``strace -c`` on ``citywall demo``).

A whole PUBLISH of QoS 0 or 1 that carries no MQTT 5 properties (as a feed's messages
usually are) is then cut from the buffer here and handed to paho's callback dispatch, not
read by paho's reader. paho reads a packet through a dozen calls and builds an empty
``Properties`` object for each one under MQTT 5; at 500 Alerts/s that was about a sixth of
the ingest thread's CPU. Any other packet (an ack, a ping, QoS 2, a PUBLISH with properties,
one that is malformed) goes to paho's reader as before. A turn's run of plain PUBLISHes is
first shown whole to ``on_turn``, where the feed decodes them all before it stores the first
(``feeds.pipeline``).

The PUBACKs of a turn are four bytes each, added to one buffer in the order the messages
came and written with one send when the turn ends. paho queues each ack as a packet of its
own, under two locks, and writes each with a send of its own: at 500 Alerts/s that was about
an eighth of the ingest thread's CPU. Neither writer starts while the other is part-way
through a packet, so the stream stays whole when the socket takes only part of a write. An
ack from another thread goes to paho's queue as before.

Once a turn has read a message, the next one first gathers what comes for a few ms
(``feeds.gather``): a busy feed's messages are handed on together, one naming a critical
severity at once.

With ``feeds.mqtt.hold_ms`` set, a busy feed's PUBACKs are held a few ms and go together
(``feeds.ack_window``): each message is still handed on and stored as it is read; the turn
that reads one more, or the loop's ``select`` ending when the window does, sends them.

paho's private parts are touched here and nowhere else. If a paho release renames
``_create_socket``, ``_packet_queue`` or ``_send_puback``, these overrides are simply not
called and paho reads and acknowledges as it always did, and
``tests/integration/test_mqtt_socket.py`` fails so that someone notices; if it renames
``_in_packet``, ``_handle_on_message``, ``_msgtime_mutex``, ``_out_packet`` or
``_sock_send``, which the PUBLISH and ack paths use, every test that receives a message
fails; if it renames ``_loop``, held acks wait for the next message and a busy feed is not
gathered, and ``tests/unit/test_ack_window.py`` and ``tests/unit/test_mqtt_socket.py`` fail."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from feeds.ack_window import AckWindow
from feeds.gather import Gather

SUCCESS = mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

READ_CHUNK = 65536
#: Packets read in one turn of the loop at most, so that writes (the acks) and the keep-alive
#: get their turn in a flood.
MAX_PACKETS_PER_TURN = 256
#: A PUBACK's fixed header (remaining length 2: the packet id, no reason code), the same under
#: MQTT 3.1.1 and 5.
PUBACK = bytes((mqtt.PUBACK, 2))
#: A gathering wait ends once this much is in: big messages gain nothing from waiting, and
#: each read copies what is already held.
GATHER_MAX_BYTES = 4 * READ_CHUNK
#: Linux's; elsewhere the kernel's own timing stays.
QUICK_ACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class ReadAheadSocket:
    """A socket whose ``recv`` is served from a buffer filled a chunk at a time.

    ``pending()`` is what paho asks an SSL socket for bytes it already holds; answering with
    the buffer's length makes paho read again instead of waiting in ``select`` for bytes that
    already left the kernel.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._inner_pending = getattr(sock, "pending", None)  # an SSL socket's own buffer
        self._buffer = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        if self._at >= len(self._buffer):
            chunk = self._sock.recv(READ_CHUNK)  # BlockingIOError and b"" (closed) go to paho as they are
            if len(chunk) <= size:
                return chunk
            self._buffer, self._at = chunk, 0
        start = self._at
        self._at = min(start + size, len(self._buffer))
        return self._buffer[start : self._at]

    def pending(self) -> int:
        inner = self._inner_pending
        return len(self._buffer) - self._at + (inner() if inner is not None else 0)

    def fill(self) -> bool:
        """Read a chunk when nothing is buffered; False when there is nothing to read now.

        A closed peer or a socket error also answers False and leaves the socket as it is:
        paho's own read then meets it and reports the connection lost."""
        if self._at < len(self._buffer):
            return True
        try:
            chunk = self._sock.recv(READ_CHUNK)
        except OSError:  # would block (SSL's want-read included), or an error paho will see again
            return False
        self._buffer, self._at = chunk, 0
        return bool(chunk)

    def whole_packet(self) -> tuple[int, int, int] | None:
        """The first byte, body start and end of a whole packet at the head of the buffer.

        None when the packet is not all here yet, or when its length is malformed (paho's
        reader reports that)."""
        return _packet_at(self._buffer, self._at)

    def packets(self, most: int) -> int:
        """The whole packets in the buffer, counted up to ``most``."""
        count, at = 0, self._at
        while count < most and (packet := _packet_at(self._buffer, at)) is not None:
            count, at = count + 1, packet[2]
        return count

    def gather(self, until: float, gather: Gather, wake: Any = None) -> None:
        """Add what comes to the buffer until ``until`` (``time.monotonic()``), ``gather.most``
        whole packets or ``GATHER_MAX_BYTES`` are in, nothing has come for ``gather.quiet_s``,
        what is held names a critical severity (``gather.marks``), or ``wake`` (paho's pipe:
        a publish or a disconnect from another thread) is readable. ``feeds.gather`` says why.

        Each read here is acknowledged at TCP level at once, so that the broker sends the
        next message without waiting for our answer. A closed peer or a socket error ends the
        wait: paho's own read then meets it and reports the connection lost."""
        if gather.urgent(self._buffer[self._at :]):  # left over from the last turn
            return
        watched = [self._sock] if wake is None else [self._sock, wake]
        while len(self._buffer) - self._at < GATHER_MAX_BYTES and self.packets(gather.most) < gather.most:
            if not (self._inner_pending and self._inner_pending()):  # an SSL socket's own buffer first
                left = min(until - time.monotonic(), gather.quiet_s)
                try:
                    ready = select.select(watched, [], [], left)[0] if left > 0 else []
                except (OSError, ValueError):  # a socket closed under us: paho's select reports it
                    return
                if self._sock not in ready:
                    return
            try:
                chunk = self._sock.recv(READ_CHUNK)
            except OSError:  # would block (SSL's want-read included), or an error paho will see again
                return
            if not chunk:
                return
            _quick_ack(self._sock)
            kept = len(self._buffer) - self._at
            self._buffer, self._at = self._buffer[self._at :] + chunk, 0
            if gather.urgent(self._buffer[max(kept - gather.overlap, 0) :]):
                return

    def peek(self, start: int, end: int) -> bytes:
        """The buffer's bytes from ``start`` to ``end``, left in the buffer."""
        return self._buffer[start:end]

    def take(self, end: int) -> None:
        """Drop the buffer's bytes up to ``end``: they were read."""
        self._at = end

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _packet_at(buffer: bytes, at: int) -> tuple[int, int, int] | None:
    """The first byte, body start and end of the whole packet at ``at``, else None."""
    end = len(buffer)
    length, shift, i = 0, 0, at + 1
    while True:
        if i >= end or shift > 21:
            return None
        byte = buffer[i]
        i += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return (buffer[at], i, i + length) if i + length <= end else None


def _quick_ack(sock: Any) -> None:
    """Acknowledge what was read now, not after the kernel's delayed-ACK timer (Linux; a
    socket of another family or system keeps its own timing)."""
    if QUICK_ACK is not None:
        with contextlib.suppress(OSError):  # not TCP (a test's socket pair)
            sock.setsockopt(socket.IPPROTO_TCP, QUICK_ACK, 1)


class ReadAheadClient(mqtt.Client):
    """paho's client on a :class:`ReadAheadSocket`: a turn of its loop drains what was read
    and sends the acks at once, and nothing it queues for itself wakes it through its pipe.

    A message that came without MQTT 5 properties has ``properties`` None, as under MQTT
    3.1.1, where paho would have given an empty ``Properties``."""

    def __init__(self, *args: Any, ack_window: AckWindow | None = None, gather: Gather | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ack_window = ack_window  # holds a busy feed's PUBACKs a few ms (``feeds.ack_window``)
        self._gather = gather  # gathers a busy feed's messages a few ms (``feeds.gather``)
        self._busy = False  # the last turn read a message: the next gathers first
        self._wake_lock = threading.RLock()  # re-entered when a callback publishes
        self._acks = bytearray()  # PUBACKs of this turn (or of a held window), written as one send
        self._turn = 0  # the thread reading a turn (``threading.get_ident``), 0 between turns
        #: Called in the client's thread with a turn's messages, before any is handed to
        #: ``on_message``: the feed decodes them all before it stores the first
        #: (``feeds.pipeline.Pipeline.decode``). It must not raise.
        self.on_turn: Callable[[list[mqtt.MQTTMessage]], None] | None = None

    def _create_socket(self) -> Any:
        self._drop_acks()  # a new connection: acks for the old one would name messages it never sent
        self._busy = False  # nor does a new connection wait for what the old one was sent
        sock = super()._create_socket()
        if self._transport == "websockets":
            return sock  # its wrapper frames and buffers on its own
        return ReadAheadSocket(sock)

    def _packet_queue(self, *args: Any, **kwargs: Any) -> mqtt.MQTTErrorCode:
        """paho writes a byte to its wake-up pipe for every packet it queues, so that a
        ``publish`` from another thread breaks its ``select``. From its own thread (an ack,
        a subscribe in ``on_connect``, a ping) that was a send, a ``select`` and a ``recv``
        for nothing: its next ``select`` asks for writability anyway."""
        with self._wake_lock:  # a publish from another thread never finds the pipe taken away
            if threading.current_thread() is not getattr(self, "_thread", None):
                return super()._packet_queue(*args, **kwargs)
            wake, self._sockpairW = self._sockpairW, None
            try:
                return super()._packet_queue(*args, **kwargs)
            finally:
                self._sockpairW = wake

    def _send_puback(self, mid: int) -> mqtt.MQTTErrorCode:
        """A PUBACK sent during a turn (by paho, or by a callback's ``ack``) joins the turn's
        others, in the order the messages came, and they leave in one send at its end. paho
        would queue each as a packet of its own and write each with a send of its own."""
        if self._turn != threading.get_ident():
            return super()._send_puback(mid)  # another thread: paho's queue and its locks
        self._acks += PUBACK + mid.to_bytes(2, "big")
        return SUCCESS

    def _drop_acks(self) -> None:
        """Forget the unsent PUBACKs with their connection: the broker sends those messages again."""
        self._acks.clear()
        if self._ack_window is not None:
            self._ack_window.sent()

    def want_write(self) -> bool:
        return self._acks_due() or super().want_write()

    def _acks_due(self) -> bool:
        """Whether the turn's PUBACKs are to be written now: always, unless a window holds them."""
        if not self._acks:
            return False
        due = self._ack_window.due() if self._ack_window is not None else None
        return due is None or due <= 0

    def _loop(self, timeout: float = 1.0) -> mqtt.MQTTErrorCode:
        """paho's turn, its ``select`` ending when held PUBACKs are due: the next turn finds
        them due (``want_write``) and sends them."""
        due = self._ack_window.due() if self._ack_window is not None and self._acks else None
        sock = self._sock
        if self._busy and self._gather is not None and isinstance(sock, ReadAheadSocket) and self._may_gather():
            self._busy = False  # a window that brings nothing leaves the next message to go at once
            sock.gather(time.monotonic() + min(self._gather.hold_s, timeout), self._gather, self._sockpairR)
        return super()._loop(timeout if due is None else min(timeout, due))

    def _may_gather(self) -> bool:
        """Not while paho is part-way through reading a packet (the rest would wait for a
        window, though what came first may have named a critical severity), nor while it has
        anything to write, nor with a window that holds the acks (``feeds.ack_window``):
        that one gathers at the broker instead."""
        return self._in_packet["command"] == 0 and self._ack_window is None and not self.want_write()

    def loop_write(self) -> mqtt.MQTTErrorCode:
        """The turn's acks in one send, then paho's queue; never in the middle of a packet of
        either, so the stream stays whole when the socket takes only part of a write."""
        out = self._out_packet
        if out and out[0]["pos"]:  # paho is part-way through a packet: it finishes first
            rc = super().loop_write()
            if rc != SUCCESS or (out and out[0]["pos"]):
                return rc
        if self._acks_due():
            try:
                sent = self._sock_send(self._acks)
            except BlockingIOError:
                return SUCCESS  # the socket is full: ``want_write`` brings this back
            except OSError:
                self._drop_acks()  # the connection is gone; paho's own read or write reports it
                return SUCCESS
            del self._acks[:sent]
            with self._msgtime_mutex:
                self._last_msg_out = mqtt.time_func()
            if self._acks:
                return SUCCESS
            if self._ack_window is not None:
                self._ack_window.sent()
        return super().loop_write()

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        sock = self._sock
        if not isinstance(sock, ReadAheadSocket):
            return super().loop_read(max_packets)
        self._turn = threading.get_ident()
        try:
            return self._read_turn(sock, max_packets)
        finally:
            self._turn = 0

    def _read_turn(self, sock: ReadAheadSocket, max_packets: int) -> mqtt.MQTTErrorCode:
        rc, turns = SUCCESS, 0
        while rc == SUCCESS and turns < MAX_PACKETS_PER_TURN:
            read, rc = self._read_publishes(sock, MAX_PACKETS_PER_TURN - turns)
            turns += read
            if rc != SUCCESS or (read and sock.pending() <= 0) or turns >= MAX_PACKETS_PER_TURN:
                break
            rc = super().loop_read(max_packets)  # any other packet, or the rest of one, paho's way
            turns += 1
            if sock.pending() <= 0:  # also when paho lost the connection (``rc`` says so)
                break
        if rc == SUCCESS and self.want_write():
            rc = self.loop_write()  # the acks of what was just read, without another select
        return rc

    def _read_publishes(self, sock: ReadAheadSocket, most: int) -> tuple[int, mqtt.MQTTErrorCode]:
        """Hand on the plain PUBLISH packets at the head of the buffer, as paho's reader would,
        after ``on_turn`` has seen them all.

        Stops at the first packet that is not one, not all here, or past ``most``; returns how
        many were taken and paho's result code."""
        if self._in_packet["command"] != 0 or not sock.fill():
            return 0, SUCCESS  # paho is part-way through a packet, or nothing came
        messages = self._take_publishes(sock, most)
        if not messages:
            return 0, SUCCESS
        if self.on_turn is not None:
            self.on_turn(messages)
        rc = SUCCESS
        for message in messages:
            if rc != SUCCESS or self._sock is not sock:  # a callback reconnected: the rest comes again
                break
            if message.qos == 1 and self._ack_window is not None:
                self._ack_window.read()
            self._handle_on_message(message)
            if message.qos == 1 and not self._manual_ack:
                rc = self._send_puback(message.mid)
        self._busy = True
        with self._msgtime_mutex:
            self._last_msg_in = self._last_bytes_received = mqtt.time_func()
        return len(messages), rc

    def _take_publishes(self, sock: ReadAheadSocket, most: int) -> list[mqtt.MQTTMessage]:
        """The plain PUBLISH packets at the head of the buffer, up to ``most``, taken from it."""
        v5 = self._protocol == mqtt.MQTTv5
        messages: list[mqtt.MQTTMessage] = []
        while len(messages) < most and (packet := sock.whole_packet()) is not None:
            first, start, end = packet
            message = plain_publish(first, sock.peek(start, end), v5) if first & 0xF0 == mqtt.PUBLISH else None
            if message is None:
                break
            sock.take(end)
            message.timestamp = mqtt.time_func()
            messages.append(message)
        return messages


def plain_publish(first: int, body: bytes, v5: bool) -> mqtt.MQTTMessage | None:
    """The message in a PUBLISH packet of QoS 0 or 1 with a topic and no properties, else None."""
    qos = (first >> 1) & 0x03
    if qos > 1 or len(body) < 2:
        return None
    topic_end = 2 + (body[0] << 8 | body[1])
    at = topic_end + 2 * qos
    if v5:
        if at >= len(body) or body[at] != 0:
            return None  # MQTT 5 properties (a topic alias, user properties): paho decodes them
        at += 1
    if topic_end == 2 or at > len(body):
        return None  # no topic, or cut short: paho reports it
    message = mqtt.MQTTMessage(body[topic_end] << 8 | body[topic_end + 1] if qos else 0, body[2:topic_end])
    message.qos = qos
    message.dup = bool(first & 0x08)
    message.retain = bool(first & 0x01)
    message.payload = body[at:]
    return message

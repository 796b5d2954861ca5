"""Fewer system calls per MQTT message under paho.

paho 2.x reads a packet the way the protocol spells it: a ``recv`` for the command byte, one
per byte of the length, one for the body. Each ack it queues from its own thread also writes
a byte to its wake-up pipe, which costs a ``select`` and a ``recv`` more. At 500 Alerts/s
that was nine system calls a message, each a release and a re-take of the GIL that the web
server's thread also wants. With the socket read 64 KiB at a time, a turn of the loop
draining what was read and sending its acks, and no wake-up for what paho's own thread
queues, it is three: ``select``, ``recv``, ``send`` (``strace -c`` on ``citywall demo``).

paho's private ``_create_socket`` and ``_packet_queue`` are overridden here and nowhere else;
if a paho release renames them this falls back to paho's own reading, and
``tests/integration/test_mqtt_socket.py`` fails so that someone notices."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt

READ_CHUNK = 65536
#: Packets read in one turn of the loop at most, so that writes (the acks) and the keep-alive
#: get their turn in a flood.
MAX_PACKETS_PER_TURN = 256


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

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class ReadAheadClient(mqtt.Client):
    """paho's client on a :class:`ReadAheadSocket`: a turn of its loop drains what was read
    and sends the acks at once, and nothing it queues for itself wakes it through its pipe."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_lock = threading.RLock()  # re-entered when a callback publishes

    def _create_socket(self) -> Any:
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

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        turns = 1
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and turns < MAX_PACKETS_PER_TURN:
            sock = self._sock
            if not isinstance(sock, ReadAheadSocket) or sock.pending() <= 0:
                break
            rc = super().loop_read(max_packets)
            turns += 1
        if rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self.want_write():
            rc = self.loop_write()  # the acks of what was just read, without another select
        return rc

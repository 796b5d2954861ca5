"""The read-ahead socket under paho: bytes come out as they went in, one ``recv`` a chunk."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from feeds.mqtt_socket import ReadAheadSocket
from tests.support.helpers import CountingSocket


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

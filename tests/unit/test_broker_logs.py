"""The embedded broker's words for messages a client left unacknowledged: one line a minute."""

from __future__ import annotations

import logging
import sys

import pytest

from feeds.broker import UNACKED_LOGGERS, EmbeddedBroker, Unacked


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def amqtt_record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    try:
        raise TimeoutError(message)
    except TimeoutError:
        exc_info = sys.exc_info()
    return logging.LogRecord("amqtt.broker", level, __file__, 1, "Task failed and will be skipped: %s", (message,), exc_info)


def test_a_minute_of_unacknowledged_messages_is_one_line_saying_how_many() -> None:
    clock = Clock()
    unacked = Unacked(clock)
    first = amqtt_record("Timeout waiting for PUBACK for packet ID 48")
    assert unacked.filter(first)
    assert first.getMessage() == "the embedded broker waits for acknowledgements (ingest holds them while the store is away)"
    assert (first.levelname, first.exc_info) == ("WARNING", None)
    kept = []
    for mid in range(49, 149):  # a hundred more, twice each, within the minute
        clock.now += 0.5
        kept += [unacked.filter(amqtt_record(f"Timeout waiting for PUBACK for packet ID {mid}")) for _ in range(2)]
    assert kept == [False] * 200
    clock.now = 1000.0 + Unacked.EVERY_S
    later = amqtt_record("Timeout waiting for PUBACK for packet ID 149", logging.WARNING)
    assert unacked.filter(later)
    assert later.getMessage().endswith("; 200 more such in the last minute")


def test_everything_else_amqtt_says_goes_through_as_it_was() -> None:
    unacked = Unacked(Clock())
    assert unacked.filter(amqtt_record("Timeout waiting for PUBACK for packet ID 1"))
    other = amqtt_record("Connection lost", logging.ERROR)
    assert unacked.filter(other)
    assert (other.getMessage(), other.levelname) == ("Task failed and will be skipped: Connection lost", "ERROR")
    assert other.exc_info is not None


def test_the_broker_quiets_amqtt_while_it_runs(caplog: pytest.LogCaptureFixture) -> None:
    broker = EmbeddedBroker()
    broker.start()
    try:
        with caplog.at_level(logging.WARNING):
            for name in UNACKED_LOGGERS:
                for mid in range(3):
                    logging.getLogger(name).warning("Timeout waiting for PUBACK for packet ID %d", mid)
    finally:
        broker.stop()
    said = [r.getMessage() for r in caplog.records if r.name in UNACKED_LOGGERS]
    assert said == ["the embedded broker waits for acknowledgements (ingest holds them while the store is away)"]
    assert all(unacked not in logging.getLogger(name).filters for name in UNACKED_LOGGERS for unacked in [broker._unacked])

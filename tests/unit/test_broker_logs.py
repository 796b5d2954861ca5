"""The embedded broker's words for messages a client left unacknowledged: one line a minute."""

from __future__ import annotations

import logging
import sys

import pytest

from feeds.broker import BROKER_LOGGER, HANDLER_LOGGER, UNACKED_LOGGERS, EmbeddedBroker, Unacked

SAID = "a client has not acknowledged a message in time (ingest holds its acknowledgements while the store is away)"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def handler_record(mid: int) -> logging.LogRecord:
    """What amqtt's protocol handler says of one message, as it says it."""
    return logging.LogRecord(
        HANDLER_LOGGER, logging.WARNING, __file__, 1, f"Timeout waiting for PUBACK for packet ID {mid}", None, None
    )


def broker_record(mid: int, message: str | None = None) -> logging.LogRecord:
    """What amqtt's broker says of the same message again: an error with a traceback."""
    try:
        raise TimeoutError(message or f"Timeout waiting for PUBACK for packet ID {mid}")
    except TimeoutError as exc:
        text = f"Task failed and will be skipped: <Task finished exception={exc!r}>"
        return logging.LogRecord(BROKER_LOGGER, logging.ERROR, __file__, 1, text, None, sys.exc_info())


def test_a_minute_of_unacknowledged_messages_is_one_line_saying_how_many() -> None:
    clock = Clock()
    unacked = Unacked(clock)
    first = handler_record(48)
    assert unacked.filter(first)
    assert (first.getMessage(), first.exc_info) == (SAID, None)
    assert not unacked.filter(broker_record(48))  # the same message again
    kept = []
    for mid in range(49, 149):  # a hundred more within the minute
        clock.now += 0.5
        kept += [unacked.filter(handler_record(mid)), unacked.filter(broker_record(mid))]
    assert kept == [False] * 200
    clock.now = 1000.0 + Unacked.EVERY_S
    later = handler_record(149)
    assert unacked.filter(later)
    assert later.getMessage() == f"{SAID}; 100 more since the last such line"
    assert unacked.held() == 0


def test_everything_else_amqtt_says_goes_through_as_it_was() -> None:
    unacked = Unacked(Clock())
    assert unacked.filter(handler_record(1))
    other = broker_record(2, "Connection lost")
    assert unacked.filter(other)
    assert other.getMessage().startswith("Task failed and will be skipped:")
    assert (other.levelname, bool(other.exc_info)) == ("ERROR", True)
    wrong = logging.LogRecord(HANDLER_LOGGER, logging.WARNING, __file__, 1, "%d of %d", ("x",), None)
    assert unacked.filter(wrong)  # a record that cannot be formatted is the handler's to report


def test_the_broker_quiets_amqtt_while_it_runs_and_says_what_it_held_when_it_stops(caplog: pytest.LogCaptureFixture) -> None:
    broker = EmbeddedBroker()
    broker.start()
    try:
        with caplog.at_level(logging.WARNING):
            for mid in range(3):
                logging.getLogger(HANDLER_LOGGER).warning("Timeout waiting for PUBACK for packet ID %d", mid)
                logging.getLogger(BROKER_LOGGER).error("Task failed: Timeout waiting for PUBACK for packet ID %d", mid)
    finally:
        with caplog.at_level(logging.WARNING):
            broker.stop()
    said = [r.getMessage() for r in caplog.records if r.name in (*UNACKED_LOGGERS, "feeds.broker")]
    assert said == [SAID, "a client left 2 more messages unacknowledged before the broker stopped"]
    assert all(broker._unacked not in logging.getLogger(name).filters for name in UNACKED_LOGGERS)

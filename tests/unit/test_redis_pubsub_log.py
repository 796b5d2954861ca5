"""A store that is away loses a pub/sub feed's messages; the log says so without a traceback each."""

from __future__ import annotations

import logging

import pytest

from dashboard.config_sections import RedisFeed
from feeds.redis_feed import RedisPubSubAdapter
from tests.support.helpers import RecordingSink, kpi_payload, make_normalizer


def test_a_run_of_lost_messages_is_told_with_its_cause_then_every_hundredth_and_its_end(caplog: pytest.LogCaptureFixture) -> None:
    sink = RecordingSink()
    adapter = RedisPubSubAdapter(RedisFeed(url="redis://127.0.0.1:6379/0", channels=["kota:events"]), make_normalizer(), sink)
    sink.fail = True
    with caplog.at_level(logging.WARNING, logger="feeds.redis_feed"):
        for n in range(250):
            adapter._deliver("kota:events", kpi_payload(n))
        sink.fail = False
        adapter._deliver("kota:events", kpi_payload(250))  # the store is back: the next run is told afresh
        sink.fail = True
        adapter._deliver("kota:events", kpi_payload(251))
    told = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    first = ("redis-pubsub: store failed; a pub/sub message from kota:events is lost", True)
    run = (
        "redis-pubsub: store failed; {} pub/sub messages lost in a row, the last from kota:events: ConnectionError: store is down"
    )
    assert told == [
        first,
        (run.format(100), False),
        (run.format(200), False),
        ("redis-pubsub: the store takes messages again, after 250 lost in a row", False),
        first,
    ]
    assert adapter.stats.snapshot()["store_errors"] == 251

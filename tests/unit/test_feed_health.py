"""Feed health counters and the shared decode -> store pipeline.

The helpers at the top (``RecordingSink``, ``kpi_payload``, ``make_normalizer``) are also
used by the MQTT and Redis adapter tests, so all three exercise one definition of "a message
arrived and was stored".
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import feeds.health as feeds_health
from feeds.events import Event, KpiReading, Reason, Rejected
from feeds.health import FeedStats
from feeds.pipeline import Pipeline
from tests.support.helpers import RecordingSink, kpi_payload


class StandInNormalizer:
    """Just enough of ``feeds.normalize.Normalizer`` for transport tests: NGSI-v2
    keyValues ``KeyPerformanceIndicator`` only."""

    def decode(self, payload: bytes | str, origin: str = "") -> Event:
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejected(Reason.MALFORMED_JSON, str(exc)) from None
        if not isinstance(doc, dict):
            raise Rejected(Reason.NOT_AN_OBJECT, type(doc).__name__)
        if doc.get("type") != "KeyPerformanceIndicator":
            raise Rejected(Reason.UNKNOWN_TYPE, str(doc.get("type")))
        for key in ("id", "kpiValue", "dateModified"):
            if key not in doc:
                raise Rejected(Reason.MISSING_FIELD, key)
        return KpiReading(
            id=doc["id"],
            observed_at=datetime.fromisoformat(doc["dateModified"]),
            source_type="KeyPerformanceIndicator",
            kpi_id=doc["id"],
            name=doc.get("name"),
            value=float(doc["kpiValue"]),
        )


# ---------------------------------------------------------------------------------------
# FeedStats


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_deltas_from_two_processes_add_up() -> None:
    sink = RecordingSink()
    a, b = FeedStats("mqtt"), FeedStats("mqtt")
    for stats, n in ((a, 3), (b, 5)):
        for _ in range(n):
            stats.received()
            stats.accepted(True)
    a.received()
    a.accepted(False)
    b.received()
    b.rejected(Reason.MALFORMED_JSON)
    a.flush_to(sink)
    b.flush_to(sink)
    a.received()
    a.accepted(True)
    a.flush_to(sink)
    b.flush_to(sink)  # nothing new: must add nothing
    assert sink.feeds["mqtt"] == {
        "received": 11,
        "accepted": 9,
        "duplicates": 1,
        "rejected": 1,
        "rejected.malformed_json": 1,
    }
    assert sink.flushes == 4


class Flaky(RecordingSink):
    """A store that is away while ``fail`` is set."""

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        if self.fail:
            raise ConnectionError("store down")
        super().record_feed(feed, counts, status)


def test_failed_flush_is_sent_again() -> None:
    sink = Flaky()
    stats = FeedStats("redis")
    stats.received()
    stats.accepted(True)
    sink.fail = True
    with pytest.raises(ConnectionError):
        stats.flush_to(sink)
    sink.fail = False
    stats.received()
    stats.accepted(True)
    stats.flush_to(sink)
    assert sink.feeds["redis"] == {"received": 2, "accepted": 2}


def test_an_outage_is_said_with_its_cause_then_now_and_then_and_its_end_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds_health, "FLUSH_TOLD_EVERY", 3)
    log = logging.getLogger("feeds.test")
    sink, stats = Flaky(), FeedStats("mqtt")
    stats.received()
    sink.fail = True
    with caplog.at_level(logging.WARNING, logger="feeds.test"):
        for _ in range(7):  # seven seconds of flushes into a store that is away
            stats.flush_or_tell(sink, log)
        sink.fail = False
        stats.flush_or_tell(sink, log)
        stats.flush_or_tell(sink, log)
        sink.fail = True  # the next outage is said again, with its cause
        stats.flush_or_tell(sink, log)
    said = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert said == [
        ("mqtt: could not record feed health", True),
        ("mqtt: still cannot record feed health (3 tries): ConnectionError: store down", False),
        ("mqtt: still cannot record feed health (6 tries): ConnectionError: store down", False),
        ("mqtt: feed health recorded again after 7 failed tries", False),
        ("mqtt: could not record feed health", True),
    ]
    assert "store down" in caplog.records[0].exc_text
    assert sink.feeds["mqtt"] == {"received": 1}  # nothing lost to the failed flushes


def test_gaps_record_when_and_how_long() -> None:
    clock = Clock()
    stats = FeedStats("mqtt", clock=clock)
    stats.disconnected("never connected yet")  # start-up failures are not a gap
    stats.connected()
    clock.advance(60)
    stats.disconnected("connection lost")
    clock.advance(2)
    stats.disconnected("connect failed")  # retries while down: same gap
    clock.advance(3)
    stats.connected()
    snap = stats.snapshot()
    assert snap["connected"] is True
    assert snap["reconnects"] == 1
    assert snap["gaps"] == [
        {
            "started_at": "2025-01-06T08:01:00+00:00",
            "ended_at": "2025-01-06T08:01:05+00:00",
            "seconds": 5.0,
            "reason": "connect failed",
        }
    ]


def test_only_the_last_twenty_gaps_are_kept() -> None:
    clock = Clock()
    stats = FeedStats("mqtt", clock=clock)
    stats.connected()
    for i in range(25):
        clock.advance(10)
        stats.disconnected(f"drop {i}")
        clock.advance(1)
        stats.connected()
    gaps = stats.snapshot()["gaps"]
    assert len(gaps) == 20
    assert gaps[0]["reason"] == "drop 5" and gaps[-1]["reason"] == "drop 24"
    assert stats.snapshot()["reconnects"] == 25


def test_a_restarted_ingest_keeps_the_last_message_time_until_it_has_one_of_its_own() -> None:
    """Each process wrote its whole status: after a restart the wall said "last message:
    never" beside 825 received."""
    from dashboard.store.memory import MemoryStore

    store = MemoryStore()
    before = FeedStats("redis", clock=Clock())
    before.received()
    before.flush_to(store)
    said = store.feeds()["redis"]["last_message_at"]
    assert said == "2025-01-06T08:00:00+00:00"
    later = Clock()
    later.advance(600)
    after = FeedStats("redis", clock=later)
    after.connected()
    after.flush_to(store)
    assert store.feeds()["redis"]["last_message_at"] == said
    after.received()
    after.flush_to(store)
    assert store.feeds()["redis"]["last_message_at"] == "2025-01-06T08:10:00+00:00"


def test_snapshot_shape_and_status_passed_to_sink() -> None:
    clock = Clock()
    stats = FeedStats("mqtt", clock=clock)
    assert stats.snapshot() == {
        "name": "mqtt",
        "connected": False,
        "last_message_at": None,
        "gaps": [],
        "received": 0,
        "accepted": 0,
        "duplicates": 0,
        "rejected": {},
        "store_errors": 0,
        "lost": 0,
        "outside_districts": 0,
        "reconnects": 0,
    }
    stats.connected()
    stats.received()
    stats.rejected(Reason.UNKNOWN_TYPE)
    sink = RecordingSink()
    stats.flush_to(sink)
    assert sink.status["mqtt"] == {
        "connected": True,
        "last_message_at": "2025-01-06T08:00:00+00:00",
        "gaps": [],
        "reported_at": "2025-01-06T08:00:00+00:00",
    }
    assert stats.snapshot()["rejected"] == {"unknown_type": 1}


def test_counting_is_thread_safe() -> None:
    stats = FeedStats("mqtt")
    sink = RecordingSink()

    def work() -> None:
        for _ in range(5_000):
            stats.received()
            stats.accepted(True)

    threads = [threading.Thread(target=work) for _ in range(4)]
    flusher_stop = threading.Event()

    def flusher() -> None:
        while not flusher_stop.is_set():
            stats.flush_to(sink)

    f = threading.Thread(target=flusher)
    f.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flusher_stop.set()
    f.join()
    stats.flush_to(sink)
    assert sink.feeds["mqtt"] == {"received": 20_000, "accepted": 20_000}


# ---------------------------------------------------------------------------------------
# Pipeline


def test_pipeline_accepts_rejects_and_survives_decoder_bugs() -> None:
    class Buggy(StandInNormalizer):
        def decode(self, payload: bytes | str, origin: str = "") -> Event:
            if payload == b"boom":
                raise KeyError("oops")
            return super().decode(payload, origin)

    sink = RecordingSink()
    stats = FeedStats("mqtt")
    pipeline = Pipeline(Buggy(), sink, stats, dead_letter_excerpt=10)
    assert pipeline.handle(kpi_payload(1), "city/kpi") is True
    assert pipeline.handle(kpi_payload(1), "city/kpi") is True  # duplicate
    assert pipeline.handle(b"\xff\xfenot json at all", "city/kpi") is False
    assert pipeline.handle(b"boom", "city/kpi") is False
    snap = stats.snapshot()
    assert (snap["received"], snap["accepted"], snap["duplicates"]) == (4, 1, 1)
    assert snap["rejected"] == {"malformed_json": 1, "invalid_value": 1}
    bad, bug = sink.letters
    assert bad.feed == "mqtt" and bad.origin == "city/kpi" and bad.reason is Reason.MALFORMED_JSON
    assert bad.excerpt == "\ufffd\ufffdnot json"  # 10 bytes, undecodable ones replaced
    assert bug.reason is Reason.INVALID_VALUE and "KeyError" in bug.detail


def test_pipeline_lets_store_failures_through() -> None:
    """A store that is down must reach the adapter, which then withholds the ack."""
    sink = RecordingSink()
    sink.fail = True
    stats = FeedStats("redis")
    pipeline = Pipeline(StandInNormalizer(), sink, stats)
    with pytest.raises(ConnectionError):
        pipeline.handle(kpi_payload(1), "s")
    with pytest.raises(ConnectionError):
        pipeline.handle(b"[]", "s")
    snap = stats.snapshot()
    assert (snap["received"], snap["accepted"], snap["rejected"], snap["store_errors"]) == (2, 0, {}, 2)


def test_a_restarted_ingest_carries_on_the_outage_history() -> None:
    """A restart emptied the feed's outage history, and with it the record of the night's
    outages. The next process takes it up from the store; as the feed's only ingest, the time
    until it connects is a gap too, and a gap the last one left open ends at its last report."""
    from dashboard.store.memory import MemoryStore

    store = MemoryStore()
    clock = Clock()
    before = FeedStats("mqtt", clock=clock)
    before.connected()
    clock.advance(60)
    before.disconnected("broker unreachable")
    clock.advance(5)
    before.connected()
    clock.advance(30)
    before.disconnected("connection lost")  # and the process is killed while down
    clock.advance(10)
    before.flush_to(store)  # its last report: 08:01:45

    clock.advance(120)  # two minutes with no ingest running
    after = FeedStats("mqtt", clock=clock)
    after.carry_on(store.feeds()["mqtt"], silent_after=timedelta(seconds=15))
    clock.advance(3)
    after.connected()
    assert after.snapshot()["gaps"] == [
        {"started_at": "2025-01-06T08:01:00+00:00", "ended_at": "2025-01-06T08:01:05+00:00", "seconds": 5.0,
         "reason": "broker unreachable"},
        {"started_at": "2025-01-06T08:01:35+00:00", "ended_at": "2025-01-06T08:01:45+00:00", "seconds": 10.0,
         "reason": "connection lost"},
        {"started_at": "2025-01-06T08:01:45+00:00", "ended_at": "2025-01-06T08:03:48+00:00", "seconds": 123.0,
         "reason": "ingest was not running (stopped or restarted)"},
    ]  # fmt: skip
    assert after.snapshot()["reconnects"] == 0, "this process's first connection is not a reconnect"

    after.flush_to(store)
    clock.advance(10)  # another ingest process reported 10 s ago: it fed the feed meanwhile
    member = FeedStats("mqtt", clock=clock)
    member.carry_on(store.feeds()["mqtt"], silent_after=timedelta(seconds=15))
    assert [g["reason"] for g in member.snapshot()["gaps"]] == [
        "broker unreachable",
        "connection lost",
        "ingest was not running (stopped or restarted)",
    ], "the history, and no gap of its own"
    nothing = FeedStats("mqtt", clock=clock)
    nothing.carry_on({"gaps": [{"started_at": "yesterday"}, "x", None], "reported_at": 5}, silent_after=timedelta(0))
    nothing.carry_on(None, silent_after=timedelta(0))
    assert nothing.snapshot()["gaps"] == []


def test_a_restart_gap_keeps_saying_it_was_one_when_the_connection_fails_too() -> None:
    clock = Clock()
    stats = FeedStats("mqtt", clock=clock)
    stats.carry_on({"gaps": [], "reported_at": "2025-01-06T07:00:00+00:00"}, silent_after=timedelta(seconds=15))
    stats.disconnected("broker unreachable")
    stats.disconnected("connection refused")
    assert [g["reason"] for g in stats.snapshot()["gaps"]] == [
        "ingest was not running (stopped or restarted), then: connection refused"
    ]

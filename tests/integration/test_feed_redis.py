"""The Redis adapters against a real redis-server.

Streams must be at-least-once: everything read is acknowledged once stored, nothing is
acknowledged that the store did not take, and work a dead consumer left behind is picked up.
Pub/sub is at-most-once and is only checked to deliver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from dashboard.config import RedisFeed
from feeds.backoff import Backoff
from feeds.events import Reason
from feeds.redis_feed import RedisPubSubAdapter, RedisStreamAdapter
from tests.support.helpers import RecordingSink, kpi_payload, make_normalizer
from tests.support.services import RedisServer

TIMEOUT = 10.0
STREAM = "pekanbaru:events"
GROUP = "citywall"


def feed(url: str, **overrides: Any) -> RedisFeed:
    settings: dict[str, Any] = {"url": url, "streams": [STREAM], "group": GROUP, "consumer": "ingest-1"}
    settings.update(overrides)
    return RedisFeed(**settings)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(redis_url)
    yield r
    r.close()


@pytest.fixture
def adapters() -> Iterator[Callable[..., Any]]:
    """Start adapters and wait until they read; all are stopped at teardown."""
    made: list[Any] = []

    def make(kind: type, config: RedisFeed, sink: RecordingSink, **kwargs: Any) -> Any:
        adapter = kind(config, make_normalizer(), sink, **kwargs)
        made.append(adapter)
        adapter.start()
        assert adapter.wait_connected(TIMEOUT), "adapter never connected"
        return adapter

    yield make
    for adapter in made:
        adapter.stop()


def add(r: redis.Redis, start: int, count: int, stream: str = STREAM) -> None:
    pipe = r.pipeline(transaction=False)
    for n in range(start, start + count):
        pipe.xadd(stream, {"data": kpi_payload(n)})
    pipe.execute()


def ids(start: int, count: int) -> set[str]:
    return {f"urn:ngsi-ld:KeyPerformanceIndicator:test-{n}" for n in range(start, start + count)}


def pending(r: redis.Redis, stream: str = STREAM) -> int:
    return int(r.xpending(stream, GROUP)["pending"])


def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_backoff_doubles_up_to_the_cap() -> None:
    b = Backoff(1, 30)
    assert [b.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    b.reset()
    assert b.next() == 1


@pytest.mark.integration
def test_stream_entries_are_all_stored_and_acknowledged(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    add(client, 0, 600)  # written before the group existed: the group starts at "0"
    sink = RecordingSink()
    adapter = adapters(RedisStreamAdapter, feed(redis_url), sink)
    add(client, 600, 400)
    assert sink.wait_for(lambda s: len(s.ids) == 1000), f"{len(sink.ids)} of 1000"
    assert sink.ids == ids(0, 1000)
    assert eventually(lambda: pending(client) == 0), f"{pending(client)} entries never acknowledged"
    snap = adapter.stats.snapshot()
    assert (snap["received"], snap["accepted"], snap["connected"]) == (1000, 1000, True)


@pytest.mark.integration
def test_store_failure_leaves_entries_pending_for_the_restarted_consumer(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    add(client, 0, 50)  # before the start, so the first read takes all 50 at once
    failing = RecordingSink()
    failing.fail = True
    first = adapters(RedisStreamAdapter, feed(redis_url), failing)
    assert failing.wait_for(lambda s: s.accept_calls >= 1)
    first.stop()
    assert pending(client) == 50, "entries were acknowledged although the store refused them"
    assert first.stats.snapshot()["store_errors"] >= 1

    sink = RecordingSink()
    adapters(RedisStreamAdapter, feed(redis_url), sink)
    assert sink.wait_for(lambda s: len(s.ids) == 50), f"{len(sink.ids)} of 50 redelivered"
    assert eventually(lambda: pending(client) == 0)


@pytest.mark.integration
def test_store_recovery_delivers_without_a_restart(redis_url: str, client: redis.Redis, adapters: Callable[..., Any]) -> None:
    sink = RecordingSink()
    sink.fail = True
    adapters(RedisStreamAdapter, feed(redis_url), sink)
    add(client, 0, 30)
    assert sink.wait_for(lambda s: s.accept_calls >= 1)
    sink.fail = False
    assert sink.wait_for(lambda s: len(s.ids) == 30)
    assert eventually(lambda: pending(client) == 0)


@pytest.mark.integration
def test_abandoned_entries_are_claimed_from_a_dead_consumer(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    add(client, 0, 30)
    client.xreadgroup(GROUP, "crashed-host-123", {STREAM: ">"}, count=100)  # read, never acked
    assert pending(client) == 30
    sink = RecordingSink()
    adapter = adapters(RedisStreamAdapter, feed(redis_url), sink, claim_every_s=0.3, claim_idle_ms=300)
    assert sink.wait_for(lambda s: len(s.ids) == 30), f"{len(sink.ids)} of 30 claimed"
    assert eventually(lambda: pending(client) == 0)
    owners = {c["name"]: c["pending"] for c in client.xinfo_consumers(STREAM, GROUP)}
    assert owners[b"crashed-host-123"] == 0 and owners[adapter.consumer.encode()] == 0


@pytest.mark.integration
def test_entry_without_payload_field_is_dead_lettered_and_acked(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    sink = RecordingSink()
    adapter = adapters(RedisStreamAdapter, feed(redis_url), sink)
    client.xadd(STREAM, {"body": b"{}"})
    client.xadd(STREAM, {"data": b"{oops"})
    add(client, 0, 1)
    assert sink.wait_for(lambda s: len(s.ids) == 1 and len(s.letters) == 2)
    assert [letter.reason for letter in sink.letters] == [Reason.MISSING_FIELD, Reason.MALFORMED_JSON]
    assert sink.letters[0].origin.startswith(f"{STREAM}#")
    assert eventually(lambda: pending(client) == 0)
    assert adapter.stats.snapshot()["rejected"] == {"missing_field": 1, "malformed_json": 1}


@pytest.mark.integration
def test_redis_restart_is_a_gap_and_reading_resumes(redis_server: RedisServer, adapters: Callable[..., Any]) -> None:
    sink = RecordingSink()
    adapter = adapters(RedisStreamAdapter, feed(redis_server.url), sink)
    r = redis.Redis.from_url(redis_server.url)
    add(r, 0, 10)
    assert sink.wait_for(lambda s: len(s.ids) == 10)
    r.close()

    redis_server.restart()  # not persistent: stream and group are gone, MKSTREAM recreates them
    assert eventually(lambda: not adapter.stats.is_connected or adapter.stats.snapshot()["reconnects"] == 1, 5)
    assert adapter.wait_connected(TIMEOUT)
    assert eventually(lambda: adapter.stats.snapshot()["reconnects"] == 1)
    r = redis.Redis.from_url(redis_server.url)
    try:
        add(r, 10, 10)
        assert sink.wait_for(lambda s: len(s.ids) == 20), f"{len(sink.ids)} of 20 after the restart"
    finally:
        r.close()
    gaps = adapter.stats.snapshot()["gaps"]
    assert len(gaps) == 1 and gaps[0]["ended_at"] is not None


@pytest.mark.integration
def test_pubsub_channels_and_patterns_deliver(redis_url: str, client: redis.Redis, adapters: Callable[..., Any]) -> None:
    sink = RecordingSink()
    config = feed(redis_url, streams=[], channels=["pekanbaru:kpi", "pekanbaru:sensor:*"])
    adapter = adapters(RedisPubSubAdapter, config, sink)
    client.publish("pekanbaru:kpi", kpi_payload(1))
    client.publish("pekanbaru:sensor:sta-7", kpi_payload(2))
    client.publish("elsewhere", kpi_payload(3))
    client.publish("pekanbaru:kpi", b"not json")
    assert sink.wait_for(lambda s: len(s.ids) == 2 and len(s.letters) == 1)
    assert sink.ids == ids(1, 2)
    assert sink.letters[0].origin == "pekanbaru:kpi"
    assert adapter.stats.snapshot()["received"] == 3


BIG = 2 << 20  # an entry over the ingest's size limit, and here over what the process can hold


def _reply_bytes(reply: Any) -> int:
    pairs = reply.items() if isinstance(reply, dict) else (reply or [])
    return sum(len(k) + len(v) for _, entries in pairs for _, fields in entries for k, v in (fields or {}).items())


class _Recorded:
    """A real client that notes each stream read's count and the bytes it brought back; with
    ``hold`` set, a reply holding an entry larger than that raises MemoryError after Redis has
    delivered it (and put it on the consumer's pending list), as under a container's limit."""

    def __init__(self, real: redis.Redis, reads: list[tuple[int, int]], hold: int | None) -> None:
        self._real, self._reads, self._hold = real, reads, hold

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def xreadgroup(self, *args: Any, **kwargs: Any) -> Any:
        reply = self._real.xreadgroup(*args, **kwargs)
        self._reads.append((kwargs["count"], _reply_bytes(reply)))
        if self._hold is not None and _reply_bytes(reply) > self._hold:
            raise MemoryError
        return reply


def _recording_adapter(reads: list[tuple[int, int]], hold: int | None) -> type[RedisStreamAdapter]:
    class Recording(RedisStreamAdapter):
        def _connect(self, read_timeout: float | None) -> redis.Redis:
            return _Recorded(super()._connect(read_timeout), reads, hold)  # type: ignore[return-value]

    return Recording


@pytest.mark.integration
def test_an_entry_too_large_to_hold_is_dead_lettered_unread_and_the_stream_goes_on(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    """Three 2 MB entries between good ones, in a process that cannot hold one of them. The
    read that brings them fails after Redis has delivered it; read again it failed again, and
    the good entries behind them never came."""
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    add(client, 0, 5)
    for _ in range(3):
        client.xadd(STREAM, {"data": b"x" * BIG})
    add(client, 5, 5)
    sink = RecordingSink()
    reads: list[tuple[int, int]] = []
    adapters(_recording_adapter(reads, hold=BIG - 1), feed(redis_url), sink)
    assert sink.wait_for(lambda s: len(s.ids) == 10 and len(s.letters) == 3), (
        f"{len(sink.ids)} of 10, {len(sink.letters)} letters"
    )
    assert sink.ids == ids(0, 10)
    assert {(letter.reason, letter.detail) for letter in sink.letters} == {(Reason.TOO_LARGE, "too large to read into memory")}
    assert eventually(lambda: pending(client) == 0)


@pytest.mark.integration
def test_after_a_read_over_the_budget_the_stream_is_read_one_entry_at_a_time(
    redis_url: str, client: redis.Redis, adapters: Callable[..., Any]
) -> None:
    """The size limit is checked once an entry is in memory: after a read of 6 MB (three
    entries of 2 MB, each dead-lettered too_large) the next reads take one entry, then two,
    four... back to the full count (8 here), instead of a full count more such entries at once."""
    client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for _ in range(3):
        client.xadd(STREAM, {"data": b"x" * BIG})
    add(client, 0, 40)
    sink = RecordingSink()
    reads: list[tuple[int, int]] = []
    adapters(_recording_adapter(reads, hold=None), feed(redis_url), sink, count=8)
    assert sink.wait_for(lambda s: len(s.ids) == 40 and len(s.letters) == 3)
    big = next(i for i, (_, size) in enumerate(reads) if size > 3 * BIG)
    assert [count for count, _ in reads[big : big + 6]] == [8, 1, 2, 4, 8, 8]

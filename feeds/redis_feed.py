"""Redis inbound adapters: streams through a consumer group, and plain pub/sub channels.

Streams are the at-least-once path. Entries are read through a consumer group, so several
ingest processes split a stream between them, and an entry is XACKed only after
``Pipeline.handle`` settled it (stored, or kept as a dead letter). If the store raises, the
entry stays in this consumer's pending list; the adapter backs off and reads its own pending
entries again, and so does a restarted process that keeps the same consumer name. Entries
left pending by a consumer that never came back (a host that died, a ``hostname-pid``
name that changed with the restart) are taken over with XAUTOCLAIM once idle long enough.

Pub/sub is at-most-once by nature: Redis keeps nothing for a subscriber that is not
listening, and a message whose storage failed cannot be asked for again. Use it only for
data that is re-sent periodically anyway (a gauge reporting every minute); use a stream for
anything that must not be lost (incidents, citizen reports).

Each adapter runs in its own thread and owns its Redis connection. Redis-py's own retries
are switched off, so an outage surfaces here, shows up as a gap in the feed's health, and is
retried with one backoff policy the operator can read in the log.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from feeds.backoff import Backoff
from feeds.events import Event, Reason, Rejected
from feeds.health import FeedStats
from feeds.pipeline import Decoder, Pipeline
from feeds.sink import EventSink

log = logging.getLogger(__name__)

RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0

Entry = tuple[bytes, dict[bytes, bytes]]

#: What one stream read may bring back before the reads after it take one entry at a time.
#: An entry's size is checked only once it is in memory: 400 entries of 4 MB were one read of
#: 1.6 GB, and under a memory limit that read failed again and again, stopping the stream.
READ_BUDGET_BYTES = 4 << 20


class RedisSettings(Protocol):
    """The fields of ``dashboard.config.RedisFeed`` these adapters read (feeds cannot import it)."""

    @property
    def url(self) -> str | None: ...
    @property
    def streams(self) -> Sequence[str]: ...
    @property
    def field(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def consumer(self) -> str | None: ...
    @property
    def channels(self) -> Sequence[str]: ...


class StoreDown(Exception):
    """The sink raised while handling an entry; carries nothing, the log has the cause."""


def default_consumer_name() -> str:
    """Unique per process; stable names (set in config) let a restart finish its own work."""
    return f"{socket.gethostname()}-{os.getpid()}"


class _RedisAdapter:
    """Thread, connection, reconnect and health plumbing shared by both adapters."""

    def __init__(
        self,
        config: RedisSettings,
        normalizer: Decoder,
        sink: EventSink,
        *,
        name: str,
        flush_every_s: float,
        dead_letter_excerpt: int,
    ) -> None:
        if not config.url:
            raise ValueError("feeds.redis.url is not set")
        self.config = config
        self.sink = sink
        self.stats = FeedStats(name)
        self.pipeline = Pipeline(normalizer, sink, self.stats, dead_letter_excerpt)
        self._flush_every_s = flush_every_s
        self._last_flush = 0.0
        self._halt = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._reconnect = Backoff(RECONNECT_FIRST_S, RECONNECT_MAX_S)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a thread of its own; a Redis that is down now is retried with backoff."""
        if self._thread is not None:
            return
        self._halt.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.stats.name}-reader", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """True once connected and reading (groups exist, channels subscribed)."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand (so it is acknowledged), then close and flush health."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._ready.clear()
        self.stats.disconnected("stopped")
        self._flush()

    # -- plumbing -------------------------------------------------------------------------

    def _connect(self, read_timeout: float | None) -> redis.Redis:
        assert self.config.url is not None
        return redis.Redis.from_url(
            self.config.url,
            socket_timeout=read_timeout,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=10,
        )

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                self._session()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                self._connection_lost(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug or an unexpected reply: log, back off, go on
                log.exception("%s: reader failed", self.stats.name)
                self._connection_lost(f"{type(exc).__name__}: {exc}")

    def _connection_lost(self, reason: str) -> None:
        self._ready.clear()
        if self._halt.is_set():
            return
        delay = self._reconnect.next()
        log.warning("%s: %s; reconnecting in %.0f s", self.stats.name, reason, delay)
        self.stats.disconnected(reason)
        self._flush()
        self._halt.wait(delay)

    def _connected(self) -> None:
        self._reconnect.reset()
        self.stats.connected()
        self._ready.set()
        self._flush()

    def _session(self) -> None:
        raise NotImplementedError

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self._flush_every_s:
            self._flush()

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        self.stats.flush_or_tell(self.sink, log)


class RedisStreamAdapter(_RedisAdapter):
    """Streams through a consumer group; at-least-once (see the module docstring)."""

    def __init__(
        self,
        config: RedisSettings,
        normalizer: Decoder,
        sink: EventSink,
        *,
        name: str = "redis",
        count: int = 500,
        block_ms: int = 1_000,
        claim_every_s: float = 10.0,
        claim_idle_ms: int = 30_000,
        flush_every_s: float = 1.0,
        dead_letter_excerpt: int = 200,
    ) -> None:
        super().__init__(
            config, normalizer, sink, name=name, flush_every_s=flush_every_s, dead_letter_excerpt=dead_letter_excerpt
        )
        self.streams = list(config.streams)
        if not self.streams:
            raise ValueError("feeds.redis.streams is empty")
        self.group = config.group
        self.consumer = config.consumer or default_consumer_name()
        self.field = config.field.encode()
        self.count = count
        self._count = count  # one after a read over READ_BUDGET_BYTES, doubling back to ``count``
        self.block_ms = block_ms
        self.claim_every_s = claim_every_s
        self.claim_idle_ms = claim_idle_ms
        self._store_retry = Backoff(RECONNECT_FIRST_S, RECONNECT_MAX_S)

    def _session(self) -> None:
        # The socket timeout must outlast BLOCK, or every quiet second looks like an outage.
        client = self._connect(read_timeout=self.block_ms / 1000 + 10)
        try:
            self._ensure_groups(client)
            self._connected()
            last_claim = time.monotonic()
            while not self._halt.is_set():
                try:
                    self._drain_own_pending(client)
                    while not self._halt.is_set():
                        if time.monotonic() - last_claim >= self.claim_every_s:
                            last_claim = time.monotonic()
                            self._claim_abandoned(client)
                        self._read_new(client)
                        self._maybe_flush()
                except MemoryError:
                    self._count = 1
                    self._reset(client)  # the reply was read part-way: the connection is out of step
                    self._drain_own_pending(client)  # what that read delivered, one at a time
                except StoreDown:
                    self._maybe_flush()
                    self._halt.wait(self._store_retry.next())
                except redis.ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    log.warning("%s: consumer group vanished (%s); creating it again", self.stats.name, exc)
                    self._ensure_groups(client)
        finally:
            client.close()

    def _ensure_groups(self, client: redis.Redis) -> None:
        """Start at "0" so a new group also takes what was written before it existed."""
        for stream in self.streams:
            try:
                client.xgroup_create(stream, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _drain_own_pending(self, client: redis.Redis) -> None:
        """Entries delivered to this consumer but never acknowledged (a crash, a store
        outage): read by id from "0" until none are left, before taking new ones. One that
        cannot be held in memory even alone is dead-lettered unread, so it cannot stop the rest."""
        for stream in self.streams:
            after = "0"
            while not self._halt.is_set():
                try:
                    reply = client.xreadgroup(self.group, self.consumer, {stream: after}, count=self._count)
                except MemoryError:
                    self._reset(client)
                    if self._count > 1:
                        self._count = 1
                        continue
                    skipped = self._skip_unreadable(client, stream, after)
                    if skipped is None:
                        break  # nothing pending to blame: the next read tries again
                    after = skipped
                    continue
                entries = [entry for _, batch in _stream_batches(reply) for entry in batch]
                if not entries:
                    break
                self._settle(client, stream, entries)
                after = _text(entries[-1][0])

    def _skip_unreadable(self, client: redis.Redis, stream: str, after: str) -> str | None:
        """Dead-letter and acknowledge this consumer's next pending entry after ``after``
        without reading it; its id, or None if there is none."""
        head = client.xpending_range(
            stream, self.group, min="-" if after == "0" else f"({after}", max="+", count=1, consumername=self.consumer
        )
        if not head:
            return None
        raw = head[0]["message_id"]
        entry_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        self.pipeline.refuse(b"", f"{stream}#{entry_id}", Reason.TOO_LARGE, "too large to read into memory")
        client.xack(stream, self.group, entry_id)
        return entry_id

    @staticmethod
    def _reset(client: redis.Redis) -> None:
        client.connection_pool.disconnect()

    def _read_new(self, client: redis.Redis) -> None:
        reply = client.xreadgroup(
            self.group, self.consumer, {s: ">" for s in self.streams}, count=self._count, block=self.block_ms
        )
        for stream, entries in _stream_batches(reply):
            self._settle(client, stream, entries)

    def _claim_abandoned(self, client: redis.Redis) -> None:
        """Take over entries idle longer than ``claim_idle_ms`` in other consumers' lists."""
        for stream in self.streams:
            start = "0-0"
            for _ in range(100):  # bounded, so a huge backlog cannot starve new entries
                next_start, claimed, *_ = client.xautoclaim(
                    stream, self.group, self.consumer, min_idle_time=self.claim_idle_ms, start_id=start, count=self._count
                )
                if claimed:
                    log.info("%s: claimed %d abandoned entries from %s", self.stats.name, len(claimed), stream)
                    self._settle(client, stream, claimed)
                start = _text(next_start)
                if start == "0-0":
                    break

    def _settle(self, client: redis.Redis, stream: str, entries: list[Entry]) -> None:
        """Handle each entry, then XACK the handled ones in one round trip. If the store
        fails, the handled ones are still acknowledged and the rest stay pending."""
        self._budget(entries)
        done: list[bytes] = []
        ahead = [self._decode(stream, entry_id, fields) for entry_id, fields in entries]  # ``Pipeline.decode`` says why
        try:
            for (entry_id, fields), decoded in zip(entries, ahead, strict=True):
                if self._handle(stream, entry_id, fields, decoded):
                    self._store_retry.reset()
                done.append(entry_id)
        except StoreDown:
            if done:
                client.xack(stream, self.group, *done)
            raise
        if done:
            client.xack(stream, self.group, *done)

    def _budget(self, entries: list[Entry]) -> None:
        """The next read's size: one entry after a read over ``READ_BUDGET_BYTES``, else
        double the last, up to ``count``."""
        size = sum(len(k) + len(v) for _, fields in entries for k, v in (fields or {}).items())
        self._count = 1 if size > READ_BUDGET_BYTES else min(self.count, self._count * 2)

    def _decode(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes] | None) -> Event | Rejected | None:
        """What the entry's payload says, before any entry of the read is stored; None without one."""
        payload = fields.get(self.field) if fields else None
        return None if payload is None else self.pipeline.decode(payload, f"{stream}#{_text(entry_id)}")

    def _handle(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes] | None, decoded: Event | Rejected | None) -> bool:
        """False for an entry deleted while pending (nothing to handle, only to ack)."""
        if not fields:
            return False
        origin = f"{stream}#{_text(entry_id)}"
        payload = fields.get(self.field)
        try:
            if payload is None:
                known = ", ".join(sorted(_text(k) for k in fields))
                self.pipeline.refuse(
                    b"", origin, Reason.MISSING_FIELD, f"stream entry has no field {_text(self.field)!r} (has: {known})"
                )
            else:
                self.pipeline.handle(payload, origin, decoded)
        except Exception as exc:
            log.error("%s: store failed on %s: %s; the entry stays pending", self.stats.name, origin, exc)
            raise StoreDown from exc
        return True


class RedisPubSubAdapter(_RedisAdapter):
    """Channels (or glob patterns such as ``pekanbaru:*``); at-most-once by nature."""

    def __init__(
        self,
        config: RedisSettings,
        normalizer: Decoder,
        sink: EventSink,
        *,
        name: str = "redis-pubsub",
        flush_every_s: float = 1.0,
        dead_letter_excerpt: int = 200,
    ) -> None:
        super().__init__(
            config, normalizer, sink, name=name, flush_every_s=flush_every_s, dead_letter_excerpt=dead_letter_excerpt
        )
        self.channels = [c for c in config.channels if not _is_pattern(c)]
        self.patterns = [c for c in config.channels if _is_pattern(c)]
        if not (self.channels or self.patterns):
            raise ValueError("feeds.redis.channels is empty")
        self._lost_in_a_row = 0  # messages the store refused since the last it took

    def _session(self) -> None:
        client = self._connect(read_timeout=None)  # health checks (PING) catch a dead link
        pubsub = client.pubsub()
        try:
            if self.channels:
                pubsub.subscribe(*self.channels)
            if self.patterns:
                pubsub.psubscribe(*self.patterns)
            confirmed = 0
            expected = len(self.channels) + len(self.patterns)
            while not self._halt.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is not None:
                    kind = message["type"]
                    if kind in ("subscribe", "psubscribe"):
                        confirmed += 1
                        if confirmed == expected:
                            self._connected()
                    elif kind in ("message", "pmessage"):
                        self._deliver(_text(message["channel"]), message["data"])
                self._maybe_flush()
        finally:
            pubsub.close()
            client.close()

    def _deliver(self, channel: str, data: bytes) -> None:
        """A message the store refuses is gone: there is nothing to redeliver from. Each is
        counted as a store error; the log says the first of a run with its cause, then every
        hundredth in one line, and the run's end, where a busy channel's outage was a
        traceback for every message."""
        try:
            self.pipeline.handle(data, channel)
        except Exception as exc:
            self._lost_in_a_row += 1
            lost = self._lost_in_a_row
            if lost == 1:
                log.error("%s: store failed; a pub/sub message from %s is lost", self.stats.name, channel, exc_info=True)
            elif lost % 100 == 0:
                log.error(
                    "%s: store failed; %d pub/sub messages lost in a row, the last from %s: %s: %s",
                    self.stats.name,
                    lost,
                    channel,
                    type(exc).__name__,
                    exc,
                )
            return
        if self._lost_in_a_row:
            log.warning("%s: the store takes messages again, after %d lost in a row", self.stats.name, self._lost_in_a_row)
            self._lost_in_a_row = 0


def _stream_batches(reply: Any) -> list[tuple[str, list[Entry]]]:
    """XREADGROUP's reply as (stream, entries), for RESP2 (list) and RESP3 (dict) alike."""
    if not reply:
        return []
    pairs = reply.items() if isinstance(reply, dict) else reply
    return [(_text(stream), list(entries)) for stream, entries in pairs]


def _is_pattern(channel: str) -> bool:
    return any(ch in channel for ch in "*?[")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

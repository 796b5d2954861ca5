"""The Redis store: the one source of truth that every ingest process and web worker shares.

It behaves exactly like ``MemoryStore`` (the contract suite runs both), but its state lives in
Redis so that a page reload, a web restart or a second host loses nothing.

Key layout (names in ``dashboard.store.redis_keys``)
-----------------------------------------------------
Every key is ``<prefix>:{<prefix>:<family>}:<name>``. A Redis Cluster places a key by the
part in braces only (its hash tag), so each *family* sits in one slot and the families are
spread over the masters. A family is what one atomic write touches, and no more:

=============  =================================================================================
tag            holds
=============  =================================================================================
``incidents``  ``incident`` and ``incident_ops`` (the operators' record, whose compare-and-swap
               rewrites the incident's rows), every ``incidents:*`` read model (``ix:`` keys in
               order, ``ixr:`` rows, ``ixm:`` key and tags per id, ``ixc:`` counts per tag)
``reports``    ``report`` and the ``reports:*`` read models
``drainage``   ``water_level`` stations and their level series
``waste``      ``waste_fill`` sites and their fill series
``mpp``        ``queue`` counters and their served-today series
``kpis``       ``kpi`` readings and the sampled ``kpi:`` / ``kpi_h:`` series
``feeds``      feed health (``feeds`` set, ``feed:<name>:counts|status``), the dead letters
``ops``        ``wall_control``, the audit trail, the named maps (identity), the epoch
``other``      any kind, read model or series not named above
=============  =================================================================================

Each family also holds its own ``version`` (a counter), ``version:kind`` (a counter
per kind), ``seen`` (arrival time per kind) and ticker (``recent``, with ``recent:clock``).
Why so:

- An upsert is one Lua script on one slot: the newer-than check, the entity, its read-model
  rows and tag counts, its series point, its ticker line and the family's counters change
  together or not at all. Every key a script touches is passed in KEYS (none is built inside
  Lua), so during a slot migration Redis itself sends the script where all its keys are, or
  answers TRYAGAIN (the feed then retries); a script never writes a key on a node that no
  longer holds it, where the migration would then lose or overwrite the write (which is how
  the single-tag layout lost counter increments). ``trim``, which picks its victims inside
  the script, is told the candidates' series keys first and evicts only if they are still
  the oldest.
- A family is the natural shard: an incident's rows must stay with the incident (the queue,
  the counts per tag and the paginated API read them as one ordered set), so incidents are
  not split by kecamatan; what varies independently (stations, MPP, KPIs, feed health) is
  apart, so a 500 msg/s mix lands on several masters. Which master holds a family follows
  from its tag's slot; an operator places a family by moving that one slot
  (``CLUSTER KEYSLOT {citywall:incidents}``). A single Redis or a Sentinel master simply
  holds all tags.
- What spans families is read per family in one non-transactional pipeline (a cluster sends
  each command to its slot's master; a MULTI could not span slots): the store's ``version``
  is the sum of the families' counters, ``kind_versions``, ``last_seen`` and the ticker are
  merged from each family. Each counter only grows (INCR, persisted with the data), so a
  later read of the sum is never smaller than an earlier one, also across a restart with
  AOF; readers that wait for a version above the one they saw keep working.
- The ticker is one list per family, each line behind an order stamp (the server's
  microseconds, kept above the family's previous stamp); ``recent`` merges the families'
  heads by stamp. On one Redis that is the exact arrival order; on a cluster two families'
  lines that arrive within the masters' clock skew may swap, which a ticker can afford.
- Change notification is one PUBLISH per change on ``<prefix>:changed`` with the family and
  its counter. It is a channel, not a key: a cluster forwards it to subscribers on every node,
  so one subscription per process hears every family. Waiters then read the version again.

The layout changed with the cluster-ready key names: data written under the older single tag
(``<prefix>:{<prefix>}:*``) is not read and not migrated. Delete those keys after upgrading;
the city fills again from its feeds (stations, MPP and KPIs within minutes, incidents and
reports as they are next reported), and operator records, audit and identity start afresh.

Other choices and why:

- The scripts are in ``redis_scripts``, the change listener in ``redis_changes``; this module
  stays at about 630 lines because each method of ``RedisStore`` is the one place where a
  call of the store contract meets its keys and its script, and the contract reads best whole.

- Documents are stored as JSON text and never decoded inside Lua (cjson would turn large
  integers into floats and ``null`` into a sentinel), so what comes back is exactly what went in.
- Numbers cross the wire as ``repr(float)`` and are printed in Lua with ``%.17g``; both
  round-trip a double exactly, so bucket and horizon comparisons match the memory store.
- Series buckets are computed here, in Python, with ``base.bucket``: Lua's ``floor(t/step)``
  can differ from Python's ``t // step`` in the last ulp.
- A notification lost during a reconnect can only delay a page by its timeout, never hide a
  change: the version is read before and after waiting.
- The connection retries with exponential backoff, so a Redis restart is ridden out; when the
  retries are spent, calls raise, and the ingest side must then not acknowledge its message.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ConnectionError,
    OutOfMemoryError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from redis.retry import Retry

from dashboard.store import redis_client
from dashboard.store.base import CapReached, IndexRow, SeriesPoint, bucket, entity_series
from dashboard.store.redis_changes import RETRY_BASE_S, RETRY_CAP_S, ChangeListener
from dashboard.store.redis_keys import KeyLayout
from dashboard.store.redis_scripts import ADD_POINT_LUA, DELETE_LUA, MAP_REPLACE_LUA, SWAP_LUA, TRIM_LUA, UPSERT_LUA
from feeds.sink import StoreUnavailable

#: ``MemoryStore`` keeps its ticker and dead letters in deques with these ``maxlen``; a larger
#: ``keep`` is silently capped there, so it is capped here too.
RECENT_CAP = 500
DEAD_CAP = 10_000

#: Three retries after 0.2, 0.4 and 0.8 s (redis-py waits ``base * 2**failures``): about
#: 1.4 s of patience, enough for a Redis restart with a modest append-only file, short enough
#: that a dead Redis surfaces quickly. The library's default base (8 ms) would give up after
#: about 0.1 s, before a restarting Redis even listens again.
RETRIES = 3
#: The health probe's own connection: no retries, half a second, so a dead or hung Redis is
#: reported within a second instead of after the data connection's patience.
PROBE_TIMEOUT_S = 0.5
#: ``trim`` reads the oldest ids, then evicts them only if they are still the oldest; a peer
#: writing the same kind in between makes it read again, at most this often.
TRIM_ATTEMPTS = 20


class RedisStore:
    """``StateStore`` on Redis, shared by any number of processes on any number of hosts."""

    def __init__(self, url: str, prefix: str = "citywall") -> None:
        self._client = _connect(url)
        self.keys = KeyLayout(prefix)
        self._channel = self.keys.channel
        self._upsert = self._client.register_script(UPSERT_LUA)
        self._add_point = self._client.register_script(ADD_POINT_LUA)
        self._delete = self._client.register_script(DELETE_LUA)
        self._trim = self._client.register_script(TRIM_LUA)
        self._swap = self._client.register_script(SWAP_LUA)
        self._map_replace = self._client.register_script(MAP_REPLACE_LUA)
        self._listener = ChangeListener(self._client, self._channel)
        self._probe = redis_client.connect(
            url,
            decode_responses=True,
            socket_timeout=PROBE_TIMEOUT_S,
            socket_connect_timeout=PROBE_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._epoch_seen: str | None = None

    # --- writes (ingest side) -------------------------------------------------------------
    def upsert(
        self,
        kind: str,
        entity_id: str,
        observed_at: float,
        doc: dict[str, Any],
        *,
        series: SeriesPoint | None = None,
        recent: dict[str, Any] | None = None,
        recent_keep: int = 50,
        cap: int | None = None,
        rows: tuple[IndexRow, ...] = (),
        urgent: bool = False,
    ) -> bool:
        """One EVALSHA on the kind's family: the newer-than check, the cap and every effect
        (rows, series point, ticker line, counters) happen atomically, on one slot."""
        family = self.keys.family_of_kind(kind)
        k = self.keys
        keys = [
            k.idx(kind),
            k.ent(kind),
            k.seen(family),
            k.version(family),
            k.kinds(family),
            k.ticker(family),
            k.ticker_clock(family),
            *self._row_keys(family, kind, rows),
        ]
        args: list[str | int] = [
            kind,
            entity_id,
            _num(observed_at),
            _dumps(doc),
            self._channel,
            family,
            "0" if recent is None else "1",
            "" if recent is None else _dumps(recent),
            min(recent_keep, RECENT_CAP),
            -1 if cap is None else cap,
            *_row_args(rows),
        ]
        if series is not None:
            keys.append(self._series_key(family, kind, series.key))
            args += _point_args(series)
        args.append("1" if urgent else "0")
        with _writing():
            result = int(self._upsert(keys=keys, args=args))
        if result < 0:
            raise CapReached(kind)
        return bool(result)

    def count(self, kind: str) -> int:
        with _writing():  # ingest's housekeeping counts before it writes: an outage must make it retry
            return int(self._client.zcard(self.keys.idx(kind)))

    def add_point(self, point: SeriesPoint) -> None:
        """A script, not a pipeline: replace-in-bucket and trim must not interleave with a peer."""
        with _writing():
            self._add_point(keys=[self.keys.series(point.key)], args=_point_args(point))

    def delete(self, kind: str, entity_ids: list[str], indexes: tuple[str, ...] = ()) -> int:
        """Series ``<kind>:<id>`` go too, as in MemoryStore: a pruned station's trend must not
        come back with a new station of the same id. Each id's series key is named in KEYS."""
        if not entity_ids:
            return 0
        family, k = self.keys.family_of_kind(kind), self.keys
        index_keys = [key for name in indexes for key in self._index_keys(family, kind, name)]
        keys = [
            k.idx(kind),
            k.ent(kind),
            k.version(family),
            k.kinds(family),
            *index_keys,
            *(self._series_key(family, kind, entity_series(kind, i)) for i in entity_ids),
        ]
        args: list[str | int] = [self._channel, family, kind, len(indexes), *entity_ids]
        with _writing():
            return int(self._delete(keys=keys, args=args))

    def trim(self, kind: str, keep: int) -> int:
        """Atomic, so an entity refreshed by a concurrent upsert is never evicted as 'oldest'.

        The oldest ids are read first, so that the script can be given their series keys; the
        script evicts only if they are still the oldest, else they are read again."""
        family, k = self.keys.family_of_kind(kind), self.keys
        for _ in range(TRIM_ATTEMPTS):
            with _writing():
                excess = int(self._client.zcard(k.idx(kind))) - keep
                if excess <= 0:
                    return 0
                ids = _texts(self._client.zrange(k.idx(kind), 0, excess - 1))
            keys = [
                k.idx(kind),
                k.ent(kind),
                k.version(family),
                k.kinds(family),
                *(self._series_key(family, kind, entity_series(kind, i)) for i in ids),
            ]
            with _writing():
                gone = int(self._trim(keys=keys, args=[self._channel, family, kind, keep, *ids]))
            if gone >= 0:
                return gone
        raise StoreUnavailable(f"redis: the oldest {kind} kept changing while {TRIM_ATTEMPTS} trims were tried")

    def dead_letter(self, doc: dict[str, Any], keep: int) -> None:
        key = self.keys.dead()
        pipe = self._client.pipeline(transaction=True)
        pipe.lpush(key, _dumps(doc))
        _bound_list(pipe, key, min(keep, DEAD_CAP))
        with _writing():
            pipe.execute()

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        """Counts are deltas (HINCRBY) so several ingest processes can report the same feed.
        Every feed's keys share the ``feeds`` family's slot, so this stays one MULTI/EXEC."""
        pipe = self._client.pipeline(transaction=True)
        pipe.sadd(self.keys.feed_names(), feed)
        for name, delta in counts.items():
            pipe.hincrby(self.keys.feed(feed, "counts"), name, delta)
        if status:
            pipe.hset(self.keys.feed(feed, "status"), mapping={k: _dumps(v) for k, v in status.items()})
        with _writing():
            pipe.execute()

    def forget_feed(self, feed: str) -> None:
        pipe = self._client.pipeline(transaction=True)
        pipe.srem(self.keys.feed_names(), feed)
        pipe.delete(self.keys.feed(feed, "counts"), self.keys.feed(feed, "status"))
        with _writing():
            pipe.execute()

    # --- reads (web side) -----------------------------------------------------------------
    def entities(self, kind: str) -> dict[str, dict[str, Any]]:
        return {i: json.loads(doc) for i, doc in _text_map(self._client.hgetall(self.keys.ent(kind))).items()}

    def get(self, kind: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.get_each({kind: entity_ids})[kind]

    def get_each(self, wanted: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
        asked = [(kind, ids) for kind, ids in wanted.items() if ids]
        pipe = self._client.pipeline(transaction=False)
        for kind, ids in asked:
            pipe.hmget(self.keys.ent(kind), ids)
        with _writing():  # ingest reads this before each write: an outage must make it retry, not dead-letter
            replies = pipe.execute() if asked else []
        out: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in wanted}
        for (kind, ids), docs in zip(asked, replies, strict=True):
            out[kind] = {i: json.loads(doc) for i, doc in zip(ids, docs, strict=True) if doc is not None}
        return out

    def oldest(self, kind: str, before: float, limit: int = 1_000) -> list[str]:
        """Ties on observed_at come back by id, as ZSET order has it (and as MemoryStore sorts)."""
        if limit == 0:
            return []
        if limit < 0:  # the memory store slices ``[:limit]``: "all but the last -limit"
            return self.oldest(kind, before, limit=2**62)[:limit]
        with _writing():  # ingest's housekeeping reads this before it deletes
            ids = self._client.zrangebyscore(self.keys.idx(kind), "-inf", f"({_num(before)}", start=0, num=limit)
        return list(_texts(ids))

    def series(self, key: str, since: float = 0.0) -> list[tuple[float, float]]:
        members = self._client.zrangebyscore(self.keys.series(key), _num(since), "+inf")
        return [_decode_member(m) for m in _texts(members)]

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The families' tickers merged by their order stamps, newest first.

        Each family keeps its newest ``keep`` lines, so the newest ``keep`` of the city are
        among them; the ``keep`` that counts is the one given with the newest line (as in
        MemoryStore, where every ticker line trims one shared list)."""
        if limit <= 0:
            return []
        pipe = self._client.pipeline(transaction=False)
        for family in self.keys.families:
            pipe.lrange(self.keys.ticker(family), 0, limit - 1)
            pipe.hmget(self.keys.ticker_clock(family), ["last", "keep"])
        replies = pipe.execute()
        lines: list[tuple[int, str]] = []
        newest, keep = -1, 0
        for family_lines, (last, family_keep) in zip(replies[0::2], replies[1::2], strict=True):
            for line in _texts(family_lines):
                stamp, _, text = line.partition("|")
                lines.append((int(stamp), text))
            if last is not None and int(last) > newest:
                newest, keep = int(last), int(family_keep)
        lines.sort(key=lambda line: line[0], reverse=True)
        return [json.loads(text) for _, text in lines[: min(limit, keep)]]

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._head(self.keys.dead(), limit)

    def feeds(self) -> dict[str, dict[str, Any]]:
        names = sorted(_text_set(self._client.smembers(self.keys.feed_names())))
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.keys.feed(name, "counts"))
            pipe.hgetall(self.keys.feed(name, "status"))
        replies = pipe.execute()
        out: dict[str, dict[str, Any]] = {}
        for name, counts, status in zip(names, replies[0::2], replies[1::2], strict=True):
            out[name] = {"counts": {k: int(v) for k, v in counts.items()}, **{k: json.loads(v) for k, v in status.items()}}
        return out

    def last_seen(self) -> dict[str, float]:
        """Each family's arrival times, read together (a kind has exactly one family)."""
        out: dict[str, float] = {}
        for seen in self._per_family(self._client, self.keys.seen, "hgetall"):
            out.update({kind: float(t) for kind, t in _text_map(seen).items()})
        return out

    def version(self) -> int:
        """The sum of the families' counters, read in one pipeline (see the module's docstring:
        each counter only grows, so the sum read later is never smaller)."""
        return _sum_versions(self._per_family(self._client, self.keys.version, "get"))

    def wait_changed(self, since: int, timeout: float) -> int:
        return self._listener.wait(since, timeout, self.version)

    def urgent_changes(self) -> int:
        return self._listener.urgent

    def listening(self) -> bool:
        """Whether this process hears changes now: its subscription is up (from the first
        ``wait_changed`` on). What was published before is not heard."""
        return self._listener.listening

    def kind_versions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kinds in self._per_family(self._client, self.keys.kinds, "hgetall"):
            out.update({kind: int(v) for kind, v in _text_map(kinds).items()})
        return out

    def family_versions(self) -> dict[str, int]:
        """Per family, its change counter: what ``version`` adds up (for operators and tests)."""
        values = self._per_family(self._client, self.keys.version, "get")
        return {family: int(v or 0) for family, v in zip(self.keys.families, values, strict=True)}

    # --- read models: a sorted set of keys (all scores 0, so string order), the rows, the
    # --- meta (key and tags) per id, the row per key, and the counts per tag --------------------------------
    def index_page(
        self, index: str, after: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        if limit <= 0:
            return []
        zset, rows, _, _ = self.keys.index(index)
        if after is not None:
            keys = _texts(self._client.zrange(zset, f"({after}", "+", bylex=True, offset=0, num=limit))
        else:
            keys = _texts(self._client.zrange(zset, max(offset, 0), max(offset, 0) + limit - 1))
        if not keys:
            return []
        docs = self._client.hmget(rows, keys)
        return [(k, json.loads(d)) for k, d in zip(keys, docs, strict=True) if d is not None]

    def index_count(self, index: str, low: str | None = None, high: str | None = None) -> int:
        zset = self.keys.index(index)[0]
        if low is None and high is None:
            return int(self._client.zcard(zset))
        return int(self._client.zlexcount(zset, "-" if low is None else f"[{low}", "+" if high is None else f"({high}"))

    def index_tags(self, index: str) -> dict[str, int]:
        counts = self.keys.index(index)[3]
        return {tag: int(n) for tag, n in _text_map(self._client.hgetall(counts)).items() if int(n) > 0}

    def health_check(self) -> dict[str, Any]:
        """Version, epoch and the last reset, over the probe connection (raises when away).

        A missing epoch is written (SET NX, so one process wins); when this process had seen
        an earlier epoch, the store was emptied under it, and the reset is recorded in the
        store for every process to show: ``reset_at`` (epoch seconds) and the previous epoch.
        """
        keys = self.keys.epoch(), self.keys.reset()
        pipe = self._probe.pipeline(transaction=False)
        for family in self.keys.families:
            pipe.get(self.keys.version(family))
        pipe.get(keys[0])
        pipe.hgetall(keys[1])
        *versions, epoch, reset = pipe.execute()
        version = _sum_versions(versions)
        reset_now = False
        if epoch is None or (self._epoch_seen is not None and epoch != self._epoch_seen):
            if epoch is None:
                self._probe.set(keys[0], f"{time.time():.0f}-{uuid.uuid4().hex[:12]}", nx=True)
                epoch = self._probe.get(keys[0])
            if self._epoch_seen is not None:
                record = {"at": repr(time.time()), "previous": self._epoch_seen, "epoch": epoch}
                reset_now = bool(self._probe.hsetnx(keys[1], "epoch", epoch))
                if reset_now:
                    self._probe.hset(keys[1], mapping=record)
                reset = self._probe.hgetall(keys[1])
        previous, self._epoch_seen = self._epoch_seen, epoch
        return {
            "version": version,
            "epoch": epoch,
            "reset_at": float(reset["at"]) if reset.get("at") else None,
            "reset_now": reset_now,
            "previous_epoch": previous if reset_now else None,
        }

    # --- named maps (identity): one hash per map --------------------------------------------
    def map_get(self, name: str, key: str) -> str | None:
        value = self._client.hget(self.keys.named_map(name), key)
        return None if value is None else _text(value)

    def map_all(self, name: str) -> dict[str, str]:
        return dict(_text_map(self._client.hgetall(self.keys.named_map(name))))

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False, replacing: str | None = None) -> bool:
        """HSETNX for ``only_new``: atomic, so two workers generating a secret agree on one;
        a script for ``replacing``, which compares and sets in one step on the server."""
        if only_new:
            return bool(self._client.hsetnx(self.keys.named_map(name), key, value))
        if replacing is not None:
            return bool(self._map_replace(keys=[self.keys.named_map(name)], args=[key, replacing, value]))
        self._client.hset(self.keys.named_map(name), key, value)
        return True

    def map_delete(self, name: str, key: str) -> bool:
        return bool(self._client.hdel(self.keys.named_map(name), key))

    def count_up(self, name: str, key: str, ttl_s: float) -> int:
        """The expiry is set by the first count only (SET NX), in the same transaction as the
        count: a worker that dies between the two leaves no counter that never expires."""
        counter = self.keys.counter(name, key)
        pipe = self._client.pipeline(transaction=True)
        pipe.set(counter, 0, px=max(1, int(ttl_s * 1_000)), nx=True)
        pipe.incr(counter)
        return int(pipe.execute()[1])

    def counted(self, name: str, key: str) -> int:
        value = self._client.get(self.keys.counter(name, key))
        return 0 if value is None else int(value)

    def count_clear(self, name: str, key: str) -> None:
        self._client.delete(self.keys.counter(name, key))

    def ping(self) -> bool:
        """False rather than an exception: health checks want an answer, not a traceback."""
        return self.ping_error() is None

    def ping_error(self) -> Exception | None:
        try:
            self._client.ping()
        except (RedisError, OSError) as exc:
            return exc
        return None

    def close(self) -> None:
        """Disconnecting the pool also breaks the listener out of its blocking read."""
        self._listener.stop()
        self._client.close()
        self._probe.close()
        self._listener.join()

    # --- operations: compare-and-swap records and the audit trail -------------------------
    def read_stamped(self, kind: str, entity_id: str) -> tuple[float, dict[str, Any]] | None:
        pipe = self._client.pipeline(transaction=True)
        pipe.zscore(self.keys.idx(kind), entity_id)
        pipe.hget(self.keys.ent(kind), entity_id)
        stamp, doc = pipe.execute()
        if stamp is None or doc is None:
            return None
        return float(stamp), json.loads(doc)

    def swap(
        self,
        kind: str,
        entity_id: str,
        expect: float | None,
        observed_at: float,
        doc: dict[str, Any],
        rows: tuple[IndexRow, ...] = (),
    ) -> bool:
        """One script: the stamp comparison and the write cannot interleave with a peer's."""
        family, k = self.keys.family_of_kind(kind), self.keys
        keys = [k.idx(kind), k.ent(kind), k.version(family), k.kinds(family), *self._row_keys(family, kind, rows)]
        args = [
            self._channel,
            family,
            entity_id,
            "" if expect is None else _num(expect),
            _num(observed_at),
            _dumps(doc),
            kind,
            *_row_args(rows),
        ]
        return bool(self._swap(keys=keys, args=args))

    def append_audit(self, entry: dict[str, Any], keep: int) -> None:
        key = self.keys.audit()
        pipe = self._client.pipeline(transaction=True)
        pipe.lpush(key, _dumps(entry))
        _bound_list(pipe, key, keep)
        pipe.execute()

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._head(self.keys.audit(), max(limit, 0))

    # --- internals ------------------------------------------------------------------------
    def _row_keys(self, family: str, kind: str, rows: tuple[IndexRow, ...]) -> list[str]:
        return [key for row in rows for key in self._index_keys(family, kind, row.index)]

    def _index_keys(self, family: str, kind: str, index: str) -> tuple[str, str, str, str]:
        """A read model written with ``kind`` must live in the kind's family: one script, one slot."""
        if self.keys.family_of_index(index) != family:
            raise ValueError(
                f"read model {index!r} is in family {self.keys.family_of_index(index)!r}, kind {kind!r} in "
                f"{family!r}: one atomic write cannot span two families (dashboard.store.redis_keys)"
            )
        return self.keys.index(index)

    def _series_key(self, family: str, kind: str, key: str) -> str:
        if self.keys.family_of_series(key) != family:
            raise ValueError(
                f"series {key!r} is in family {self.keys.family_of_series(key)!r}, kind {kind!r} in "
                f"{family!r}: one atomic write cannot span two families (dashboard.store.redis_keys)"
            )
        return self.keys.series(key)

    def _per_family(self, client: Any, key: Callable[[str], str], command: str) -> list[Any]:
        """One command per family in one non-transactional pipeline: on a cluster the pipeline
        sends each to its master (a transaction could not span slots)."""
        pipe = client.pipeline(transaction=False)
        for family in self.keys.families:
            getattr(pipe, command)(key(family))
        return cast(list[Any], pipe.execute())

    def _head(self, key: str, limit: int) -> list[dict[str, Any]]:
        """``list[:limit]`` semantics: LRANGE 0 limit-1 matches them except for limit 0."""
        if limit == 0:
            return []
        return [json.loads(item) for item in self._client.lrange(key, 0, limit - 1)]


# --- helpers ------------------------------------------------------------------------------
#: Replies that say "not now" about Redis itself, never about what was sent.
_UNAVAILABLE_REPLIES = ("LOADING", "OOM", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "MISCONF", "BUSY", "NOREPLICAS")


@contextmanager
def _writing() -> Iterator[None]:
    """Raise ``StoreUnavailable`` for an outage, so the feed retries only what can succeed later.

    Anything else (a reply about the data, a value that cannot be encoded) passes through
    unchanged: the feed then dead-letters that one message and carries on.
    """
    try:
        yield
    except RedisError as exc:
        if not is_outage(exc):
            raise
        name = type(exc).__name__ if isinstance(exc, _UNAVAILABLE_ERRORS) else _reply_code(cast(ResponseError, exc))
        raise StoreUnavailable(f"redis: {name}") from exc


def is_refused_login(exc: BaseException) -> bool:
    """Whether Redis answered and refused the user or the password in the store's URL. redis-py
    makes that a ``ConnectionError``, so it read as an outage: a start said "no answer", and
    ``citywall ingest`` retried for ever."""
    return isinstance(exc, AuthenticationError) or (
        isinstance(exc, ResponseError) and _reply_code(exc) in ("NOAUTH", "WRONGPASS")
    )


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the store is away or moving (retry later), not that a read or a
    write was wrong: what ``_writing`` turns into ``StoreUnavailable``, and that itself."""
    if isinstance(exc, (StoreUnavailable, *_UNAVAILABLE_ERRORS)):
        return True
    return isinstance(exc, ResponseError) and _reply_code(exc) in _UNAVAILABLE_REPLIES


def _reply_code(exc: ResponseError) -> str:
    """The error reply's code ("OOM", "NOREPLICAS"); redis-py puts the failing command before
    it for a pipeline ("Command # 1 (SADD ...) of pipeline caused error: OOM ..."), where the
    code was not found and a full Redis dead-lettered the message instead of retrying it."""
    text = str(exc)
    _, marker, reply = text.partition("caused error: ")
    return (reply if marker else text).split(" ", 1)[0]


#: Errors that mean the store is away or moving, not that the data is wrong.
_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    BusyLoadingError,
    OutOfMemoryError,  # redis-py's class for OOM where it recognises the reply
    *redis_client.OUTAGE_ERRORS,
)


# The client decodes every reply (``decode_responses=True``), which redis-py's types cannot
# express: they say ``bytes | str`` throughout. These name the decoded shape; no conversion.
def _text(reply: Any) -> str:
    return cast(str, reply)


def _texts(reply: Any) -> list[str]:
    return cast(list[str], reply)


def _text_set(reply: Any) -> set[str]:
    return cast(set[str], reply)


def _text_map(reply: Any) -> dict[str, str]:
    return cast(dict[str, str], reply)


def _connect(url: str) -> redis.Redis:
    """A single Redis, a Cluster or a Sentinel master, as the URL says (``redis_client``)."""
    return redis_client.connect(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_keepalive=True,
        socket_connect_timeout=5,
        socket_timeout=10,
        retry=Retry(ExponentialBackoff(cap=RETRY_CAP_S, base=RETRY_BASE_S), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError],
    )


def _num(x: float) -> str:
    """``repr`` of the double: Redis parses it with strtod back to the very same value."""
    return repr(float(x))


def _dumps(value: Any) -> str:
    """Plain JSON, so floats stay floats and None stays None; a non-JSON value raises here."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _row_args(rows: tuple[IndexRow, ...]) -> list[str | int]:
    """How many rows, then id, meta ("key\x1ftag..." or '' to remove) and doc of each."""
    args: list[str | int] = [len(rows)]
    for row in rows:
        meta = "" if row.key is None else "\x1f".join((row.key, *row.tags))
        args += [row.id, meta, "" if row.key is None else _dumps(row.doc or {})]
    return args


def _sum_versions(replies: list[Any]) -> int:
    return sum(int(v) for v in replies if v is not None)


def _point_args(point: SeriesPoint) -> list[str | int]:
    b = _num(bucket(point.t, point.step_s))
    return [b, f"{b}|{_dumps(point.value)}", point.max_points, _num(point.max_age_s)]


def _decode_member(member: str) -> tuple[float, float]:
    """The member carries bucket and value (JSON), so an int stays an int as in MemoryStore."""
    t, _, value = member.partition("|")
    return float(t), json.loads(value)


def _bound_list(pipe: Any, key: str, keep: int) -> None:
    """LTRIM 0 -1 would keep everything, while ``keep <= 0`` means keep nothing."""
    if keep > 0:
        pipe.ltrim(key, 0, keep - 1)
    else:
        pipe.delete(key)


def _quietly(action: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already gone
        action()

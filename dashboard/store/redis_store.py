"""The Redis store: the one source of truth that every ingest process and web worker shares.

It behaves exactly like ``MemoryStore`` (the contract suite runs both), but its state lives in
Redis so that a page reload, a web restart or a second host loses nothing. Choices and why:

- Each write that must be atomic is one Lua script, so concurrent ingest processes cannot
  interleave "compare observed_at" with "apply", and an upsert costs one round trip (EVALSHA).
- Every key carries the hash tag ``{<prefix>}``: all keys land in one slot, so the scripts
  (which touch several keys, some named inside the script) stay valid on Redis Cluster.
- Documents are stored as JSON text and never decoded inside Lua (cjson would turn large
  integers into floats and ``null`` into a sentinel), so what comes back is exactly what went in.
- Numbers cross the wire as ``repr(float)`` and are printed in Lua with ``%.17g``; both
  round-trip a double exactly, so bucket and horizon comparisons match the memory store.
- Series buckets are computed here, in Python, with ``base.bucket``: Lua's ``floor(t/step)``
  can differ from Python's ``t // step`` in the last ulp.
- Change notification is PUBLISH of the new version, plus a GET before and after waiting, so a
  message lost during a reconnect can only delay a page by its timeout, never hide a change.
- The connection retries with exponential backoff, so a Redis restart is ridden out; when the
  retries are spent, calls raise, and the ingest side must then not acknowledge its message.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import BusyLoadingError, ConnectionError, RedisError, ResponseError, TimeoutError
from redis.retry import Retry

from dashboard.store import redis_client
from dashboard.store.base import CapReached, IndexRow, SeriesPoint, bucket
from feeds.sink import StoreUnavailable

#: ``MemoryStore`` keeps its ticker and dead letters in deques with these ``maxlen``; a larger
#: ``keep`` is silently capped there, so it is capped here too.
RECENT_CAP = 500
DEAD_CAP = 10_000

#: Three retries after 0.2, 0.4 and 0.8 s (redis-py waits ``base * 2**failures``): about
#: 1.4 s of patience, enough for a Redis restart with a modest append-only file, short enough
#: that a dead Redis surfaces quickly. The library's default base (8 ms) would give up after
#: about 0.1 s, before a restarting Redis even listens again.
RETRY_BASE_S = 0.1
RETRY_CAP_S = 2.0
RETRIES = 3
#: The health probe's own connection: no retries, half a second, so a dead or hung Redis is
#: reported within a second instead of after the data connection's patience.
PROBE_TIMEOUT_S = 0.5

_LUA_LIB = r"""
local function add_point(key, b, member, max_points, max_age)
  -- last write of a bucket wins: drop whatever the bucket held, then add
  redis.call('ZREMRANGEBYSCORE', key, b, b)
  redis.call('ZADD', key, b, member)
  -- bound by age, relative to the newest point (not the one just written)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local horizon = tonumber(newest[2]) - max_age
  if horizon < 0 then horizon = 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%.17g', horizon))
  -- bound by count, oldest first
  local excess = redis.call('ZCARD', key) - max_points
  if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 0, excess - 1) end
end

local function remove(idx, ent, series_prefix, ids)
  local gone = 0
  for _, id in ipairs(ids) do
    gone = gone + redis.call('HDEL', ent, id)
    redis.call('ZREM', idx, id)
    redis.call('DEL', series_prefix .. id)
  end
  return gone
end

local function bump(version, channel, kind)
  local v = redis.call('INCR', version)
  redis.call('HINCRBY', version .. ':kind', kind, 1)
  redis.call('PUBLISH', channel, v)
  return v
end

-- a read model's row (see IndexRow): meta is "key\31tag\31tag..." or '' to remove the id
local function apply_row(base, name, id, meta, doc)
  local z, r, m, c = base .. 'ix:' .. name, base .. 'ixr:' .. name, base .. 'ixm:' .. name, base .. 'ixc:' .. name
  local old = redis.call('HGET', m, id)
  if old then
    local first = true
    for part in string.gmatch(old, '[^\31]+') do
      if first then
        redis.call('ZREM', z, part)
        redis.call('HDEL', r, part)
        first = false
      elseif redis.call('HINCRBY', c, part, -1) <= 0 then
        redis.call('HDEL', c, part)
      end
    end
  end
  if meta == '' then
    redis.call('HDEL', m, id)
    return
  end
  local first = true
  for part in string.gmatch(meta, '[^\31]+') do
    if first then
      redis.call('ZADD', z, 0, part)
      redis.call('HSET', r, part, doc)
      first = false
    else
      redis.call('HINCRBY', c, part, 1)
    end
  end
  redis.call('HSET', m, id, meta)
end

-- rows travel as groups of four arguments from position ``at``: name, id, meta, doc
local function apply_rows(base, argv, at, n)
  for i = 0, n - 1 do
    local j = at + 4 * i
    apply_row(base, argv[j], argv[j + 1], argv[j + 2], argv[j + 3])
  end
end
"""

# KEYS: idx, ent, seen, version, recent[, series]
# ARGV: kind, id, observed_at, doc, channel, has_recent, recent, recent_keep, cap (-1: none),
#       base, number of rows, rows (4 each) [, bucket, member, max_points, max_age]
_UPSERT_LUA = _LUA_LIB + r"""
local now = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], now[1] .. '.' .. string.format('%06d', tonumber(now[2])))
local stored = redis.call('ZSCORE', KEYS[1], ARGV[2])
if stored and tonumber(stored) >= tonumber(ARGV[3]) then return 0 end
local cap = tonumber(ARGV[9])
if not stored and cap >= 0 and redis.call('ZCARD', KEYS[1]) >= cap then return -1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
local nrows = tonumber(ARGV[11])
apply_rows(ARGV[10], ARGV, 12, nrows)
if KEYS[6] then
  local s = 12 + 4 * nrows
  add_point(KEYS[6], ARGV[s], ARGV[s + 1], tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3]))
end
if ARGV[6] == '1' then
  redis.call('LPUSH', KEYS[5], ARGV[7])
  local keep = tonumber(ARGV[8])
  if keep > 0 then redis.call('LTRIM', KEYS[5], 0, keep - 1) else redis.call('DEL', KEYS[5]) end
end
bump(KEYS[4], ARGV[5], ARGV[1])
return 1
"""

# KEYS: series; ARGV: bucket, member, max_points, max_age
_ADD_POINT_LUA = _LUA_LIB + r"""
add_point(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
return 1
"""

# KEYS: idx, ent, version; ARGV: channel, series_prefix, kind, base, number of indexes, index..., id...
_DELETE_LUA = _LUA_LIB + r"""
local nidx = tonumber(ARGV[5])
local ids = {}
for i = 6 + nidx, #ARGV do ids[#ids + 1] = ARGV[i] end
local gone = remove(KEYS[1], KEYS[2], ARGV[2], ids)
for i = 6, 5 + nidx do
  for _, id in ipairs(ids) do apply_row(ARGV[4], ARGV[i], id, '', '') end
end
if gone > 0 then bump(KEYS[3], ARGV[1], ARGV[3]) end
return gone
"""

# KEYS: idx, ent, version; ARGV: channel, series_prefix, keep, kind
_TRIM_LUA = _LUA_LIB + r"""
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess <= 0 then return 0 end
local ids = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
local gone = remove(KEYS[1], KEYS[2], ARGV[2], ids)
if gone > 0 then bump(KEYS[3], ARGV[1], ARGV[4]) end
return gone
"""

# KEYS: idx, ent, version; ARGV: channel, id, expect ('' when absent), observed_at, doc, kind, base,
#       number of rows, rows (4 each)
_SWAP_LUA = _LUA_LIB + r"""
local stored = redis.call('ZSCORE', KEYS[1], ARGV[2])
if ARGV[3] == '' then
  if stored then return 0 end
elseif (not stored) or tonumber(stored) ~= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[5])
apply_rows(ARGV[7], ARGV, 9, tonumber(ARGV[8]))
bump(KEYS[3], ARGV[1], ARGV[6])
return 1
"""


class RedisStore:
    """``StateStore`` on Redis, shared by any number of processes on any number of hosts."""

    def __init__(self, url: str, prefix: str = "citywall") -> None:
        self._client = _connect(url)
        self._base = f"{prefix}:{{{prefix}}}:"
        self._channel = self._key("changed")
        self._upsert = self._client.register_script(_UPSERT_LUA)
        self._add_point = self._client.register_script(_ADD_POINT_LUA)
        self._delete = self._client.register_script(_DELETE_LUA)
        self._trim = self._client.register_script(_TRIM_LUA)
        self._swap = self._client.register_script(_SWAP_LUA)
        self._listener = _ChangeListener(self._client, self._channel)
        self._probe = redis_client.connect(url, decode_responses=True, socket_timeout=PROBE_TIMEOUT_S,
                                           socket_connect_timeout=PROBE_TIMEOUT_S, retry=Retry(NoBackoff(), 0))
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
    ) -> bool:
        """One EVALSHA: the newer-than check, the cap and every effect happen atomically."""
        keys = [self._idx(kind), self._ent(kind), self._key("seen"), self._key("version"), self._key("recent")]
        args: list[str | int] = [
            kind,
            entity_id,
            _num(observed_at),
            _dumps(doc),
            self._channel,
            "0" if recent is None else "1",
            "" if recent is None else _dumps(recent),
            min(recent_keep, RECENT_CAP),
            -1 if cap is None else cap,
            *self._row_args(rows),
        ]
        if series is not None:
            keys.append(self._series(series.key))
            args += _point_args(series)
        with _writing():
            result = int(self._upsert(keys=keys, args=args))
        if result < 0:
            raise CapReached(kind)
        return bool(result)

    def count(self, kind: str) -> int:
        return int(self._client.zcard(self._idx(kind)))

    def add_point(self, point: SeriesPoint) -> None:
        """A script, not a pipeline: replace-in-bucket and trim must not interleave with a peer."""
        with _writing():
            self._add_point(keys=[self._series(point.key)], args=_point_args(point))

    def delete(self, kind: str, entity_ids: list[str], indexes: tuple[str, ...] = ()) -> int:
        """Series ``<kind>:<id>`` go too, as in MemoryStore: a pruned station's trend must not
        come back with a new station of the same id."""
        if not entity_ids:
            return 0
        keys = [self._idx(kind), self._ent(kind), self._key("version")]
        args: list[str | int] = [self._channel, self._series(f"{kind}:"), kind, self._base, len(indexes), *indexes, *entity_ids]
        return int(self._delete(keys=keys, args=args))

    def trim(self, kind: str, keep: int) -> int:
        """Atomic, so an entity refreshed by a concurrent upsert is never evicted as 'oldest'."""
        keys = [self._idx(kind), self._ent(kind), self._key("version")]
        return int(self._trim(keys=keys, args=[self._channel, self._series(f"{kind}:"), keep, kind]))

    def dead_letter(self, doc: dict[str, Any], keep: int) -> None:
        key = self._key("dead")
        pipe = self._client.pipeline(transaction=True)
        pipe.lpush(key, _dumps(doc))
        _bound_list(pipe, key, min(keep, DEAD_CAP))
        with _writing():
            pipe.execute()

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        """Counts are deltas (HINCRBY) so several ingest processes can report the same feed."""
        pipe = self._client.pipeline(transaction=True)
        pipe.sadd(self._key("feeds"), feed)
        for name, delta in counts.items():
            pipe.hincrby(self._feed(feed, "counts"), name, delta)
        if status:
            pipe.hset(self._feed(feed, "status"), mapping={k: _dumps(v) for k, v in status.items()})
        with _writing():
            pipe.execute()

    # --- reads (web side) -----------------------------------------------------------------
    def entities(self, kind: str) -> dict[str, dict[str, Any]]:
        return {i: json.loads(doc) for i, doc in _text_map(self._client.hgetall(self._ent(kind))).items()}

    def get(self, kind: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not entity_ids:
            return {}
        docs = self._client.hmget(self._ent(kind), entity_ids)
        return {i: json.loads(doc) for i, doc in zip(entity_ids, docs, strict=True) if doc is not None}

    def oldest(self, kind: str, before: float, limit: int = 1_000) -> list[str]:
        """Ties on observed_at come back by id, as ZSET order has it (and as MemoryStore sorts)."""
        if limit == 0:
            return []
        if limit < 0:  # the memory store slices ``[:limit]``: "all but the last -limit"
            return self.oldest(kind, before, limit=2**62)[:limit]
        ids = self._client.zrangebyscore(self._idx(kind), "-inf", f"({_num(before)}", start=0, num=limit)
        return list(_texts(ids))

    def series(self, key: str, since: float = 0.0) -> list[tuple[float, float]]:
        members = self._client.zrangebyscore(self._series(key), _num(since), "+inf")
        return [_decode_member(m) for m in _texts(members)]

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._head(self._key("recent"), limit)

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._head(self._key("dead"), limit)

    def feeds(self) -> dict[str, dict[str, Any]]:
        names = sorted(_text_set(self._client.smembers(self._key("feeds"))))
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._feed(name, "counts"))
            pipe.hgetall(self._feed(name, "status"))
        replies = pipe.execute()
        out: dict[str, dict[str, Any]] = {}
        for name, counts, status in zip(names, replies[0::2], replies[1::2], strict=True):
            out[name] = {"counts": {k: int(v) for k, v in counts.items()}, **{k: json.loads(v) for k, v in status.items()}}
        return out

    def last_seen(self) -> dict[str, float]:
        return {kind: float(t) for kind, t in _text_map(self._client.hgetall(self._key("seen"))).items()}

    def version(self) -> int:
        return int(self._client.get(self._key("version")) or 0)

    def wait_changed(self, since: int, timeout: float) -> int:
        return self._listener.wait(since, timeout, self.version)

    def kind_versions(self) -> dict[str, int]:
        return {kind: int(v) for kind, v in _text_map(self._client.hgetall(self._key("version:kind"))).items()}

    # --- read models: a sorted set of keys (all scores 0, so string order), the rows, the
    # --- meta (key and tags) per id, the row per key, and the counts per tag --------------------------------
    def index_page(self, index: str, after: str | None = None, limit: int = 50,
                   offset: int = 0) -> list[tuple[str, dict[str, Any]]]:
        if limit <= 0:
            return []
        zset = self._key(f"ix:{index}")
        if after is not None:
            keys = _texts(self._client.zrange(zset, f"({after}", "+", bylex=True, offset=0, num=limit))
        else:
            keys = _texts(self._client.zrange(zset, max(offset, 0), max(offset, 0) + limit - 1))
        if not keys:
            return []
        docs = self._client.hmget(self._key(f"ixr:{index}"), keys)
        return [(k, json.loads(d)) for k, d in zip(keys, docs, strict=True) if d is not None]

    def index_count(self, index: str, low: str | None = None, high: str | None = None) -> int:
        zset = self._key(f"ix:{index}")
        if low is None and high is None:
            return int(self._client.zcard(zset))
        return int(self._client.zlexcount(zset, "-" if low is None else f"[{low}", "+" if high is None else f"({high}"))

    def index_tags(self, index: str) -> dict[str, int]:
        return {tag: int(n) for tag, n in _text_map(self._client.hgetall(self._key(f"ixc:{index}"))).items() if int(n) > 0}

    def health_check(self) -> dict[str, Any]:
        """Version, epoch and the last reset, over the probe connection (raises when away).

        A missing epoch is written (SET NX, so one process wins); when this process had seen
        an earlier epoch, the store was emptied under it, and the reset is recorded in the
        store for every process to show: ``reset_at`` (epoch seconds) and the previous epoch.
        """
        keys = self._key("epoch"), self._key("reset")
        pipe = self._probe.pipeline(transaction=False)
        pipe.get(self._key("version"))
        pipe.get(keys[0])
        pipe.hgetall(keys[1])
        version, epoch, reset = pipe.execute()
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
        return {"version": int(version or 0), "epoch": epoch, "reset_at": float(reset["at"]) if reset.get("at") else None,
                "reset_now": reset_now, "previous_epoch": previous if reset_now else None}
    # --- named maps (identity): one hash per map --------------------------------------------
    def map_get(self, name: str, key: str) -> str | None:
        value = self._client.hget(self._key(f"map:{name}"), key)
        return None if value is None else _text(value)

    def map_all(self, name: str) -> dict[str, str]:
        return dict(_text_map(self._client.hgetall(self._key(f"map:{name}"))))

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False) -> bool:
        """HSETNX for ``only_new``: atomic, so two workers generating a secret agree on one."""
        if only_new:
            return bool(self._client.hsetnx(self._key(f"map:{name}"), key, value))
        self._client.hset(self._key(f"map:{name}"), key, value)
        return True

    def map_delete(self, name: str, key: str) -> bool:
        return bool(self._client.hdel(self._key(f"map:{name}"), key))

    def ping(self) -> bool:
        """False rather than an exception: health checks want an answer, not a traceback."""
        try:
            return bool(self._client.ping())
        except (RedisError, OSError):
            return False

    def close(self) -> None:
        """Disconnecting the pool also breaks the listener out of its blocking read."""
        self._listener.stop()
        self._client.close()
        self._probe.close()
        self._listener.join()

    # --- operations: compare-and-swap records and the audit trail -------------------------
    def read_stamped(self, kind: str, entity_id: str) -> tuple[float, dict[str, Any]] | None:
        pipe = self._client.pipeline(transaction=True)
        pipe.zscore(self._idx(kind), entity_id)
        pipe.hget(self._ent(kind), entity_id)
        stamp, doc = pipe.execute()
        if stamp is None or doc is None:
            return None
        return float(stamp), json.loads(doc)

    def swap(self, kind: str, entity_id: str, expect: float | None, observed_at: float, doc: dict[str, Any],
             rows: tuple[IndexRow, ...] = ()) -> bool:
        """One script: the stamp comparison and the write cannot interleave with a peer's."""
        keys = [self._idx(kind), self._ent(kind), self._key("version")]
        args = [self._channel, entity_id, "" if expect is None else _num(expect), _num(observed_at), _dumps(doc),
                kind, *self._row_args(rows)]
        return bool(self._swap(keys=keys, args=args))

    def append_audit(self, entry: dict[str, Any], keep: int) -> None:
        key = self._key("audit")
        pipe = self._client.pipeline(transaction=True)
        pipe.lpush(key, _dumps(entry))
        _bound_list(pipe, key, keep)
        pipe.execute()

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._head(self._key("audit"), max(limit, 0))

    # --- internals ------------------------------------------------------------------------
    def _row_args(self, rows: tuple[IndexRow, ...]) -> list[str | int]:
        args: list[str | int] = [self._base, len(rows)]
        for row in rows:
            meta = "" if row.key is None else "\x1f".join((row.key, *row.tags))
            args += [row.index, row.id, meta, "" if row.key is None else _dumps(row.doc or {})]
        return args

    def _key(self, name: str) -> str:
        return self._base + name

    def _idx(self, kind: str) -> str:
        return self._key(f"idx:{kind}")

    def _ent(self, kind: str) -> str:
        return self._key(f"ent:{kind}")

    def _series(self, key: str) -> str:
        return self._key(f"series:{key}")

    def _feed(self, feed: str, part: str) -> str:
        return self._key(f"feed:{feed}:{part}")

    def _head(self, key: str, limit: int) -> list[dict[str, Any]]:
        """``list[:limit]`` semantics: LRANGE 0 limit-1 matches them except for limit 0."""
        if limit == 0:
            return []
        return [json.loads(item) for item in self._client.lrange(key, 0, limit - 1)]


class _ChangeListener:
    """One subscriber thread per store, waking every local waiter; started on first wait.

    A waiter is woken by a "changed" message carrying a version above its ``since``, or by a
    (re)subscription, after which anything may have been missed; either way it confirms with
    GET, so the returned number is always the stored version.
    """

    POLL_S = 1.0

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._cond = threading.Condition()
        self._messages = 0
        self._latest = -1
        self._resyncs = 0
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def wait(self, since: int, timeout: float | None, read: Callable[[], int]) -> int:
        self._start()
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                marks = (self._messages, self._resyncs)
            current = read()  # after taking the marks, so a change in between is never lost
            remaining = deadline - time.monotonic()
            if current > since or remaining <= 0 or self._closed.is_set():
                return current
            self._await(marks, since, remaining)

    def _await(self, marks: tuple[int, int], since: int, remaining: float) -> None:
        def woken() -> bool:
            news = self._messages != marks[0] and self._latest > since
            return news or self._resyncs != marks[1] or self._closed.is_set()

        with self._cond:
            self._cond.wait_for(woken, timeout=None if math.isinf(remaining) else remaining)

    def stop(self) -> None:
        """Release every waiter now; the thread ends at its next read."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=2 * self.POLL_S)

    def _start(self) -> None:
        """Also restarts a thread lost to ``fork`` (a pre-loading web server), where only the
        forking thread survives in the child."""
        with self._cond:
            alive = self._thread is not None and self._thread.is_alive()
            if not alive and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="citywall-store-changed", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Subscribe, listen, and after any failure start over with a fresh subscription."""
        pause = RETRY_BASE_S
        while not self._closed.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self._channel)
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=self.POLL_S)
                    if message is not None:
                        self._on_message(message)
                        pause = RETRY_BASE_S
            except Exception:  # noqa: BLE001 - whatever broke, the listener must live on
                self._closed.wait(pause)
                pause = min(2 * pause, RETRY_CAP_S)
            finally:
                _quietly(pubsub.close)

    def _on_message(self, message: dict[str, Any]) -> None:
        with self._cond:
            if message["type"] == "message":
                self._messages += 1
                self._latest = int(message["data"])
            elif message["type"] == "subscribe":
                self._resyncs += 1
            self._cond.notify_all()


# --- helpers ------------------------------------------------------------------------------
#: Replies that say "not now" about Redis itself, never about what was sent.
_UNAVAILABLE_REPLIES = ("LOADING", "OOM", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "MISCONF", "BUSY")


@contextmanager
def _writing() -> Iterator[None]:
    """Raise ``StoreUnavailable`` for an outage, so the feed retries only what can succeed later.

    Anything else (a reply about the data, a value that cannot be encoded) passes through
    unchanged: the feed then dead-letters that one message and carries on.
    """
    try:
        yield
    except _UNAVAILABLE_ERRORS as exc:
        raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
    except ResponseError as exc:
        if str(exc).split(" ", 1)[0] in _UNAVAILABLE_REPLIES:
            raise StoreUnavailable(f"redis: {str(exc).split(' ', 1)[0]}") from exc
        raise


#: Errors that mean the store is away or moving, not that the data is wrong.
_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (ConnectionError, TimeoutError, BusyLoadingError,
                                                    *redis_client.OUTAGE_ERRORS)


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

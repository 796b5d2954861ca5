"""The in-process store: the embedded default, and the reference the Redis store must match.

One lock guards everything; writes are tiny and reads copy the containers, so contention
stays low at the rates one process can ingest. The documents themselves are shared, not
copied: treat what ``entities`` returns as read-only, as it is with Redis. A
``threading.Condition`` wakes waiting pages on change.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

from sortedcontainers import SortedList

from dashboard.store.base import CapReached, IndexRow, SeriesPoint, bucket, entity_series


class _Entities:
    """One kind's entities: when each was observed, and its document, in two plain maps.

    Not one map of (time, document) pairs: a tuple that holds a dict is a container the
    garbage collector tracks for as long as it lives, so with one per entity (and one per
    index row, see ``_Index``) every full pass walked the whole city while the feed and the
    pages waited. Floats, strings and flat documents in plain maps leave it a few containers
    per kind, however big the city.
    """

    def __init__(self) -> None:
        self.stamps: dict[str, float] = {}
        self.docs: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.stamps)

    def stamped(self, entity_id: str) -> tuple[float, dict[str, Any]] | None:
        stamp = self.stamps.get(entity_id)
        return None if stamp is None else (stamp, self.docs[entity_id])

    def put(self, entity_id: str, observed_at: float, doc: dict[str, Any]) -> None:
        self.stamps[entity_id] = observed_at
        self.docs[entity_id] = doc

    def pop(self, entity_id: str) -> bool:
        self.docs.pop(entity_id, None)
        return self.stamps.pop(entity_id, None) is not None


class _Index:
    """One read model (see ``IndexRow``): keys in order, each key's row, and counts per tag.

    A ``SortedList`` keeps insert, remove and rank lookups at O(log n), so keeping the queue
    of 20,000 open incidents current costs the same per message as keeping 100.
    """

    def __init__(self) -> None:
        self.keys: SortedList = SortedList()
        self.entries: dict[str, tuple[str, tuple[str, ...]]] = {}  # id -> (key, tags)
        #: key -> row, apart for the collector (see _Entities); by key, not by id, so a page of
        #: the top rows is one lookup a row: every new incident reads the top two hundred
        self.rows: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, int] = {}

    def apply(self, row: IndexRow) -> None:
        old = self.entries.pop(row.id, None)
        if old is not None:
            self.keys.remove(old[0])
            del self.rows[old[0]]
            self._count(old[1], -1)
        if row.key is not None:
            self.entries[row.id] = (row.key, row.tags)
            self.rows[row.key] = row.doc or {}
            self.keys.add(row.key)
            self._count(row.tags, 1)

    def page(self, start: int, limit: int) -> list[tuple[str, dict[str, Any]]]:
        rows = self.rows
        return [(k, rows[k]) for k in self.keys[start : start + limit]]

    def _count(self, tags: tuple[str, ...], delta: int) -> None:
        for tag in tags:
            n = self.tags.get(tag, 0) + delta
            if n > 0:
                self.tags[tag] = n
            else:
                self.tags.pop(tag, None)


#: Expiring counters kept at most per counter name (``count_up``); past it the oldest go
#: first. Per name: the ended-session marks shared one table with the login throttle's
#: counters, so a flood of wrong passwords from many addresses pushed them out and a
#: logged-out session's cookie worked again.
COUNTERS_MAX = 100_000


class MemoryStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # the expiring counters' (``count_up``)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._entities: dict[str, _Entities] = defaultdict(_Entities)
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._recent: deque[dict[str, Any]] = deque(maxlen=500)
        self._dead: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._feeds: dict[str, dict[str, Any]] = {}
        self._seen: dict[str, float] = {}
        self._version = 0
        self._epoch = f"{time.time():.0f}-{uuid.uuid4().hex[:12]}"
        self._audit: deque[dict[str, Any]] = deque()
        self._indexes: dict[str, _Index] = defaultdict(_Index)
        self._kind_versions: dict[str, int] = {}
        self._listeners: list[Callable[[int], None]] = []
        self._urgent = 0

    # --- writes ---------------------------------------------------------------------------
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
        with self._lock:
            entities = self._entities[kind]
            current = entities.stamps.get(entity_id)
            if current is not None and (current > observed_at or (current == observed_at and entities.docs[entity_id] == doc)):
                return False  # older, or the same message again: see ``StateStore.upsert``
            if current is None and cap is not None and len(entities) >= cap:
                raise CapReached(kind)
            self._seen[kind] = time.time()  # what changed the city, not what came again
            entities.put(entity_id, observed_at, doc)
            if series is not None:
                self._add_point(series)
            if recent is not None:
                self._recent.appendleft(recent)
                while len(self._recent) > recent_keep:
                    self._recent.pop()
            self._apply_rows(rows)
            self._urgent += urgent  # before the listeners hear of the change
            self._bump(kind)
            return True

    def add_point(self, point: SeriesPoint) -> None:
        with self._lock:
            self._add_point(point)

    def delete(self, kind: str, entity_ids: list[str], indexes: tuple[str, ...] = ()) -> int:
        with self._lock:
            entities = self._entities[kind]
            gone = sum(entities.pop(i) for i in entity_ids)
            for i in entity_ids:
                self._series.pop(entity_series(kind, i), None)
            self._apply_rows(tuple(IndexRow(name, i) for name in indexes for i in entity_ids))
            if gone:
                self._bump(kind)
            return gone

    def trim(self, kind: str, keep: int) -> int:
        with self._lock:
            entities = self._entities[kind]
            excess = len(entities) - keep
            if excess <= 0:
                return 0
            stamps = entities.stamps
            oldest = sorted(stamps, key=lambda i: (stamps[i], i))[:excess]
            for i in oldest:
                entities.pop(i)
                self._series.pop(entity_series(kind, i), None)
            self._bump(kind)
            return len(oldest)

    def dead_letter(self, doc: dict[str, Any], keep: int) -> None:
        with self._lock:
            self._dead.appendleft(doc)
            while len(self._dead) > keep:
                self._dead.pop()

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        with self._lock:
            entry = self._feeds.setdefault(feed, {"counts": {}})
            totals = entry["counts"]
            for name, delta in counts.items():
                totals[name] = totals.get(name, 0) + delta
            entry.update(status)

    def forget_feed(self, feed: str) -> None:
        with self._lock:
            self._feeds.pop(feed, None)

    # --- reads ----------------------------------------------------------------------------
    def entities(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._entities[kind].docs)

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._entities[kind])

    def get(self, kind: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            docs = self._entities[kind].docs
            return {i: docs[i] for i in entity_ids if i in docs}

    def get_each(self, wanted: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
        return {kind: self.get(kind, ids) for kind, ids in wanted.items()}

    def oldest(self, kind: str, before: float, limit: int = 1_000) -> list[str]:
        with self._lock:
            old = [(t, i) for i, t in self._entities[kind].stamps.items() if t < before]
        return [i for _, i in sorted(old)[:limit]]

    def series(self, key: str, since: float = 0.0) -> list[tuple[float, float]]:
        with self._lock:
            times, values = self._series.get(key, ([], []))
            start = bisect.bisect_left(times, since)
            return list(zip(times[start:], values[start:], strict=True))

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)[:limit]

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._dead)[:limit]

    def feeds(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: {**entry, "counts": dict(entry["counts"])} for name, entry in self._feeds.items()}

    def last_seen(self) -> dict[str, float]:
        with self._lock:
            return dict(self._seen)

    def version(self) -> int:
        with self._lock:
            return self._version

    def kind_versions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._kind_versions)

    def index_page(
        self, index: str, after: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            found = self._indexes.get(index)
            if found is None or limit <= 0:
                return []
            start = found.keys.bisect_right(after) if after is not None else max(offset, 0)
            return found.page(start, limit)

    def index_count(self, index: str, low: str | None = None, high: str | None = None) -> int:
        with self._lock:
            found = self._indexes.get(index)
            if found is None:
                return 0
            start = found.keys.bisect_left(low) if low is not None else 0
            end = found.keys.bisect_left(high) if high is not None else len(found.keys)
            return max(end - start, 0)

    def index_tags(self, index: str) -> dict[str, int]:
        with self._lock:
            found = self._indexes.get(index)
            return dict(found.tags) if found is not None else {}

    def on_change(self, listener: Callable[[int], None]) -> None:
        """Call ``listener`` with the new version after every change, in the writing thread and
        with the store's lock held: it may only pass the news on (the web side wakes its event
        loop with it), never block or read the store. Pages then hear of a change without a
        thread of their own waking first (``dashboard.reader``)."""
        with self._lock:
            self._listeners.append(listener)

    def wait_changed(self, since: int, timeout: float) -> int:
        with self._changed:
            urgent = self._urgent
            self._changed.wait_for(lambda: self._version > since or self._urgent != urgent, timeout=timeout)
            return self._version

    def urgent_changes(self) -> int:
        return self._urgent  # one int read: no lock needed, and the listeners hold it

    def health_check(self) -> dict[str, Any]:
        """Always here; the epoch is the process's (the memory dies with it)."""
        return {"version": self.version(), "epoch": self._epoch, "reset_at": None, "reset_now": False, "previous_epoch": None}

    # --- named maps (identity) ------------------------------------------------------------
    @property
    def _maps(self) -> dict[str, dict[str, str]]:
        """Created on first use, so this block stays apart from the city state above."""
        return self.__dict__.setdefault("_named_maps", defaultdict(dict))

    def map_get(self, name: str, key: str) -> str | None:
        with self._lock:
            return self._maps[name].get(key)

    def map_all(self, name: str) -> dict[str, str]:
        with self._lock:
            return dict(self._maps[name])

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False, replacing: str | None = None) -> bool:
        with self._lock:
            entries = self._maps[name]
            if (only_new and key in entries) or (replacing is not None and entries.get(key) != replacing):
                return False
            entries[key] = value
            return True

    def map_delete(self, name: str, key: str) -> bool:
        with self._lock:
            return self._maps[name].pop(key, None) is not None

    # --- expiring counters (identity: the login throttle) ---------------------------------
    def _counters(self, name: str) -> OrderedDict[str, list[float]]:
        """One counter name's key -> [count, expires at], oldest first; made on first use.
        A name's counters share one time to live, so the oldest is also the first to expire."""
        tables: dict[str, OrderedDict[str, list[float]]] = self.__dict__.setdefault("_expiring", {})
        return tables.setdefault(name, OrderedDict())

    def count_up(self, name: str, key: str, ttl_s: float) -> int:
        with self._lock:
            now, counters = self._clock(), self._counters(name)
            entry = counters.get(key)
            if entry is None or entry[1] <= now:
                counters.pop(key, None)
                entry = counters[key] = [0, now + ttl_s]
                while counters and (len(counters) > COUNTERS_MAX or next(iter(counters.values()))[1] <= now):
                    counters.popitem(last=False)
            entry[0] += 1
            return int(entry[0])

    def counted(self, name: str, key: str) -> int:
        with self._lock:
            entry = self._counters(name).get(key)
            return int(entry[0]) if entry is not None and entry[1] > self._clock() else 0

    def count_clear(self, name: str, key: str) -> None:
        with self._lock:
            self._counters(name).pop(key, None)

    def ping(self) -> bool:
        return True

    def ping_error(self) -> Exception | None:
        return None

    def close(self) -> None:
        """Nothing to release: the memory dies with the process."""

    # --- operations: compare-and-swap records and the audit trail -------------------------
    def read_stamped(self, kind: str, entity_id: str) -> tuple[float, dict[str, Any]] | None:
        with self._lock:
            return self._entities[kind].stamped(entity_id)

    def swap(
        self,
        kind: str,
        entity_id: str,
        expect: float | None,
        observed_at: float,
        doc: dict[str, Any],
        rows: tuple[IndexRow, ...] = (),
    ) -> bool:
        with self._lock:
            entities = self._entities[kind]
            if entities.stamps.get(entity_id) != expect:
                return False
            entities.put(entity_id, observed_at, doc)
            self._apply_rows(rows)
            self._urgent += 1  # a person's action (see StateStore.swap)
            self._bump(kind)
            return True

    def append_audit(self, entry: dict[str, Any], keep: int) -> None:
        with self._lock:
            self._audit.appendleft(entry)
            while len(self._audit) > max(keep, 0):
                self._audit.pop()

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            return list(itertools.islice(self._audit, max(limit, 0)))

    # --- internals (lock held) ------------------------------------------------------------
    def _bump(self, kind: str) -> None:
        self._version += 1
        self._kind_versions[kind] = self._kind_versions.get(kind, 0) + 1
        self._changed.notify_all()
        for listener in self._listeners:
            listener(self._version)

    def _apply_rows(self, rows: tuple[IndexRow, ...]) -> None:
        for row in rows:
            self._indexes[row.index].apply(row)

    def _add_point(self, point: SeriesPoint) -> None:
        times, values = self._series.setdefault(point.key, ([], []))
        t = bucket(point.t, point.step_s)
        i = bisect.bisect_left(times, t)
        if i < len(times) and times[i] == t:
            values[i] = point.value
        else:
            times.insert(i, t)
            values.insert(i, point.value)
        horizon = max(times[-1] - point.max_age_s, 0.0)
        drop = max(len(times) - point.max_points, bisect.bisect_left(times, horizon))
        if drop > 0:
            del times[:drop], values[:drop]

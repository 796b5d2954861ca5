"""The store port: a handful of primitives that both backends implement exactly alike.

The city's rules (incident lifecycle, alert stages, KPIs) live in ``dashboard.ingest`` and
``dashboard.picture`` and drive these primitives; a backend only keeps entities, bounded
series and counters. That keeps the memory backend (the embedded default) and the Redis
backend (shared by every ingest and web process) provably the same: one contract suite runs
against both.

Every write is idempotent. ``upsert`` applies a document only when its ``observed_at`` is
newer than the one stored, so a redelivered or late message changes nothing; series points
live in time buckets where the last write of a bucket wins, so a replay rewrites the same
point instead of adding one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class CapReached(Exception):
    """``upsert`` of a new id when its kind already holds ``cap`` entities: nothing was written."""


@dataclass(frozen=True)
class SeriesPoint:
    """One value for a bounded series, bucketed to ``step_s`` so replays do not add points."""

    key: str
    t: float
    value: float
    step_s: int = 60
    max_points: int = 1_440
    max_age_s: float = 31 * 86_400


#: Series names, the one place they are spelled: an entity's readings (a gauge's level, a
#: counter's served-today) go to ``<kind>:<id>``; a KPI's samples to ``kpi:<id>`` (a point a
#: minute, one day) and ``kpi_h:<id>`` (a point an hour, a month). The Redis key layout groups
#: series by the part before the colon (``redis_keys.FAMILIES``).
KPI_DAY = "kpi"
KPI_MONTH = "kpi_h"


def entity_series(kind: str, entity_id: str) -> str:
    return f"{kind}:{entity_id}"


def kpi_series(kpi_id: str, month: bool = False) -> str:
    return f"{KPI_MONTH if month else KPI_DAY}:{kpi_id}"


@dataclass(frozen=True)
class IndexRow:
    """One row of a read model that the store keeps current in the same atomic step as the
    entity it comes from, so no reader ever rebuilds a read model from every entity.

    An index orders its rows by ``key`` (plain string order; the key ends with the id, so it
    is unique) and counts them per tag (``"severity:critical"``), so the top rows, a page after
    a cursor, a count in a key range and the counts per tag each cost O(log n) or the size of
    the answer. ``key=None`` removes the id from the index. Keys and tags never hold U+001F,
    which the Redis store uses as a separator.
    """

    index: str
    id: str
    key: str | None = None
    doc: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()


class StateStore(Protocol):
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
        """Store ``doc`` if newer than what is stored, or as new with another document (a field
        system that escalates or resolves an Alert by sending it again, with the same
        ``dateIssued`` and no ``dateModified``, lost the change); then add the series point and
        the ticker line, mark the kind's data as just seen, bump the version and notify.
        Returns whether anything changed. The same message again changes nothing, and is not
        fresh data: a gateway replaying its buffer kept the wall's panels "fresh".

        With ``cap``, a *new* id is refused (``CapReached``, nothing written) when the kind
        already holds ``cap`` entities; updates of known ids always pass. ``rows`` are applied
        with the document, and only when it is (see ``IndexRow``). An ``urgent`` change that
        is stored is told apart in its notification (see ``urgent_changes``)."""
        ...

    def count(self, kind: str) -> int:
        """How many entities of ``kind`` are stored."""
        ...

    def add_point(self, point: SeriesPoint) -> None:
        """A series point not tied to an entity (sampled KPIs); bumps no version."""
        ...

    def delete(self, kind: str, entity_ids: list[str], indexes: tuple[str, ...] = ()) -> int:
        """Remove the entities, their series and their rows in ``indexes``; returns how many went."""
        ...

    def trim(self, kind: str, keep: int) -> int:
        """Evict the oldest entities of ``kind`` beyond ``keep``; returns how many went."""
        ...

    def dead_letter(self, doc: dict[str, Any], keep: int) -> None: ...

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None: ...

    def forget_feed(self, feed: str) -> None:
        """Drop a feed's counts and status (an ingest member long gone)."""
        ...

    # --- reads (web side) -----------------------------------------------------------------
    def entities(self, kind: str) -> dict[str, dict[str, Any]]: ...

    def get(self, kind: str, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Only the named entities (those that exist), for work on a few among thousands."""
        ...

    def get_each(self, wanted: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
        """``get`` of several kinds at once, by kind: one trip to Redis where there were as many
        as kinds (ingest reads an incident and its operators' record before each write)."""
        ...

    def oldest(self, kind: str, before: float, limit: int = 1_000) -> list[str]:
        """Ids of ``kind`` observed before ``before`` (for age-based pruning)."""
        ...

    def series(self, key: str, since: float = 0.0) -> list[tuple[float, float]]: ...

    def recent(self, limit: int = 50) -> list[dict[str, Any]]: ...

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def feeds(self) -> dict[str, dict[str, Any]]: ...

    def last_seen(self) -> dict[str, float]:
        """Per kind, the arrival time (epoch s) of the newest accepted message: staleness."""
        ...

    def version(self) -> int: ...

    def kind_versions(self) -> dict[str, int]:
        """Per kind, a counter bumped with every change of that kind: a reader rebuilds only
        the sections whose kinds moved."""
        ...

    # --- read models (see ``IndexRow``) ---------------------------------------------------
    def index_page(
        self, index: str, after: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` (key, doc) in key order: after the key ``after`` when given, else
        from the ``offset``-th row."""
        ...

    def index_count(self, index: str, low: str | None = None, high: str | None = None) -> int:
        """How many rows have ``low <= key < high`` (either end open when None)."""
        ...

    def index_tags(self, index: str) -> dict[str, int]:
        """Rows per tag; tags with no row are absent."""
        ...

    def wait_changed(self, since: int, timeout: float) -> int:
        """Block until the version exceeds ``since``, an urgent change is heard (see
        ``urgent_changes``) or the timeout passes; return the version."""
        ...

    def urgent_changes(self) -> int:
        """How many urgent changes this process has heard of: the pages send those without
        waiting for their next frame (``layouts.push``). A store shared between processes
        hears another writer's by its change notification, which can come a moment after
        the version that holds the change is readable. Never blocks, never takes the store's
        lock: it is read in the writing thread while that lock is held."""
        ...

    # --- named maps (identity: users, tokens, the shared cookie secret) -------------------
    # A few small string maps that every web worker must see alike. Values are opaque text
    # (the identity package stores JSON); nothing here bumps the version or notifies pages.
    def map_get(self, name: str, key: str) -> str | None: ...

    def map_all(self, name: str) -> dict[str, str]: ...

    def map_put(self, name: str, key: str, value: str, *, only_new: bool = False, replacing: str | None = None) -> bool:
        """Set ``key``; with ``only_new`` only when it is absent (first writer wins); with
        ``replacing`` only while it still holds that value (compare-and-set: a write made from
        what was read loses to one made meanwhile). Returns whether the value was written."""
        ...

    def map_delete(self, name: str, key: str) -> bool:
        """Remove ``key``; returns whether it was there."""
        ...

    # --- expiring counters (identity: the login throttle's wrong tries) --------------------
    def count_up(self, name: str, key: str, ttl_s: float) -> int:
        """Add one to a counter and return its count; the first count starts its ``ttl_s``,
        at whose end it is gone (counts again from zero)."""
        ...

    def counted(self, name: str, key: str) -> int:
        """A counter's count; 0 when it never counted or has expired."""
        ...

    def count_clear(self, name: str, key: str) -> None: ...

    def ping(self) -> bool: ...

    def ping_error(self) -> Exception | None:
        """Why the store does not answer (None when it does): a start-up says it in one line."""
        ...

    def health_check(self) -> dict[str, Any]:
        """``version``, ``epoch``, ``reset_at`` (epoch s or None), ``reset_now``, ``previous_epoch``,
        answered within about a second or raised; see ``dashboard.health``."""
        ...

    def close(self) -> None: ...

    # --- operations: records changed by people, and the audit trail ----------------------
    # Operator actions are read-modify-write on one record, possibly from two web workers at
    # once, so they go through a compare-and-swap on the stored ``observed_at`` (the stamp)
    # instead of ``upsert``'s "newer wins", which would silently drop one of two concurrent
    # actions. The audit trail is append-only and bounded.
    def read_stamped(self, kind: str, entity_id: str) -> tuple[float, dict[str, Any]] | None:
        """The stored document with its ``observed_at``, or None when there is none."""
        ...

    def swap(
        self,
        kind: str,
        entity_id: str,
        expect: float | None,
        observed_at: float,
        doc: dict[str, Any],
        rows: tuple[IndexRow, ...] = (),
    ) -> bool:
        """Store ``doc`` at ``observed_at`` only if the stored stamp is still ``expect`` (None:
        absent); apply ``rows`` with it, bump the version and notify when it did. Does not
        count as feed traffic. Every swap is an urgent change (``urgent_changes``): it is a
        person's action at the console, a few a minute, so the open screens show it at once
        instead of with their next frame, which a quiet page puts off by up to 250 ms."""
        ...

    def append_audit(self, entry: dict[str, Any], keep: int) -> None:
        """Add ``entry`` at the head of the audit trail, keeping the newest ``keep``."""
        ...

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` audit entries, newest first."""
        ...


def bucket(t: float, step_s: int) -> float:
    return float(int(t // step_s) * step_s)

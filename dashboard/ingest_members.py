"""The store's side of shared-group membership (``feeds.membership.MemberRegistry``).

A member is recorded as a feed of its own, ``<feed>@<member id>``, through ``record_feed``:
its counts add up like any feed's, and its status (host, pid, heartbeat, running / left /
dead / drained) replaces the last. So per-process health reaches ``/api/v1/state`` and
``/api/v1/feeds`` and the feed-health panel the way the feed totals already do, with no
read path of its own. Claims to empty a dead member's session are one named map, written
with HSETNX semantics (``only_new``), so exactly one survivor wins. A claim is given back when
its drain ends (done or failed) or when the member turned out alive, so that a member that
really dies later can be emptied by any survivor, not only by the one that once claimed it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dashboard.store.base import StateStore
from feeds.timestamps import stored_time

CLAIMS = "ingest:drain"
#: A feed (or member) whose process has not written its status for this long is shown as
#: silent, not connected. Ingest writes it every second and a member every heartbeat, so
#: this is a killed or hung process: its last "connected" would otherwise stand for ever.
SILENT_AFTER_S = 15.0
#: A member may beat less often than every second: it is silent after this many beats.
SILENT_AFTER_BEATS = 3


def as_deployed(feeds: dict[str, dict[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    """The feeds as the wall, the API and the metrics show them at ``now``."""
    return with_members_merged(with_silence_judged(feeds, now))


def with_silence_judged(feeds: dict[str, dict[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    """Each feed that says it is connected but whose writer has not spoken for a while turns
    ``connected: false`` with ``silent: true``. A status without a time of its own (none is
    written without one) is left as it is."""
    out = {}
    for name, doc in feeds.items():
        spoke = _moment(doc.get("reported_at")) or _moment(doc.get("heartbeat_at"))
        if doc.get("connected") and spoke is not None and now - spoke[0] > _silent_after(doc):
            doc = {**doc, "connected": False, "silent": True}
        out[name] = doc
    return out


def _silent_after(doc: dict[str, Any]) -> timedelta:
    beat = doc.get("heartbeat_s")
    beats = float(beat) * SILENT_AFTER_BEATS if isinstance(beat, int | float) else 0.0
    return timedelta(seconds=max(SILENT_AFTER_S, beats))


def with_members_merged(feeds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The feeds as one deployment sees them: a feed that running members share is connected
    when any of them is, and its last message is the newest any of them had.

    Every member writes the feed's status with its own counts, and the last writer's status
    stood: with two members, ``connected`` and ``last_message_at`` flipped with each flush,
    and the panel said "last message: never" after thousands."""
    running: dict[str, list[dict[str, Any]]] = {}
    for name, doc in feeds.items():
        feed, at, _ = name.partition("@")
        if at and doc.get("state") == "running":
            running.setdefault(feed, []).append(doc)
    out = dict(feeds)
    for feed, members in running.items():
        if feed not in out:
            continue
        stamps = [stamp for m in (*members, out[feed]) if (stamp := _moment(m.get("last_message_at"))) is not None]
        out[feed] = {
            **out[feed],
            "connected": any(bool(m.get("connected")) for m in members),
            "last_message_at": max(stamps)[1] if stamps else None,
        }
    return out


def _moment(value: Any) -> tuple[datetime, str] | None:
    """An ISO time with its text, or None for anything else (an older writer's leftovers)."""
    moment = stored_time(value)
    return None if moment is None else (moment, value)


class StoreMembers:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def beat(self, name: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        self.store.record_feed(name, counts, status)

    def members(self, feed: str) -> dict[str, dict[str, Any]]:
        prefix = f"{feed}@"
        return {name: doc for name, doc in self.store.feeds().items() if name.startswith(prefix)}

    def claim(self, name: str, by: str) -> bool:
        """The first claimer wins; asking again as the winner (a retry) is still yes."""
        self.store.map_put(CLAIMS, name, by, only_new=True)
        return self.store.map_get(CLAIMS, name) == by

    def release(self, name: str, by: str) -> None:
        """Only the holder's own claim goes: no one else can have claimed while it stood."""
        if self.store.map_get(CLAIMS, name) == by:
            self.store.map_delete(CLAIMS, name)

    def forget(self, name: str) -> None:
        self.store.forget_feed(name)

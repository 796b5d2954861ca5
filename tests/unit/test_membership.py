"""Shared-group membership, decision by decision (the broker and store runs are in
``test_elastic_ingest.py``): when a peer counts as dead, that one survivor empties it, and that
a peer which said "left" is emptied without waiting."""

from __future__ import annotations

import threading
from typing import Any

from dashboard.ingest_members import StoreMembers, with_members_merged
from dashboard.local_services import wait_until
from dashboard.store.memory import MemoryStore
from feeds.membership import Membership, member_id


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def member(store: MemoryStore, name: str, clock: Clock, drained: list[str], done: threading.Event | None = None) -> Membership:
    def drain(client_id: str) -> int:
        drained.append(client_id)
        if done is not None:
            done.set()
        return 7

    return Membership(
        StoreMembers(store),
        feed="mqtt",
        member=name,
        group="ingest",
        heartbeat_s=5.0,
        snapshot=lambda: {"connected": True, "received": 3, "accepted": 2, "duplicates": 1, "rejected": {}},
        drain=drain,
        clock=clock,
    )


def records(store: MemoryStore) -> dict[str, dict[str, Any]]:
    return StoreMembers(store).members("mqtt")


def test_a_peer_is_dead_only_after_two_silent_heartbeats_and_one_survivor_empties_it() -> None:
    store, clock = MemoryStore(), Clock()
    a_drained: list[str] = []
    b_drained: list[str] = []
    done = threading.Event()
    a = member(store, "ingest-a", clock, a_drained, done)
    b = member(store, "ingest-b", clock, b_drained)
    dead = member(store, "ingest-dead", clock, [])
    for m in (a, b, dead):
        m.beat("running")
    clock.t += 10.0  # exactly two heartbeats of silence: not yet
    a.beat("running")
    b.beat("running")
    assert a.sweep() == [] and records(store)["mqtt@ingest-dead"]["alive"] is True
    clock.t += 0.5
    assert a.sweep() == ["ingest-dead"]
    assert done.wait(5)
    assert b.sweep() == [], "the claim is taken: the second survivor leaves it"
    assert a_drained == ["ingest-dead"] and b_drained == []
    # the drain thread writes "drained" after the drain returns
    record = wait_until(
        lambda: (r := records(store)["mqtt@ingest-dead"]).get("state") == "drained" and r,
        30,
        "the dead member's record marked drained",
    )
    assert (record["state"], record["alive"], record["connected"]) == ("drained", False, False)
    assert (record["drained_by"], record["drained_messages"]) == ("ingest-a", 7)
    assert record["counts"] == {"received": 3, "accepted": 2, "duplicates": 1}, "its own counts, kept"


def test_a_peer_that_left_is_emptied_at_once_and_a_live_one_never() -> None:
    store, clock = MemoryStore(), Clock()
    drained: list[str] = []
    done = threading.Event()
    a = member(store, "ingest-a", clock, drained, done)
    live, leaving = member(store, "ingest-live", clock, []), member(store, "ingest-left", clock, [])
    for m in (a, live, leaving):
        m.beat("running")
    leaving.beat("left")
    assert a.sweep() == ["ingest-left"] and done.wait(5)
    assert drained == ["ingest-left"]
    assert records(store)["mqtt@ingest-live"]["alive"] is True


def test_the_record_of_an_emptied_member_goes_an_hour_later() -> None:
    """Each restart leaves a record under a new id; kept for ever they filled the feed-health panel."""
    store, clock = MemoryStore(), Clock()
    done = threading.Event()
    a = member(store, "ingest-a", clock, [], done)
    leaving = member(store, "ingest-old", clock, [])
    a.beat("running")
    leaving.beat("left")
    assert a.sweep() == ["ingest-old"] and done.wait(5)
    wait_until(lambda: records(store)["mqtt@ingest-old"].get("state") == "drained", 30, "the old member marked drained")
    clock.t += 3_599.0
    a.beat("running")
    a.sweep()
    assert sorted(records(store)) == ["mqtt@ingest-a", "mqtt@ingest-old"], "within the hour it stays to be seen"
    clock.t += 2.0
    a.beat("running")
    a.sweep()
    assert sorted(records(store)) == ["mqtt@ingest-a"]


def test_member_ids_differ_by_host_and_process() -> None:
    assert member_id("citywall-ingest", "wall-01.pemko.go.id", 4242) == "citywall-ingest-wall-01-4242"
    assert member_id("citywall-ingest", "host", 1) != member_id("citywall-ingest", "host", 2)
    assert member_id("citywall-ingest", "host", 1, member="2") == member_id("citywall-ingest", "host", 7, member="2"), (
        "a named member keeps its id across restarts"
    )
    assert member_id("x", "we/ird host", 5) == "x-we-ird-host-5", "no character MQTT or the store would mind"


def test_a_feed_shared_by_running_members_is_connected_when_one_is_and_shows_their_newest_message() -> None:
    """The last member to write the feed's status used to decide it: an idle member made the
    feed read "never" and "disconnected" after thousands of messages through the other."""
    feeds = {
        "mqtt": {"counts": {"received": 7223}, "connected": False, "last_message_at": None},
        "mqtt@ingest-a": {"state": "running", "connected": True, "last_message_at": "2026-12-05T03:05:14.250000+00:00"},
        "mqtt@ingest-b": {"state": "running", "connected": False, "last_message_at": "2026-12-05T03:05:09+00:00"},
        "mqtt@ingest-old": {"state": "drained", "connected": False, "last_message_at": "2026-12-05T04:00:00+00:00"},
        "redis": {"counts": {}, "connected": False, "last_message_at": None},
    }
    merged = with_members_merged(feeds)
    assert merged["mqtt"] == {
        "counts": {"received": 7223},
        "connected": True,
        "last_message_at": "2026-12-05T03:05:14.250000+00:00",
    }
    assert merged["redis"] == feeds["redis"], "no members: as it was written"
    assert merged["mqtt@ingest-b"] == feeds["mqtt@ingest-b"]
    alone = with_members_merged({k: v for k, v in feeds.items() if k != "mqtt@ingest-a"})
    assert (alone["mqtt"]["connected"], alone["mqtt"]["last_message_at"]) == (False, "2026-12-05T03:05:09+00:00")


def test_a_feed_whose_ingest_stopped_speaking_is_shown_silent_not_connected() -> None:
    """A killed ingest leaves its last status, "connected", in the store: the wall said
    TERHUBUNG for as long as nobody looked at the data's age. Its status now carries the time
    it was written, and a status older than fifteen seconds is judged silent."""
    from datetime import UTC, datetime, timedelta

    from dashboard.ingest_members import as_deployed
    from feeds.health import FeedStats

    written = datetime(2026, 12, 6, 5, 0, 0, tzinfo=UTC)
    store = MemoryStore()
    stats = FeedStats("mqtt", clock=lambda: written)
    stats.connected()
    stats.flush_to(store)
    assert store.feeds()["mqtt"]["reported_at"] == "2026-12-06T05:00:00+00:00"

    at = as_deployed(store.feeds(), written + timedelta(seconds=14))
    assert (at["mqtt"]["connected"], at["mqtt"].get("silent")) == (True, None)
    later = as_deployed(store.feeds(), written + timedelta(seconds=16))
    assert (later["mqtt"]["connected"], later["mqtt"]["silent"]) == (False, True)
    assert store.feeds()["mqtt"]["connected"] is True, "the store's record is left as written"


def test_a_member_is_silent_after_three_of_its_own_beats_and_takes_the_shared_feed_with_it() -> None:
    from datetime import UTC, datetime, timedelta

    from dashboard.ingest_members import as_deployed

    beat = datetime(2026, 12, 6, 5, 0, 0, tzinfo=UTC)
    feeds = {
        "mqtt": {"connected": True, "reported_at": beat.isoformat(), "counts": {}},
        "mqtt@a": {"state": "running", "connected": True, "heartbeat_at": beat.isoformat(), "heartbeat_s": 10.0},
        "redis": {"connected": True, "counts": {}},  # no time of its own: left as written
    }
    at = as_deployed(feeds, beat + timedelta(seconds=29))
    assert (at["mqtt"]["connected"], at["mqtt@a"]["connected"]) == (True, True), (
        "the feed's own status is older than 15 s, but its member, of a 10 s beat, is not silent before 30 s"
    )
    gone = as_deployed(feeds, beat + timedelta(seconds=31))
    assert (gone["mqtt"]["connected"], gone["mqtt@a"]["connected"], gone["mqtt@a"]["silent"]) == (False, False, True)
    assert gone["redis"] == feeds["redis"]

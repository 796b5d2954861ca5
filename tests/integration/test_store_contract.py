"""One contract, two backends: the memory store (embedded default) and the Redis store
(production) must be indistinguishable to everything above them.

Each test runs once per backend. The primitives come first (idempotence, ordering by
observed_at, bounded series and lists, counters, versions, change notification), then the
city's rules through ``CityState``, and last the picture every panel reads, which must be the
same document whichever backend holds the state.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from dashboard.config import Config, load_config
from dashboard.desk import Desk
from dashboard.incident_ops import Action, Actor
from dashboard.local_services import wait_until
from dashboard.picture import build_picture
from dashboard.store.base import SeriesPoint, StateStore
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore
from feeds.events import CitizenReport, Event, Reason, Rejected
from tests.support.city import NOW, at, city, comparable, feed_city_day, incident, water
from tests.support.helpers import LONG_WAIT_S, WOKEN_S

T = 1_000_020.0  # a multiple of 60, so bucket arithmetic in the series tests reads plainly


@pytest.fixture
def store(each_store: StateStore) -> StateStore:
    return each_store


def ids_of(store: StateStore, kind: str) -> set[str]:
    return set(store.entities(kind))


# --- upsert: idempotence and order -----------------------------------------------------------
def test_same_message_twice_changes_nothing(store: StateStore) -> None:
    point = SeriesPoint("water_level:a", T + 5, 1.5)
    line = {"t": "x", "id": "a"}
    assert store.upsert("water_level", "a", T, {"level_m": 1.5}, series=point, recent=line) is True
    before = (store.version(), store.entities("water_level"), store.series("water_level:a"), store.recent())
    assert store.upsert("water_level", "a", T, {"level_m": 1.5}, series=point, recent=line) is False
    after = (store.version(), store.entities("water_level"), store.series("water_level:a"), store.recent())
    assert after == before
    assert store.version() == 1


def test_older_message_never_overwrites_newer(store: StateStore) -> None:
    assert store.upsert("incident", "i1", T + 100, {"status": "dispatched"}) is True
    assert store.upsert("incident", "i1", T + 50, {"status": "new"}, recent={"late": True}) is False
    assert store.entities("incident") == {"i1": {"status": "dispatched"}}
    assert store.recent() == [] and store.version() == 1
    assert store.upsert("incident", "i1", T + 101, {"status": "resolved"}) is True
    assert store.entities("incident") == {"i1": {"status": "resolved"}}
    assert store.version() == 2


def test_documents_round_trip_exactly(store: StateStore) -> None:
    doc: dict[str, Any] = {
        "float": 1.0, "int": 1, "none": None, "bool": False, "tiny": 1e-300, "third": 1 / 3,
        "big": 2**60, "text": "Jl. Jend. Sudirman – Tampan ✓", "list": [1, 2.5, None, "x"],
        "nested": {"a": {"b": [0.1, {"c": None}]}},
    }  # fmt: skip
    store.upsert("kpi", "k", T, doc, recent=doc)
    store.dead_letter(doc, keep=5)
    store.record_feed("mqtt", {"received": 1}, {"detail": doc, "connected": True, "error": None})
    got = store.entities("kpi")["k"]
    assert got == doc and type(got["float"]) is float and type(got["int"]) is int and type(got["big"]) is int
    assert store.recent() == [doc] and store.dead_letters() == [doc]
    assert store.feeds() == {"mqtt": {"counts": {"received": 1}, "detail": doc, "connected": True, "error": None}}


# --- series -----------------------------------------------------------------------------------
def test_series_points_in_one_bucket_keep_the_last(store: StateStore) -> None:
    store.add_point(SeriesPoint("s", T + 1, 1.0))
    store.add_point(SeriesPoint("s", T + 59.5, 2.0))
    store.add_point(SeriesPoint("s", T + 60, 3.0))
    store.add_point(SeriesPoint("s", T + 30, 4.0))  # late, same bucket as the first two: rewrites it
    assert store.series("s") == [(T, 4.0), (T + 60, 3.0)]
    assert all(type(t) is float and type(v) is float for t, v in store.series("s"))


def test_series_bounded_by_count(store: StateStore) -> None:
    for k in range(8):
        store.add_point(SeriesPoint("s", T + 60 * k, float(k), max_points=5))
    assert store.series("s") == [(T + 60 * k, float(k)) for k in range(3, 8)]
    store.add_point(SeriesPoint("s", T + 60 * 7, 70.0, max_points=5))  # a rewrite adds no point
    assert len(store.series("s")) == 5 and store.series("s")[-1] == (T + 420, 70.0)
    store.add_point(SeriesPoint("s", T, -1.0, max_points=5))  # older than all five: trimmed at once
    assert store.series("s")[0] == (T + 180, 3.0)


def test_series_bounded_by_age_relative_to_the_newest_point(store: StateStore) -> None:
    for k in range(10):
        store.add_point(SeriesPoint("s", T + 60 * k, float(k), max_age_s=300))
    assert [t for t, _ in store.series("s")] == [T + 60 * k for k in range(4, 10)]  # >= newest - 300
    store.add_point(SeriesPoint("s", T + 60, 99.0, max_age_s=300))  # late and too old: dropped
    assert store.series("s")[0] == (T + 240, 4.0)
    store.add_point(SeriesPoint("s", T + 600, 10.0, max_age_s=300))
    assert [t for t, _ in store.series("s")] == [T + 60 * k for k in range(5, 11)]
    assert store.series("s", since=T + 480) == [(T + 480, 8.0), (T + 540, 9.0), (T + 600, 10.0)]
    assert store.series("s", since=T + 481) == [(T + 540, 9.0), (T + 600, 10.0)]
    assert store.series("missing") == []


def test_add_point_bumps_no_version(store: StateStore) -> None:
    store.add_point(SeriesPoint("kpi:x", T, 1.0))
    assert store.version() == 0


# --- bounded lists: ticker and dead letters ------------------------------------------------------
def test_ticker_bounded_newest_first(store: StateStore) -> None:
    for i in range(8):
        store.upsert("incident", f"i{i}", T + i, {"n": i}, recent={"n": i}, recent_keep=5)
    assert store.recent() == [{"n": i} for i in (7, 6, 5, 4, 3)]
    assert store.recent(limit=2) == [{"n": 7}, {"n": 6}]
    assert store.recent(limit=0) == []
    store.upsert("incident", "i7", T + 7, {"n": 7}, recent={"n": 7}, recent_keep=5)  # duplicate
    assert len(store.recent()) == 5 and store.recent()[1] == {"n": 6}
    store.upsert("incident", "x", T, {}, recent={"n": "x"}, recent_keep=1)
    assert store.recent() == [{"n": "x"}]
    store.upsert("incident", "y", T, {}, recent={"n": "y"}, recent_keep=0)
    assert store.recent() == []


def test_dead_letters_bounded_newest_first(store: StateStore) -> None:
    for i in range(5):
        store.dead_letter({"n": i}, keep=3)
    assert store.dead_letters() == [{"n": 4}, {"n": 3}, {"n": 2}]
    assert store.dead_letters(limit=2) == [{"n": 4}, {"n": 3}]
    assert store.dead_letters(limit=0) == []
    store.dead_letter({"n": 5}, keep=0)
    assert store.dead_letters() == []
    assert store.version() == 0


# --- eviction -----------------------------------------------------------------------------------
def test_trim_evicts_the_oldest_by_observed_at(store: StateStore) -> None:
    for i, t in zip("cbeda", (30, 20, 50, 40, 10), strict=True):  # arrival order is not age order
        store.upsert("incident", i, T + t, {"id": i}, series=SeriesPoint(f"incident:{i}", T + t, 1.0))
    version = store.version()
    assert store.trim("incident", keep=3) == 2
    assert ids_of(store, "incident") == {"c", "d", "e"}
    assert store.series("incident:a") == [] and store.series("incident:b") == []
    assert store.series("incident:c") == [(T, 1.0)]
    assert store.version() == version + 1
    assert store.trim("incident", keep=3) == 0 and store.version() == version + 1
    assert store.oldest("incident", before=T + 1_000) == ["c", "d", "e"], "the index follows the eviction"


def test_delete_removes_entities_and_their_series(store: StateStore) -> None:
    for i in ("a", "b"):
        store.upsert("water_level", i, T, {"id": i}, series=SeriesPoint(f"water_level:{i}", T, 1.0))
    store.add_point(SeriesPoint("water_level:orphan", T, 2.0))
    assert store.delete("water_level", ["a", "a", "nope", "orphan"]) == 1
    assert ids_of(store, "water_level") == {"b"}
    assert store.series("water_level:a") == [] and store.series("water_level:orphan") == []
    assert store.series("water_level:b") == [(T, 1.0)]
    assert store.version() == 3
    assert store.delete("water_level", ["nope"]) == 0 and store.delete("water_level", []) == 0
    assert store.version() == 3, "nothing removed, nothing to announce"
    assert store.upsert("water_level", "a", T - 10, {"back": True}) is True, "a deleted id starts afresh"


def test_oldest_orders_by_observed_at_then_id(store: StateStore) -> None:
    for i, t in (("d", 30), ("b", 10), ("c", 20), ("a", 10), ("e", 40)):
        store.upsert("report", i, T + t, {})
    assert store.oldest("report", before=T + 30) == ["a", "b", "c"], "before is exclusive"
    assert store.oldest("report", before=T + 30, limit=2) == ["a", "b"]
    assert store.oldest("report", before=T) == []
    assert store.oldest("nothing", before=T + 99) == []


# --- feeds, liveness, versions --------------------------------------------------------------------
def test_record_feed_adds_deltas_and_replaces_status(store: StateStore) -> None:
    store.record_feed("mqtt", {"received": 3, "rejected": 1}, {"connected": True, "last_error": None})
    store.record_feed("mqtt", {"received": 2, "duplicates": 0}, {"connected": False, "since": "2026-03-02T03:00:00+00:00"})
    store.record_feed("redis", {}, {})
    assert store.feeds() == {
        "mqtt": {
            "counts": {"received": 5, "rejected": 1, "duplicates": 0},
            "connected": False,
            "last_error": None,
            "since": "2026-03-02T03:00:00+00:00",
        },
        "redis": {"counts": {}},
    }
    assert store.version() == 0
    store.forget_feed("mqtt")
    store.forget_feed("never-there")
    assert store.feeds() == {"redis": {"counts": {}}}
    store.record_feed("mqtt", {"received": 1}, {})
    assert store.feeds()["mqtt"] == {"counts": {"received": 1}}, "forgotten: it starts again from nothing"


def test_the_same_time_with_another_document_is_a_change(store: StateStore) -> None:
    """A field system escalates or resolves an Alert by sending it again: the same
    ``dateIssued``, no ``dateModified``. Taken as a duplicate, the change was lost unseen."""
    assert store.upsert("incident", "i1", T + 100, {"status": "new", "severity": "high"}) is True
    changed = store.upsert("incident", "i1", T + 100, {"status": "resolved", "severity": "critical"}, recent={"n": 1})
    assert changed is True
    assert store.entities("incident") == {"i1": {"status": "resolved", "severity": "critical"}}
    assert store.recent() == [{"n": 1}] and store.version() == 2
    assert store.upsert("incident", "i1", T + 100, {"status": "resolved", "severity": "critical"}) is False
    assert store.version() == 2


def test_last_seen_moves_on_changes_not_on_the_same_message_again(store: StateStore) -> None:
    """The same message again is no fresh data: a gateway replaying its buffer kept the
    drainage panel "fresh" for as long as it replayed (the feed's own health still shows it
    connected, with its last message)."""
    before = time.time()
    store.upsert("water_level", "a", T, {})
    after = time.time()
    first = store.last_seen()["water_level"]
    # stamped on the wall clock at arrival (Redis's own clock, on the same machine, to the µs)
    assert before - 0.001 <= first <= after + 0.001, (before, first, after)
    wait_until(lambda: time.time() > first, 5, "the wall clock to move on")
    assert store.upsert("water_level", "a", T, {}) is False
    assert store.upsert("water_level", "a", T - 60, {"level_m": 2.0}) is False
    assert store.last_seen()["water_level"] == first
    assert store.upsert("water_level", "a", T + 60, {"level_m": 1.0}) is True
    assert store.last_seen()["water_level"] > first
    assert set(store.last_seen()) == {"water_level"}


def test_version_grows_only_on_changes(store: StateStore) -> None:
    assert store.version() == 0
    seen = [store.version()]
    for i in range(3):
        store.upsert("queue", f"q{i}", T, {})
        seen.append(store.version())
    store.upsert("queue", "q0", T, {})
    store.record_feed("mqtt", {"received": 1}, {})
    store.dead_letter({}, keep=5)
    assert seen == [0, 1, 2, 3] and store.version() == 3


def test_wait_changed_wakes_on_a_change_from_another_thread(store: StateStore) -> None:
    version = store.version()
    with ThreadPoolExecutor(1) as pool:
        waiter = pool.submit(store.wait_changed, version, LONG_WAIT_S)
        store.upsert("incident", "x", T, {})
        assert waiter.result(timeout=WOKEN_S) == version + 1


def test_wait_changed_without_a_change_returns_the_same_version(store: StateStore) -> None:
    store.upsert("incident", "x", T, {})
    assert store.wait_changed(1, timeout=0.3) == 1, "timed out: nothing changed"
    with ThreadPoolExecutor(1) as pool:  # already newer: returns without waiting out its timeout
        assert pool.submit(store.wait_changed, 0, LONG_WAIT_S).result(timeout=WOKEN_S) == 1
    assert store.ping() is True


def listening(store: StateStore) -> None:
    """Return once the store hears changes: the Redis store hears what is published only
    after its listener has subscribed, from its first wait on; the memory store always."""
    store.wait_changed(store.version(), 0.0)
    wait_until(lambda: getattr(store, "listening", lambda: True)(), WOKEN_S, "the store listening")


def test_only_a_stored_urgent_change_is_heard_as_one(store: StateStore) -> None:
    """``urgent_changes`` counts the changes the pages should get at once."""
    listening(store)
    store.upsert("incident", "calm", T, {})
    store.upsert("incident", "hot", T, {}, urgent=True)
    store.upsert("incident", "hot", T, {}, urgent=True)  # the same again: not stored
    store.upsert("incident", "hot", T + 1, {"newer": True}, urgent=True)
    store.upsert("incident", "calm", T + 1, {})
    wait_until(lambda: store.urgent_changes() >= 2, WOKEN_S, "two urgent changes heard")
    store.upsert("incident", "marker", T, {}, urgent=True)  # heard after everything above
    wait_until(lambda: store.urgent_changes() >= 3, WOKEN_S, "the marker heard")
    assert store.urgent_changes() == 3, "the calm changes and the refused one are not urgent"


def test_a_swap_is_a_persons_action_and_urgent_and_a_refused_one_is_not(store: StateStore) -> None:
    """A preset or a broadcast waited up to 250 ms for a quiet screen's next frame."""
    listening(store)
    assert store.swap("wall_control", "wall", None, T, {"preset": "banjir"}) is True
    assert store.swap("wall_control", "wall", None, T + 1, {"preset": "other"}) is False  # the stamp moved on
    wait_until(lambda: store.urgent_changes() >= 1, WOKEN_S, "the swap heard")
    store.upsert("incident", "marker", T, {}, urgent=True)  # heard after everything above
    wait_until(lambda: store.urgent_changes() >= 2, WOKEN_S, "the marker heard")
    assert store.urgent_changes() == 2, "the refused swap is not urgent"


def test_an_urgent_change_ends_a_wait_for_a_later_version(store: StateStore) -> None:
    """The Redis store hears an urgent change by a message that can come after its version
    was read; a waiter learns of it all the same (``dashboard.reader``'s watcher)."""
    listening(store)
    far = store.version() + 1_000
    with ThreadPoolExecutor(1) as pool:
        waiter = pool.submit(store.wait_changed, far, LONG_WAIT_S)
        store.upsert("incident", "hot", T, {}, urgent=True)
        assert waiter.result(timeout=WOKEN_S) < far


# --- the city's rules through CityState -------------------------------------------------------------
@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


def test_incident_lifecycle_and_a_late_new_does_not_reopen(store: StateStore, config: Config) -> None:
    state = city(store, config)
    steps = [("new", 3_600), ("acknowledged", 3_000), ("dispatched", 2_400), ("resolved", 1_200)]
    for status, ago in steps:
        assert state.accept(incident("INC-1", ago, status, opened_ago=3_600)) is True
        assert store.entities("incident")["INC-1"]["status"] == status
    assert state.accept(incident("INC-1", 3_600, "new", opened_ago=3_600)) is False, "redelivered first message"
    assert state.accept(incident("INC-1", 1_800, "dispatched", opened_ago=3_600)) is False, "late, out of order"
    assert store.entities("incident")["INC-1"]["status"] == "resolved"
    assert [line["status"] for line in store.recent()] == ["resolved", "dispatched", "acknowledged", "new"]
    assert store.version() == 4
    picture = build_picture(store, config, NOW)
    assert picture.incidents.open_count == 0 and picture.incidents.resolved_24h == 1
    assert picture.incidents.resolved_within_sla_24h == 1, "40 minutes open, high severity SLA 60"


def test_water_level_series_through_city_state(store: StateStore, config: Config) -> None:
    state = city(store, config)
    for minute, level in enumerate((1.0, 1.4, 1.8, 2.1)):
        state.accept(water("PS-01", ago=590 - 60 * minute, level=level))  # 10 s into each minute
    assert state.accept(water("PS-01", ago=415, level=2.3)) is False  # same minute as 2.1 but older
    assert state.accept(water("PS-01", ago=370, level=2.2)) is True  # same minute, newer: replaces 2.1
    points = store.series("water_level:PS-01")
    assert [v for _, v in points] == [1.0, 1.4, 1.8, 2.2]
    assert all(t % 60 == 0 for t, _ in points)
    station = build_picture(store, config, NOW).drainage.stations[0]
    assert station.stage == "Siaga" and station.level_m == 2.2 and station.trend == points


def test_ten_thousand_open_incidents_are_held(store: StateStore, config: Config) -> None:
    state = city(store, config)
    severities = ("critical", "high", "medium", "low")
    for n in range(10_000):
        state.accept(incident(f"INC-{n:05d}", 80_000 - 8 * n, severity=severities[n % 4]))
    assert len(store.entities("incident")) == 10_000
    assert state.housekeep(NOW) == 0, "open incidents are never aged out, and 10,000 is under the cap"
    picture = build_picture(store, config, NOW)
    assert picture.incidents.open_count == 10_000
    assert picture.incidents.by_severity == {s: 2_500 for s in severities}
    assert len(picture.ticker) == config.history.ticker_events


def test_housekeep_drops_old_resolved_and_caps_the_count(store: StateStore, config: Config) -> None:
    state = city(store, config, resolved_days=7, open_incidents_max=100)
    day = 86_400
    for n in range(5):
        state.accept(incident(f"OLD-RES-{n}", 8 * day + n, "resolved"))
    for n in range(2):
        state.accept(incident(f"OLD-OPEN-{n}", 10 * day + n, "dispatched"))
    for n in range(3):
        state.accept(incident(f"NEW-RES-{n}", 1 * day + n, "resolved"))
    assert state.housekeep(NOW) == 5
    assert ids_of(store, "incident") == {"OLD-OPEN-0", "OLD-OPEN-1", "NEW-RES-0", "NEW-RES-1", "NEW-RES-2"}
    refused = []
    for n in range(100):
        try:
            state.accept(incident(f"NOW-{n:03d}", 3_600 - n))
        except Rejected as exc:
            refused.append((f"NOW-{n:03d}", exc.reason))
    # cap 100: the three resolved ones made room; open incidents are never evicted, so the
    # last two new ones are refused (and dead-lettered by the feed), not an old open one lost
    assert refused == [("NOW-098", Reason.TOO_MANY_ENTITIES), ("NOW-099", Reason.TOO_MANY_ENTITIES)]
    assert ids_of(store, "incident") == {"OLD-OPEN-0", "OLD-OPEN-1"} | {f"NOW-{n:03d}" for n in range(98)}
    assert state.housekeep(NOW) == 0


def test_at_the_cap_an_incident_goes_as_the_wall_shows_it_resolved_never_one_reopened(store: StateStore, config: Config) -> None:
    """FIELD-RES was resolved in the field and reopened by an operator: open on the wall, so it
    stays. DESK-RES is open in the field and resolved by an operator: it may go. Judged by the
    field's own status, the reopened one was deleted and the other could never go."""
    state = city(store, config, open_incidents_max=100)
    desk = Desk(store, config, clock=lambda: NOW)
    operator = Actor("ani", "operator", "session", "127.0.0.1")
    state.accept(incident("FIELD-RES", 9_000, "resolved"))
    desk.act("FIELD-RES", Action("reopen"), operator)
    state.accept(incident("DESK-RES", 8_000))
    desk.act("DESK-RES", Action("resolve", code=config.operations.resolution_codes[0].code), operator)
    for n in range(98):
        state.accept(incident(f"OPEN-{n}", 7_000 - n))
    state.accept(incident("NEW", 60))
    assert ids_of(store, "incident") == {"FIELD-RES", "NEW"} | {f"OPEN-{n}" for n in range(98)}
    with pytest.raises(Rejected) as caught:
        state.accept(incident("ONE-TOO-MANY", 30))
    assert caught.value.reason is Reason.TOO_MANY_ENTITIES


def test_at_the_report_cap_the_longest_resolved_report_goes(store: StateStore, config: Config) -> None:
    state = city(store, config, reports_max=100)

    def report(rid: str, ago: float, resolved_ago: float | None = None) -> CitizenReport:
        return CitizenReport(
            id=rid, observed_at=at(ago), source_type="IssueReporting", topic="drainage", category="drainase",
            opened_at=at(ago + 600), status="resolved" if resolved_ago is not None else "open",
            resolved_at=at(resolved_ago) if resolved_ago is not None else None,
        )  # fmt: skip

    state.accept(report("RES-LATE", 500, resolved_ago=500))
    state.accept(report("RES-EARLY", 400, resolved_ago=4_000))
    for n in range(98):
        state.accept(report(f"OPEN-{n}", 3_000 - n))
    state.accept(report("NEW", 60))
    assert ids_of(store, "report") == {"RES-LATE", "NEW"} | {f"OPEN-{n}" for n in range(98)}


# --- the picture is the same document on both backends ---------------------------------------------
@pytest.mark.integration
def test_picture_is_the_same_on_both_backends(redis_url: str, config: Config) -> None:
    memory, shared = MemoryStore(), RedisStore(redis_url)
    try:
        for backend in (memory, shared):
            feed_city_day(backend, config)
        mine, theirs = build_picture(memory, config, NOW), build_picture(shared, config, NOW)
        assert comparable(theirs) == comparable(mine)
        assert mine.incidents.open_count == 3 and mine.drainage.worst_stage == "Awas"
        assert mine.mpp.served_today == 411 and mine.waste.over_threshold == 1
        assert memory.feeds() == shared.feeds() and memory.dead_letters() == shared.dead_letters()
        assert all(memory.series(k) == shared.series(k) for k in ("kpi:open_incidents", "kpi_h:open_incidents"))
        assert memory.series("kpi:open_incidents"), "sampled KPIs landed in a series"
    finally:
        memory.close()
        shared.close()


def test_get_reads_only_the_named_entities(store: StateStore) -> None:
    store.upsert("report", "a", T, {"id": "a", "n": 1})
    store.upsert("report", "b", T + 1, {"id": "b", "n": 2.5, "none": None})
    assert store.get("report", ["b", "missing", "a"]) == {"b": {"id": "b", "n": 2.5, "none": None}, "a": {"id": "a", "n": 1}}
    assert store.get("report", []) == {}
    assert store.get("nothing", ["a"]) == {}


def test_get_each_reads_several_kinds_by_kind(store: StateStore) -> None:
    store.upsert("report", "a", T, {"id": "a", "n": 1})
    store.upsert("incident", "a", T, {"id": "a", "severity": "high"})
    assert store.get_each({"report": ["a", "missing"], "incident": ["a"], "incident_ops": ["a"], "kpi": []}) == {
        "report": {"a": {"id": "a", "n": 1}},
        "incident": {"a": {"id": "a", "severity": "high"}},
        "incident_ops": {},
        "kpi": {},
    }


# --- caps on distinct ids --------------------------------------------------------------------------
def test_a_new_station_past_the_cap_is_refused_and_known_ones_still_update(store: StateStore, config: Config) -> None:
    state = city(store, config, stations_max=3)
    for n in range(3):
        assert state.accept(water(f"S{n}", 600, 1.0)) is True
    with pytest.raises(Rejected) as caught:
        state.accept(water("S-new", 500, 1.0))
    assert caught.value.reason is Reason.TOO_MANY_ENTITIES
    assert state.accept(water("S1", 60, 2.5)) is True, "a known station still updates at the cap"
    assert store.count("water_level") == 3 and ids_of(store, "water_level") == {"S0", "S1", "S2"}


def test_at_the_cap_a_station_silent_for_a_week_gives_way_to_a_new_one(store: StateStore, config: Config) -> None:
    """Stations never age out otherwise: made-up ids that filled the cap kept every new real
    one out for good. One silent for less than a week still keeps its place."""
    state = city(store, config, stations_max=3)
    state.accept(water("JUNK-1", 8 * 86_400, 1.0))
    state.accept(water("JUNK-2", 9 * 86_400, 1.0))
    state.accept(water("RECENT", 6 * 86_400, 1.0))
    assert [v for _, v in store.series("water_level:JUNK-2")] == [1.0]
    assert state.accept(water("REAL-1", 60, 1.2)) is True
    assert state.accept(water("REAL-2", 50, 1.3)) is True
    assert ids_of(store, "water_level") == {"RECENT", "REAL-1", "REAL-2"}
    assert store.series("water_level:JUNK-2") == [], "its series went with it"
    with pytest.raises(Rejected) as caught:
        state.accept(water("REAL-3", 40, 1.4))
    assert caught.value.reason is Reason.TOO_MANY_ENTITIES


def test_the_cap_is_dead_lettered_by_the_feed_with_its_reason(store: StateStore, config: Config) -> None:
    from feeds.health import FeedStats
    from feeds.pipeline import Pipeline

    state = city(store, config, stations_max=2)
    stats = FeedStats("mqtt")

    class Direct:
        def decode(self, payload: bytes, origin: str = "") -> Event:
            return water(payload.decode(), 60, 1.0)

    pipeline = Pipeline(Direct(), state, stats)
    assert [pipeline.handle(name.encode(), "city/water") for name in ("A", "B", "C", "A")] == [True, True, False, True]
    assert [d["reason"] for d in store.dead_letters()] == ["too_many_entities"]
    assert stats.snapshot()["rejected"] == {"too_many_entities": 1}


# --- operations: compare-and-swap and the audit trail ----------------------------------------
def test_swap_creates_only_when_absent_and_then_needs_the_stamp(store: StateStore) -> None:
    assert store.read_stamped("incident_ops", "A") is None
    before = store.version()
    assert store.swap("incident_ops", "A", None, 100.5, {"rev": 1}) is True
    assert store.version() == before + 1
    assert store.read_stamped("incident_ops", "A") == (100.5, {"rev": 1})
    # a second creator, who also saw nothing, loses
    assert store.swap("incident_ops", "A", None, 101.0, {"rev": "other"}) is False
    # a writer holding a stale stamp loses; the one holding the current stamp wins
    assert store.swap("incident_ops", "A", 99.0, 102.0, {"rev": "stale"}) is False
    assert store.swap("incident_ops", "A", 100.5, 0.1 + 0.2 + 102, {"rev": 2}) is True
    assert store.read_stamped("incident_ops", "A") == (0.1 + 0.2 + 102, {"rev": 2})
    assert store.version() == before + 2


def test_swap_of_two_racing_writers_keeps_exactly_one(store: StateStore) -> None:
    store.swap("wall_control", "wall", None, 1.0, {"n": 0})
    stamp, _ = store.read_stamped("wall_control", "wall")  # type: ignore[misc]
    results = [store.swap("wall_control", "wall", stamp, 2.0 + i, {"n": i}) for i in (1, 2)]
    assert results == [True, False]
    assert store.read_stamped("wall_control", "wall") == (3.0, {"n": 1})


def test_swapped_records_go_with_delete_and_count_no_feed_traffic(store: StateStore) -> None:
    store.swap("incident_ops", "B", None, 5.0, {"x": 1})
    assert "incident_ops" not in store.last_seen()
    assert store.delete("incident_ops", ["B"]) == 1
    assert store.read_stamped("incident_ops", "B") is None
    assert store.swap("incident_ops", "B", None, 6.0, {"x": 2}) is True


def test_audit_is_bounded_newest_first(store: StateStore) -> None:
    for i in range(7):
        store.append_audit({"i": i, "what": "acknowledge"}, keep=5)
    assert [e["i"] for e in store.audit(10)] == [6, 5, 4, 3, 2]
    assert [e["i"] for e in store.audit(2)] == [6, 5]
    assert store.audit(0) == []


# --- expiring counters (the login throttle) -------------------------------------------------
def test_a_counter_counts_clears_and_expires_by_itself(store: StateStore) -> None:
    assert [store.count_up("tries", "10.0.0.1", 60) for _ in range(3)] == [1, 2, 3]
    store.count_up("tries", "10.0.0.2", 60)
    counts = [store.counted("tries", "10.0.0.1"), store.counted("tries", "10.0.0.2"), store.counted("other", "10.0.0.1")]
    assert counts == [3, 1, 0]
    store.count_clear("tries", "10.0.0.1")
    assert store.counted("tries", "10.0.0.1") == 0
    store.count_up("tries", "short", 0.2)
    assert store.counted("tries", "short") == 1
    wait_until(lambda: store.counted("tries", "short") == 0, 10, "the counter to go at the end of its ttl")
    assert store.count_up("tries", "short", 60) == 1, "and counts from zero again"

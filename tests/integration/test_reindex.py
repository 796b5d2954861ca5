"""Rows written by an older release are rewritten once, when ingest starts, on both stores.

An upgrade that keys the queue by another time left every incident stored before it under its
old key until its next message; one that adds an index left those incidents out of it. The
property test in ``test_read_models.py`` checks a rebuild against read models computed from
scratch; these check the start-up that runs it and a rebuild racing an operator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboard.config import Config, load_config
from dashboard.desk import Desk
from dashboard.incident_ops import Action, Actor
from dashboard.ingest import CityState
from dashboard.read_models import INCIDENTS_NEW, INCIDENTS_OPEN, INDEXES, READ_MODELS_VERSION
from dashboard.reindex import META, layout_of, rebuild
from dashboard.runtime import start_ingest
from dashboard.store.base import IndexRow, StateStore
from feeds.events import Incident

START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
OPERATOR = Actor("ani", "operator", "session", "127.0.0.1")


@pytest.fixture
def store(each_store: StateStore) -> StateStore:
    return each_store


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(environ={})


def incident(entity_id: str, severity: str, opened_min: int, updated_min: int) -> Incident:
    return Incident(
        id=entity_id,
        observed_at=START + timedelta(minutes=updated_min),
        opened_at=START + timedelta(minutes=opened_min),
        source_type="Alert",
        category="traffic",
        severity=severity,  # type: ignore[arg-type]
        status="new",
        kecamatan="Sail",
        description=f"kejadian {entity_id}",
    )


def keyed_by_update(store: StateStore) -> None:
    """The queue as a release that keyed it by the last update wrote it, the takeover index
    missing: every open incident, newest update first, in one severity band."""
    for entity_id in store.entities("incident"):
        stamped = store.read_stamped("incident", entity_id)
        assert stamped is not None
        stamp, doc = stamped
        rows = tuple(IndexRow(i, entity_id) for i in INDEXES["incident"] if i != INCIDENTS_OPEN)
        rows += (IndexRow(INCIDENTS_OPEN, entity_id, f"1{99_999_999_999 - stamp:015.3f}|{entity_id}", doc, ("status:new",)),)
        assert store.swap("incident", entity_id, stamp, stamp, doc, rows)


def queue(store: StateStore) -> list[str]:
    return [doc["id"] for _, doc in store.index_page(INCIDENTS_OPEN, limit=10)]


def test_ingest_rewrites_an_older_releases_rows_once_at_start(store: StateStore, config: Config) -> None:
    state = CityState(store, config)
    state.accept(incident("A", "high", opened_min=0, updated_min=50))  # opened first, updated last
    state.accept(incident("B", "high", opened_min=10, updated_min=20))
    state.accept(incident("C", "critical", opened_min=30, updated_min=30))
    keyed_by_update(store)
    assert queue(store) == ["A", "C", "B"]  # the old order: newest update first, severity lost
    assert store.index_page(INCIDENTS_NEW) == []

    ingest = start_ingest(config, store)  # the shipped config names no feed: only its threads start
    try:
        rebuilding = next(t for t in ingest.threads if t.name == "read-model-rebuild")
        rebuilding.join(timeout=60)
        assert not rebuilding.is_alive()
    finally:
        ingest.stop()

    assert queue(store) == ["C", "B", "A"]  # the critical first, then newest opened first
    assert [doc["id"] for _, doc in store.index_page(INCIDENTS_NEW)] == ["C", "A", "B"]  # oldest opening first
    assert store.index_tags(INCIDENTS_OPEN)["status:new"] == 3
    assert layout_of(store) == str(READ_MODELS_VERSION)


def test_a_store_marked_current_is_left_as_it_is(store: StateStore, config: Config) -> None:
    state = CityState(store, config)
    state.accept(incident("A", "high", opened_min=0, updated_min=50))
    state.accept(incident("B", "high", opened_min=10, updated_min=20))
    keyed_by_update(store)
    store.map_put(META, "read_models", str(READ_MODELS_VERSION))

    ingest = start_ingest(config, store)
    try:
        rebuilding = next(t for t in ingest.threads if t.name == "read-model-rebuild")
        rebuilding.join(timeout=60)
    finally:
        ingest.stop()

    assert queue(store) == ["A", "B"]


class ActsFirst:
    """A store on which an operator acts on an incident just before the rebuild's first
    write of it: after the rebuild read the incident and made its rows."""

    def __init__(self, store: StateStore, act: Any) -> None:
        self._store = store
        self._act = act

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def swap(self, kind: str, *args: Any, **kwargs: Any) -> bool:
        if kind == "incident" and self._act is not None:
            act, self._act = self._act, None
            act()
        return bool(self._store.swap(kind, *args, **kwargs))


def test_an_operators_action_during_the_rebuild_is_not_undone(store: StateStore, config: Config) -> None:
    CityState(store, config).accept(incident("A", "high", opened_min=0, updated_min=5))
    keyed_by_update(store)
    desk = Desk(store, config, clock=lambda: (START + timedelta(minutes=6)).timestamp())

    done = rebuild(ActsFirst(store, lambda: desk.act("A", Action("acknowledge"), OPERATOR)), config)  # type: ignore[arg-type]

    assert done.rewritten == 1
    tags = store.index_tags(INCIDENTS_OPEN)
    assert (tags.get("status:acknowledged"), tags.get("status:new")) == (1, None)
    assert store.index_page(INCIDENTS_NEW) == []  # acknowledged: no longer waiting for a first look


def test_a_new_store_is_marked_before_the_feed_writes_and_nothing_is_rewritten(store: StateStore, config: Config) -> None:
    """A rebuild racing the first messages into an empty store rewrote them for nothing: each
    rewrite is a change every page hears of, and a restarted ingest's count of changes came
    out one over the messages it stored."""
    ingest = start_ingest(config, store)
    try:
        assert layout_of(store) == str(READ_MODELS_VERSION)  # on return, before any feed could write
        rebuilding = next(t for t in ingest.threads if t.name == "read-model-rebuild")
        rebuilding.join(timeout=60)
        assert not rebuilding.is_alive()
    finally:
        ingest.stop()
    assert store.version() == 0

"""The in-process store's cost to the garbage collector: a full pass must not walk the city.

Every full pass of Python's collector visits each container it tracks while the feed and the
pages wait, so a store that keeps a tracked object per entity makes those pauses grow with
the city (see ``dashboard.store.memory``)."""

from __future__ import annotations

import gc
from collections.abc import Callable

from dashboard.store.base import IndexRow
from dashboard.store.memory import MemoryStore

ENTITIES = 2_000


def _incident(n: int) -> tuple[str, dict[str, object], IndexRow]:
    entity_id = f"Alert:{n:05d}"
    doc = {"id": entity_id, "severity": "critical", "kecamatan": "Sukajadi", "lat": 0.5, "lon": 101.4}
    row = IndexRow("incidents:open", entity_id, key=f"0|{n:05d}|{entity_id}", doc=dict(doc), tags=("severity:critical",))
    return entity_id, doc, row


def _tracked_after(write: Callable[[], None]) -> int:
    """Tracked objects the process has after ``write()`` beyond what it had before it."""
    gc.collect()
    before = len(gc.get_objects())
    write()
    gc.collect()
    return len(gc.get_objects()) - before


def test_the_collector_tracks_no_object_per_entity_or_row() -> None:
    store = MemoryStore()

    def write() -> None:
        for n in range(ENTITIES):
            entity_id, doc, row = _incident(n)
            store.upsert("incident", entity_id, float(n), doc, rows=(row,))

    grown = _tracked_after(write)
    assert store.count("incident") == ENTITIES
    assert store.index_count("incidents:open") == ENTITIES
    assert grown < 100  # the maps of a new kind and index, not one object per entity

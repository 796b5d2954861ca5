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


def test_a_flood_of_wrong_passwords_does_not_push_out_a_logged_out_session_s_mark() -> None:
    """The ended-session marks and the login throttle's counters shared one bounded table:
    wrong passwords from a few thousand addresses pushed the marks out, and a copy of a
    logged-out supervisor's cookie worked again. Each counter name now has its own bound."""
    from dashboard.auth.service import ENDED
    from dashboard.auth.throttle import BY_ADDRESS, BY_NAME
    from dashboard.store.memory import COUNTERS_MAX

    store = MemoryStore()
    store.count_up(ENDED, "session-of-the-supervisor", ttl_s=12 * 3600)
    for n in range(COUNTERS_MAX + 10):
        store.count_up(BY_ADDRESS, f"10.0.{n // 256}.{n % 256}", 900)
        store.count_up(BY_NAME, f"10.0.{n // 256}.{n % 256}|supervisor", 900)
    assert store.counted(ENDED, "session-of-the-supervisor") == 1
    assert store.counted(BY_ADDRESS, "10.0.0.0") == 0, "the throttle's own table is still bounded: its oldest went"
    assert store.counted(BY_ADDRESS, f"10.0.{(COUNTERS_MAX + 9) // 256}.{(COUNTERS_MAX + 9) % 256}") == 1

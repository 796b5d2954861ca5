"""Rebuilding the read models when an upgrade changed how their rows are made.

The read models are written with each entity (``dashboard.read_models``), so a Redis store
that outlives an upgrade keeps every row the old code wrote: when a release keys the queue
by another time, or adds an index, the incidents stored before it kept their old key, and
were missing from the new index, until their next message, which for a quiet incident
might never come. The store records which layout its rows follow (``READ_MODELS_VERSION``);
an ingest process that finds another one rewrites the rows of every incident and report
from the entity as stored, once, beside the feed.

Each entity is rewritten with a compare-and-swap on its stamp, so a message that arrives
meanwhile wins and its own rows stand; an incident whose operators' record changed while
its rows were being made is made again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dashboard.config import Config
from dashboard.incident_ops import OPS_KIND, merged
from dashboard.read_models import READ_MODELS_VERSION, rows_for
from dashboard.store.base import StateStore

#: The named map where the store says which layout its read models follow.
META = "store:meta"
LAYOUT_KEY = "read_models"
#: The kinds that have read models (``read_models.INDEXES``).
KINDS = ("incident", "report")
TRIES = 3
#: Past every stamp a store holds, and more ids than any cap keeps: ``oldest`` lists them all,
#: by id alone (reading every document at once would move the whole city in one reply).
EVER = 1e12
ENTITIES_MAX = 1_000_000


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: rows rewritten, entities a newer message had already rewritten,
    and how long it took."""

    rewritten: int
    overtaken: int
    seconds: float


def layout_of(store: StateStore) -> str | None:
    return store.map_get(META, LAYOUT_KEY)


def mark_if_new(store: StateStore) -> bool:
    """Mark a store that holds no incident or report yet as following this layout, before the
    feed writes to it: it has no rows of another, and a rebuild racing the first messages
    would rewrite them for nothing (each a change every page hears of)."""
    if layout_of(store) is not None or any(store.count(kind) for kind in KINDS):
        return False
    store.map_put(META, LAYOUT_KEY, str(READ_MODELS_VERSION))
    return True


def rebuild_if_needed(store: StateStore, config: Config) -> Rebuilt | None:
    """Rebuild when the store's rows follow another layout (or say none: written before the
    store recorded it); None when they are current. The mark is set only once every entity is
    done, so a process stopped half-way leaves the work to the next one."""
    if layout_of(store) == str(READ_MODELS_VERSION):
        return None
    done = rebuild(store, config)
    store.map_put(META, LAYOUT_KEY, str(READ_MODELS_VERSION))
    return done


def rebuild(store: StateStore, config: Config) -> Rebuilt:
    started = time.monotonic()
    rewritten = overtaken = 0
    for kind in KINDS:
        for entity_id in store.oldest(kind, EVER, limit=ENTITIES_MAX):
            if _rewrite(store, config, kind, entity_id):
                rewritten += 1
            else:
                overtaken += 1
    return Rebuilt(rewritten, overtaken, round(time.monotonic() - started, 3))


def _rewrite(store: StateStore, config: Config, kind: str, entity_id: str) -> bool:
    """The entity's rows as this release makes them, written with the entity unchanged. False
    when the entity changed or went meanwhile: whoever changed it wrote current rows."""
    for _ in range(TRIES):
        stamped = store.read_stamped(kind, entity_id)
        if stamped is None:
            return False
        stamp, doc = stamped
        record = store.read_stamped(OPS_KIND, entity_id) if kind == "incident" else None
        shown = merged(doc, record[1]) if record else doc
        if not store.swap(kind, entity_id, stamp, stamp, doc, rows_for(kind, shown, config)):
            return False
        if kind != "incident" or store.read_stamped(OPS_KIND, entity_id) == record:
            return True  # an operator's action in between would have laid its own record over stale rows
    return False

"""Where each piece of the city lives in Redis: the families, their hash tags and the key names.

The layout itself (which family holds what, and why) is explained in
``dashboard.store.redis_store``; this module only turns kinds, index names and series keys
into key names, so that the store, its scripts' callers and its tests agree on one table.

Every key is ``<prefix>:{<prefix>:<family>}:<name>``. The part in braces is the hash tag: a
Redis Cluster places a key by its tag only, so all keys of one family share one slot (and one
master), and one Lua script may touch any of them atomically, while the families themselves
fall on different slots and so, on a cluster of several masters, on different masters. The
prefix is inside the tag too, so two cities in one cluster spread independently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A set of kinds that one atomic write may touch together, with what belongs to them.

    ``indexes`` and ``series`` are name prefixes (the part before the first ``:``): the read
    model ``incidents:open`` belongs to the family listing ``incidents``, the series
    ``water_level:PS-01`` to the one listing ``water_level``.
    """

    name: str
    kinds: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    series: tuple[str, ...] = ()


#: The families of a city. Kind names are the ones the ingest and the operations write
#: (``feeds.events`` kinds, ``dashboard.ingest.OPS_KIND``, ``dashboard.wall_control.KIND``);
#: ``tests/test_store_redis.py`` checks that each of them has a family of its own here.
FAMILIES: tuple[Family, ...] = (
    # an incident, the operators' record laid over it (their ``swap`` rewrites the incident's
    # rows) and every incident read model
    Family("incidents", kinds=("incident", "incident_ops"), indexes=("incidents",), series=("incident", "incident_ops")),
    Family("reports", kinds=("report",), indexes=("reports",), series=("report",)),
    Family("drainage", kinds=("water_level",), series=("water_level",)),
    Family("waste", kinds=("waste_fill",), series=("waste_fill",)),
    Family("mpp", kinds=("queue",), series=("queue",)),
    Family("kpis", kinds=("kpi",), series=("kpi", "kpi_h")),
    # feed health (per feed and per ingest member) and the dead letters
    Family("feeds"),
    # what people do: the wall's control record, the audit trail, identity maps, the epoch
    Family("ops", kinds=("wall_control",), series=("wall_control",)),
    # any kind, read model or series not named above (kept together, so they stay consistent)
    Family("other"),
)
OTHER = "other"
FEEDS = "feeds"
OPS = "ops"


class KeyLayout:
    """Key names for one city (``prefix``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.families: tuple[str, ...] = tuple(f.name for f in FAMILIES)
        self._by_kind = {kind: f.name for f in FAMILIES for kind in f.kinds}
        self._by_index = {name: f.name for f in FAMILIES for name in f.indexes}
        self._by_series = {name: f.name for f in FAMILIES for name in f.series}
        #: The one pub/sub channel every change is announced on (a channel, not a key: it has
        #: no slot, and a cluster hands a PUBLISH on any master to subscribers on every node).
        self.channel = f"{prefix}:changed"

    # --- which family --------------------------------------------------------------------
    def family_of_kind(self, kind: str) -> str:
        return self._by_kind.get(kind, OTHER)

    def family_of_index(self, index: str) -> str:
        return self._by_index.get(index.split(":", 1)[0], OTHER)

    def family_of_series(self, key: str) -> str:
        return self._by_series.get(key.split(":", 1)[0], OTHER)

    def tag(self, family: str) -> str:
        """The hash tag, braces included: what ``CLUSTER KEYSLOT`` is computed on."""
        return f"{{{self.prefix}:{family}}}"

    def key(self, family: str, name: str) -> str:
        return f"{self.prefix}:{self.tag(family)}:{name}"

    # --- per family ----------------------------------------------------------------------
    def version(self, family: str) -> str:
        """The family's change counter (INCR); the store's version is the sum over families."""
        return self.key(family, "version")

    def kinds(self, family: str) -> str:
        """Per kind of the family, its change counter (a hash)."""
        return self.key(family, "version:kind")

    def seen(self, family: str) -> str:
        """Per kind of the family, the server time of the newest accepted message (a hash)."""
        return self.key(family, "seen")

    def ticker(self, family: str) -> str:
        """The family's ticker lines, newest first, each behind its order stamp (a list)."""
        return self.key(family, "recent")

    def ticker_clock(self, family: str) -> str:
        """The family's last ticker stamp and the ``keep`` given with it (a hash)."""
        return self.key(family, "recent:clock")

    # --- per kind, index and series ---------------------------------------------------------
    def idx(self, kind: str) -> str:
        """The kind's ids scored by observed_at (a sorted set)."""
        return self.key(self.family_of_kind(kind), f"idx:{kind}")

    def ent(self, kind: str) -> str:
        """The kind's documents by id (a hash)."""
        return self.key(self.family_of_kind(kind), f"ent:{kind}")

    def series(self, key: str) -> str:
        return self.key(self.family_of_series(key), f"series:{key}")

    def index(self, index: str) -> tuple[str, str, str, str]:
        """A read model's four keys: keys in order (sorted set), row per key (hash), meta per
        id (hash: key and tags), rows per tag (hash)."""
        family = self.family_of_index(index)
        return (
            self.key(family, f"ix:{index}"),
            self.key(family, f"ixr:{index}"),
            self.key(family, f"ixm:{index}"),
            self.key(family, f"ixc:{index}"),
        )

    # --- one family each -----------------------------------------------------------------
    def dead(self) -> str:
        return self.key(FEEDS, "dead")

    def feed_names(self) -> str:
        return self.key(FEEDS, "feeds")

    def feed(self, feed: str, part: str) -> str:
        return self.key(FEEDS, f"feed:{feed}:{part}")

    def audit(self) -> str:
        return self.key(OPS, "audit")

    def named_map(self, name: str) -> str:
        return self.key(OPS, f"map:{name}")

    def counter(self, name: str, key: str) -> str:
        """An expiring counter (``count_up``): a key of its own, so Redis expires it."""
        return self.key(OPS, f"count:{name}:{key}")

    def epoch(self) -> str:
        return self.key(OPS, "epoch")

    def reset(self) -> str:
        return self.key(OPS, "reset")

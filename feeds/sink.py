"""The one port feed adapters write into.

``feeds`` knows nothing of the store: an adapter is handed something that satisfies
``EventSink`` and calls it synchronously for every message. Acknowledging to the broker
(MQTT PUBACK, Redis XACK) happens only after ``accept`` or ``reject`` returned, so a crash
between receipt and storage means redelivery, never loss; the store's idempotent upsert
turns the redelivery into a no-op.
"""

from __future__ import annotations

from typing import Any, Protocol

from feeds.events import DeadLetter, Event


class StoreUnavailable(ConnectionError):
    """The store cannot be reached right now (connection refused, timeout, still loading).

    This is the one failure that leaves a message unacknowledged, to be delivered again.
    Any other exception from ``accept`` is about the message itself (the store refused what
    it was given): retrying it would only stop the feed for every message behind it, so it
    is dead-lettered as ``store_rejected`` and acknowledged. A plain ``OSError`` (a socket
    that broke) counts as unavailable too.
    """


class EventSink(Protocol):
    def accept(self, event: Event) -> bool:
        """Store the event; True when it changed the city state (False: duplicate or older).

        Raises ``StoreUnavailable`` when the store is away, ``Rejected`` when the store
        refuses this event by rule (a new id past a cap)."""
        ...

    def reject(self, letter: DeadLetter) -> None:
        """Keep a dead letter (bounded) for inspection."""
        ...

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        """Add ``counts`` (deltas) to the feed's totals and replace its status fields."""
        ...

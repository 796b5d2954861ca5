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


class EventSink(Protocol):
    def accept(self, event: Event) -> bool:
        """Store the event; True when it changed the city state (False: duplicate or older)."""
        ...

    def reject(self, letter: DeadLetter) -> None:
        """Keep a dead letter (bounded) for inspection."""
        ...

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        """Add ``counts`` (deltas) to the feed's totals and replace its status fields."""
        ...

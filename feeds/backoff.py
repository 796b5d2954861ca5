"""The one retry policy of the feeds: doubling waits, capped, reset after a success.

A feed that lost its broker or its store retries on its own; waits that double keep a down
Redis or broker from being hammered, the cap keeps recovery within seconds once it is back,
and a reset after a success makes the next outage start short again. The Redis adapters and
the simulator's Redis publisher use it; paho has its own (``reconnect_delay_set``).
"""

from __future__ import annotations


class Backoff:
    """Doubling waits from ``first`` up to ``cap`` seconds; ``reset()`` after a success."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        if first <= 0 or cap < first:
            raise ValueError("backoff needs 0 < first <= cap")
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        """The wait before the next attempt; the one after it is twice as long, up to the cap."""
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first

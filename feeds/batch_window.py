"""A busy feed's messages handed on a few at a time: less CPU for a few ms of latency.

Off unless a city sets ``feeds.mqtt.hold_ms``. At 500 Alerts/s a message comes every 2 ms,
and each one wakes the MQTT thread: a ``select``, a read, paho's turn of its loop, the
normaliser and the store on caches that the broker, the browser and the web server have
just filled with their own work. Held while the feed is busy and then handed on together,
the same messages took the ingest process from 11.7-13.5 % to 7.1-7.8 % of a core in
``bench/ingest_floor.py`` (``bench/README.md``).

Most of that is fewer wakes, not warmer caches, and it comes from the broker: Mosquitto,
like most brokers, leaves Nagle's algorithm on, so while this client's acknowledgements are
held back the broker gathers what it sends into one write per window. That is also the
price: every message may wait up to the hold, a critical Alert as much as a water level,
because the broker holds it before this client can see what it is. With the hold at 10 ms
a trial's critical Alert took 16-18 ms to show on ``/screen/4`` at 500 Alerts/s where it
took 13.5-13.8 ms without. A city whose ingest runs short of CPU may choose that; the
default keeps the latency.

- The first message after a quiet spell goes at once: an idle city waits for nothing, and a
  feed slower than one message in ``BUSY_S`` is not held at all.
- Held messages go in the order they came, so the acknowledgements leave in order, as MQTT
  asks; none is acknowledged before it is stored.

The window only decides; the client that reads (``feeds.mqtt_socket``) holds and hands on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: A message within this of the one before finds the feed busy (50 a second or more).
BUSY_S = 0.02
#: Handed on at once when this many are held. Mosquitto sends a client 20 unacknowledged
#: messages at most (``max_inflight_messages``): holding more would stall the broker until
#: the window ran out.
MOST = 16


class BatchWindow(Generic[T]):
    """What is held and when it must go: ``add`` says when to hand on, ``take`` empties."""

    def __init__(
        self, hold_s: float, *, busy_s: float = BUSY_S, most: int = MOST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.hold_s = hold_s
        self.busy_s = busy_s
        self.most = most
        self.clock = clock
        self.held: list[T] = []
        self._since = 0.0  # when the oldest held message came
        self._last = -busy_s  # when the last message came

    def add(self, item: T) -> bool:
        """Hold ``item``; True when everything held should be handed on now."""
        now = self.clock()
        busy = now - self._last < self.busy_s
        self._last = now
        if not self.held:
            self._since = now
        self.held.append(item)
        return not busy or len(self.held) >= self.most or now - self._since >= self.hold_s

    def wait(self) -> float | None:
        """Seconds until the held messages must go (0 when overdue), None when none are held."""
        if not self.held:
            return None
        return max(0.0, self._since + self.hold_s - self.clock())

    def take(self) -> list[T]:
        """Everything held, oldest first; the window is empty afterwards."""
        held, self.held = self.held, []
        return held

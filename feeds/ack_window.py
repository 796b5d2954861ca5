"""A busy feed's acknowledgements held a few ms: less CPU for a few ms of latency.

Off unless a city sets ``feeds.mqtt.hold_ms``. At 500 Alerts/s a message comes every 2 ms,
and each one wakes the MQTT thread: a ``select``, a read, paho's turn of its loop, the
normaliser and the store on caches that the broker, the browser and the web server have
just filled with their own work, and an acknowledgement sent back.

Every message is still handed on and stored the moment it is read; only its PUBACK waits,
for ``hold_ms`` at most from the first one held. The broker then gathers what it sends: like
most brokers, Mosquitto leaves Nagle's algorithm on, so while a client has not answered it
puts what comes next into one write. The MQTT thread wakes once per window for several
messages instead of once for each. In ``bench/ingest_floor.py`` at 500 new Alerts/s, 10 ms
took the ingest process from 11.9-12.2 % to 7.4-7.7 % of a core (Node-RED's whole ingest:
7.2-7.9 %).

That is also the price: a message may wait at the broker up to ``hold_ms``, a critical Alert
as much as a water level, because the broker holds it before this client can see what it
is (a first version held the messages themselves and let those naming critical severity
through at once; the broker's wait remained). At 500 new Alerts/s a trial's critical Alert
took 17.7 ms to show on ``/screen/4`` (p50) where it took 13.5 ms without. A city whose ingest
runs short of CPU may choose that; the default keeps the latency. ``feeds.gather`` (on by
default) keeps the messages in the socket's buffer instead and answers the broker at once:
most of the saving, without the wait.

- The first message after a quiet spell is acknowledged at once: an idle feed waits for
  nothing, and a feed slower than one message in ``BUSY_S`` is never held.
- Acknowledgements leave in the order the messages came, as MQTT asks, and only for messages
  already stored; held ones for a connection that is lost are dropped with it, and the broker
  sends those messages again.

The window only decides when; the client that reads (``feeds.mqtt_socket``) holds and sends.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: A message within this of the one before finds the feed busy (50 a second or more).
BUSY_S = 0.02
#: Acknowledged at once when this many wait. Mosquitto sends a client 20 unacknowledged
#: messages at most (``max_inflight_messages``): holding more would stall the broker until
#: the window ran out.
MOST = 16


class AckWindow:
    """When the held acknowledgements must go: ``read`` for each message of QoS 1 that came,
    ``due`` for the seconds left, ``sent`` once they went."""

    def __init__(
        self, hold_s: float, *, busy_s: float = BUSY_S, most: int = MOST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.hold_s = hold_s
        self.busy_s = busy_s
        self.most = most
        self.clock = clock
        self.waiting = 0  # messages read whose acknowledgements have not gone
        self._since = 0.0  # when the first of them came
        self._now = False  # one of them came after a quiet spell: they all go at once
        self._last = -math.inf  # when the last message came

    def read(self) -> None:
        now = self.clock()
        if now - self._last >= self.busy_s:
            self._now = True
        self._last = now
        if not self.waiting:
            self._since = now
        self.waiting += 1

    def due(self) -> float | None:
        """Seconds until the acknowledgements must go (0: now), None when none wait."""
        if not self.waiting:
            return None
        if self._now or self.waiting >= self.most:
            return 0.0
        return max(0.0, self._since + self.hold_s - self.clock())

    def sent(self) -> None:
        self.waiting = 0
        self._now = False

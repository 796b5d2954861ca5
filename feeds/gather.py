"""A busy feed's messages gathered a few ms and handled together; one naming a critical
severity as soon as it comes.

At 500 Alerts/s a message comes every 2 ms, and each one woke the MQTT thread to run the
normaliser, the store and the read models alone, on caches that the broker, the browser and
the web server had just filled with their own work: about three times the CPU the same code
takes when messages come back to back. So once a turn of the MQTT loop has read a message,
the next turn first reads what comes for ``feeds.mqtt.gather_ms`` into the socket's buffer,
and then hands all of it on in one go. In ``bench/peer_latency.py`` at 500 new Alerts/s, 20 ms
took citywall from 17.2-17.8 % of a core to 13.7-14.3 % in seven paired runs on ``/screen/4``
(``bench/README.md``).

What this must not cost, and what ends a wait early:

- **A critical incident.** The bytes are searched as they come, before any parsing, for a
  word that names the critical severity (``feeds.mappers``'s, in lower or upper case after
  the first letter, so "critical", "Critical" and "CRITICAL" all end it), and the wait ends
  at the first one. A message that changes a critical incident without naming its severity
  waits like any other; one that merely holds the letters ("arthritis") ends the wait early.
  Nothing is lost or reordered either way.
- **The broker's patience.** Each read during a wait is acknowledged at TCP level at once
  (``TCP_QUICKACK``, on Linux): like most brokers, Mosquitto leaves Nagle's algorithm on and
  would hold the next message, a critical one too, until our side answered. (Holding the
  PUBACKs instead, ``feeds.ack_window``, lets exactly that happen, for less CPU and more
  latency; with it set, messages are not gathered.)
- **The feed's rate.** PUBACKs go only once the messages are stored, and a broker sends a
  client only so many unacknowledged ones (Mosquitto 20 by default, some brokers fewer): a
  wait ends once ``MOST`` whole packets are in, and once nothing has come for ``QUIET_S``, so
  a broker that allows fewer is answered after that pause, not after the whole window.
- **A quiet feed:** only a turn that read a message gathers after it, so the first message
  after a pause is handed on as it comes.
- **Another thread's publish or disconnect,** which ends the wait too.

Pages do not show the difference: the push sends a page at most twenty frames a second and
the parts that move with every message of a busy feed once a second (``layouts.push``).
A connection over websockets is not gathered (paho's own wrapper reads it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Whole packets that end a wait: under Mosquitto's 20 unacknowledged messages a client.
MOST = 16
#: Nothing new for this long ends a wait: at 500 messages a second one comes every 2 ms, and a
#: broker that waits for our acknowledgements sends nothing at all.
QUIET_S = 0.005


@dataclass(frozen=True)
class Gather:
    """How long a busy feed's turn gathers, and which bytes end the wait at once."""

    hold_s: float
    marks: tuple[bytes, ...]
    most: int = MOST
    quiet_s: float = QUIET_S

    @property
    def overlap(self) -> int:
        """Bytes of what came before a read to search again with it: a word cut across two
        reads is found in the second."""
        return max((len(mark) for mark in self.marks), default=1) - 1

    def urgent(self, data: bytes) -> bool:
        return any(mark in data for mark in self.marks)


def urgent_marks(words: Iterable[str]) -> tuple[bytes, ...]:
    """Each word without its first letter, in lower and in upper case: the three ways a feed
    writes a level ("critical", "Critical", "CRITICAL") each hold one of the two."""
    marks: list[bytes] = []
    for word in words:
        rest = word[1:].lower()
        for mark in (rest.encode(), rest.upper().encode()):
            if mark and mark not in marks:
                marks.append(mark)
    return tuple(marks)

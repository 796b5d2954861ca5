"""How often a password may be tried, and how many at once.

Each try costs one Argon2 check (``passwords``): tens of milliseconds of a core and its
memory. Without a limit, a client could guess passwords as fast as the server checks them,
and a few dozen tries at once took both cores of a small server from the pages.

- **At once**: at most ``CONCURRENT`` checks run in a web worker; a try that finds them all
  busy is answered at once ("too many"), never queued behind them.
- **Per address**: after ``FAILURES`` wrong tries from one client address within
  ``WINDOW_S``, that address is answered "too many" until the oldest of them is that old. A
  right password clears the address. Behind the deploy's nginx the address is the browser's
  (uvicorn takes ``X-Forwarded-For`` from the proxy on loopback).

Per address rather than per user name: a name's lock would let anyone lock the supervisor
out of the command centre by guessing wrong on purpose. Each web worker counts for itself,
so ``serve --workers N`` allows N times as many; the addresses kept are bounded
(``ADDRESSES``), the longest quiet ones forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

CONCURRENT = 4
FAILURES = 10
WINDOW_S = 15 * 60.0
ADDRESSES = 10_000


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._checks = threading.BoundedSemaphore(CONCURRENT)
        self._lock = threading.Lock()
        self._failed: OrderedDict[str, deque[float]] = OrderedDict()

    def blocked(self, address: str) -> bool:
        """Whether ``address`` has used up its wrong tries for now."""
        with self._lock:
            recent = self._recent(address)
            return recent is not None and len(recent) >= FAILURES

    def begin(self) -> bool:
        """Take one of the checks that may run at once; False when all are busy. A True
        must be followed by ``end``."""
        return self._checks.acquire(blocking=False)

    def end(self, address: str, succeeded: bool) -> None:
        self._checks.release()
        with self._lock:
            if succeeded:
                self._failed.pop(address, None)
                return
            recent = self._recent(address) or deque(maxlen=FAILURES)
            recent.append(self._clock())
            self._failed[address] = recent
            self._failed.move_to_end(address)
            while len(self._failed) > ADDRESSES:
                self._failed.popitem(last=False)

    def _recent(self, address: str) -> deque[float] | None:
        """The address's wrong tries within the window (older ones dropped); None if none."""
        recent = self._failed.get(address)
        if recent is None:
            return None
        since = self._clock() - WINDOW_S
        while recent and recent[0] <= since:
            recent.popleft()
        if not recent:
            del self._failed[address]
            return None
        return recent

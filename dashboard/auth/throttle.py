"""How often a password may be tried, and how many at once.

Each try costs one Argon2 check (``passwords``): tens of milliseconds of a core and its
memory. Without a limit, a client could guess passwords as fast as the server checks them,
and a few dozen tries at once took both cores of a small server from the pages.

- **At once**: at most ``CONCURRENT`` checks run in a web worker; a try that finds them all
  busy is answered at once ("too many"), never queued behind them. This guards the worker's
  own cores, so each worker counts its own.
- **Per address**: after ``FAILURES`` wrong tries from one client address within
  ``WINDOW_S`` of the first of them, that address is answered "too many" until the window
  ends. A right password clears the address. Behind the deploy's nginx the address is the
  browser's (uvicorn takes ``X-Forwarded-For`` from the proxy on loopback).

The wrong tries are counted in the store (``Counters``: Redis behind ``serve --workers N``),
so every worker sees the same count: counted per worker, N workers allowed N times as many.
Each count expires by itself at the end of its window; the memory store keeps a bounded
number of them.

Per address rather than per user name: a name's lock would let anyone lock the supervisor
out of the command centre by guessing wrong on purpose.
"""

from __future__ import annotations

import threading

from dashboard.auth.maps import Counters

CONCURRENT = 4
FAILURES = 10
WINDOW_S = 15 * 60.0
#: The counters' name in the store.
COUNTER = "login-failures"
#: An address longer than this (none is) is cut to it before it names a counter.
ADDRESS_MAX = 64


class LoginThrottle:
    def __init__(self, counters: Counters) -> None:
        self._counters = counters
        self._checks = threading.BoundedSemaphore(CONCURRENT)

    def blocked(self, address: str) -> bool:
        """Whether ``address`` has used up its wrong tries for now."""
        return self._counters.counted(COUNTER, address[:ADDRESS_MAX]) >= FAILURES

    def begin(self) -> bool:
        """Take one of the checks that may run at once; False when all are busy. A True
        must be followed by ``end``."""
        return self._checks.acquire(blocking=False)

    def end(self, address: str, succeeded: bool) -> None:
        self._checks.release()
        if succeeded:
            self._counters.count_clear(COUNTER, address[:ADDRESS_MAX])
        else:
            self._counters.count_up(COUNTER, address[:ADDRESS_MAX], WINDOW_S)

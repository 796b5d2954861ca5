"""How often a password may be tried, and how many at once.

Each try costs one Argon2 check (``passwords``): tens of milliseconds of a core and its
memory. Without a limit, a client could guess passwords as fast as the server checks them,
and a few dozen tries at once took both cores of a small server from the pages.

- **At once**: at most ``CONCURRENT`` checks run in a web worker; a try that finds them all
  busy is answered at once ("too many"), never queued behind them. This guards the worker's
  own cores, so each worker counts its own.
- **Per address and name**: after ``FAILURES`` wrong passwords for one user name from one
  client address within ``WINDOW_S`` of the first of them, that name is answered "too many"
  from that address until the window ends. That user's right password clears the count: a
  right password for another name (the attacker's own account) clears nothing.
- **Per address**: after ``ADDRESS_FAILURES`` wrong passwords from one address for any names,
  the address is answered "too many" until its window ends, and no right password clears
  it: guessing is not spread over many names. Behind the deploy's nginx the address is the
  browser's (uvicorn takes ``X-Forwarded-For`` from the proxy).

The wrong tries are counted in the store (``Counters``: Redis behind ``serve --workers N``),
so every worker sees the same count: counted per worker, N workers allowed N times as many.
Each count expires by itself at the end of its window; the memory store keeps a bounded
number of them.

Never per user name alone: a name's lock would let anyone lock the supervisor out of the
command centre by guessing wrong on purpose; only that guesser's own address waits.
"""

from __future__ import annotations

import threading

from dashboard.auth.maps import Counters

CONCURRENT = 4
FAILURES = 10
ADDRESS_FAILURES = 30
WINDOW_S = 15 * 60.0
#: The counters' names in the store: by address and name, and by address.
BY_NAME = "login-failures"
BY_ADDRESS = "login-failures-address"
#: An address or a name longer than this is cut to it before it names a counter.
KEY_MAX = 64


class LoginThrottle:
    def __init__(self, counters: Counters) -> None:
        self._counters = counters
        self._checks = threading.BoundedSemaphore(CONCURRENT)

    def blocked(self, address: str, name: str) -> bool:
        """Whether ``address`` has used up its wrong tries for now, for ``name`` or for all."""
        counters = self._counters
        by_address = counters.counted(BY_ADDRESS, address[:KEY_MAX]) >= ADDRESS_FAILURES
        return by_address or counters.counted(BY_NAME, _key(address, name)) >= FAILURES

    def begin(self) -> bool:
        """Take one of the checks that may run at once; False when all are busy. A True
        must be followed by ``end``."""
        return self._checks.acquire(blocking=False)

    def end(self, address: str, name: str, succeeded: bool) -> None:
        self._checks.release()
        if succeeded:
            self._counters.count_clear(BY_NAME, _key(address, name))
        else:
            self._counters.count_up(BY_NAME, _key(address, name), WINDOW_S)
            self._counters.count_up(BY_ADDRESS, address[:KEY_MAX], WINDOW_S)


def _key(address: str, name: str) -> str:
    return f"{address[:KEY_MAX]} {name[:KEY_MAX]}"

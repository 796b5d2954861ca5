"""How often a password may be tried, and how many at once.

Each try costs one Argon2 check (``passwords``): tens of milliseconds of a core and its
memory. Without a limit, a client could guess passwords as fast as the server checks them,
and a few dozen tries at once took both cores of a small server from the pages.

- **At once**: at most ``CONCURRENT`` checks run in a web worker. This guards the worker's
  own cores, so each worker counts its own. A try that finds them all busy waits in line,
  first come first served, up to ``WAIT_S``, and is answered "too many" after that or when
  ``QUEUE`` tries wait already. It was answered at once, never queued: then wrong passwords
  sent together from three new addresses a second, each well under its limits below, kept
  the checks busy, and 15 of 20 operators' logins were refused. In line, a login waits for a
  few checks of tens of milliseconds. Each waiting try holds one of the server's threads
  (the sync routes share anyio's 40), so the line is short.
- **At once per address**: one address may have ``PER_ADDRESS`` tries in, checked or
  waiting; another is answered "too many" at once. Without it, one client sending many
  tries together filled the checks and the line, and everyone else waited behind it.
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
from collections import deque

from dashboard.auth.maps import Counters

CONCURRENT = 4
PER_ADDRESS = 2
QUEUE = 16
WAIT_S = 3.0
FAILURES = 10
ADDRESS_FAILURES = 30
WINDOW_S = 15 * 60.0
#: The counters' names in the store: by address and name, and by address.
BY_NAME = "login-failures"
BY_ADDRESS = "login-failures-address"
#: An address or a name longer than this is cut to it before it names a counter.
KEY_MAX = 64


class LoginThrottle:
    def __init__(self, counters: Counters, wait_s: float = WAIT_S) -> None:
        self._counters = counters
        #: How long a try waits in line for a check (tests shorten it).
        self.wait_s = wait_s
        self._turn = threading.Condition()
        self._running = 0
        self._line: deque[object] = deque()
        #: Tries in per address, checked or waiting; an address leaves when its last is out.
        self._held: dict[str, int] = {}

    @property
    def waiting(self) -> int:
        """Tries waiting in line for a check now."""
        with self._turn:
            return len(self._line)

    def blocked(self, address: str, name: str) -> bool:
        """Whether ``address`` has used up its wrong tries for now, for ``name`` or for all."""
        counters = self._counters
        by_address = counters.counted(BY_ADDRESS, address[:KEY_MAX]) >= ADDRESS_FAILURES
        return by_address or counters.counted(BY_NAME, _key(address, name)) >= FAILURES

    def begin(self, address: str) -> bool:
        """Take one of the checks that may run at once, waiting in line up to ``wait_s`` for
        it. False when ``address`` has its share in, the line is full or the wait ran out. A
        True must be followed by ``end``; a False leaves nothing behind, whatever ends the wait."""
        key = address[:KEY_MAX]
        with self._turn:
            if self._held.get(key, 0) >= PER_ADDRESS or len(self._line) >= QUEUE:
                return False
            self._held[key] = self._held.get(key, 0) + 1
            ticket = object()
            self._line.append(ticket)
            got = False
            try:
                got = self._turn.wait_for(lambda: self._line[0] is ticket and self._running < CONCURRENT, self.wait_s)
            finally:
                self._line.remove(ticket)
                if got:
                    self._running += 1
                else:
                    self._leave(key)
                self._turn.notify_all()  # the next in line may be first now
            return got

    def end(self, address: str, name: str, succeeded: bool) -> None:
        with self._turn:
            self._running -= 1
            self._leave(address[:KEY_MAX])
            self._turn.notify_all()
        if succeeded:
            self._counters.count_clear(BY_NAME, _key(address, name))
        else:
            self._counters.count_up(BY_NAME, _key(address, name), WINDOW_S)
            self._counters.count_up(BY_ADDRESS, address[:KEY_MAX], WINDOW_S)

    def _leave(self, key: str) -> None:
        """One of ``key``'s tries is out; the address is forgotten with its last (holding ``_turn``)."""
        left = self._held[key] - 1
        if left:
            self._held[key] = left
        else:
            del self._held[key]


def _key(address: str, name: str) -> str:
    return f"{address[:KEY_MAX]} {name[:KEY_MAX]}"

"""Is the store there, and is it still the same store? Answered from memory, never by waiting.

``/healthz`` used to ask Redis on every call; with Redis down each call waited out the
client's retries (over 10 s on a worker with open pages, because the poll callback did the
same blocking I/O on the event loop). ``StoreHealth`` asks instead, once a second, on its
own thread, with a short timeout (``store.health_check``), and keeps the answer:
``/healthz`` reads it, ``StoreGate`` answers 503 at once for routes that need the store
while it is away, and the picture cache serves the last picture rather than block.

Epoch: the store holds a random ``epoch`` written when it was first seen empty. A Redis
that restarts without persistence comes back empty, so the epoch is gone; the first check
that notices writes a new one and records the reset (time and previous epoch) in the store,
where feed health and ``/healthz`` show it to every process. For ``RESET_ALARM_S`` after a
reset ``/healthz`` says ``"status": "reset"`` (still 200: the worker serves, and the feeds
refill the city); after that the reset stays listed (``store.reset_at``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dashboard.web_security import send_json

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
#: A cached answer older than this is no answer: the checker itself is stuck.
MAX_AGE_S = 5.0
RESET_ALARM_S = 300.0


class StoreHealth:
    """The last answer of the store, refreshed on a thread; see the module doc."""

    def __init__(self, store: Any, every_s: float = CHECK_EVERY_S, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"ok": False, "checked_at": 0.0, "error": "not checked yet"}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_reset: list[Callable[[], None]] = []
        self._reset_owed = False  # a reset seen whose hooks have not all run yet

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (on the checking thread) whenever this process sees the store come
        back as another store: a new epoch, whoever wrote it."""
        self._on_reset.append(hook)

    def start(self) -> StoreHealth:
        self.check()
        self._thread = threading.Thread(target=self._run, name="store-health", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.check()

    def check(self) -> dict[str, Any]:
        """One probe; what ``snapshot`` returns until the next."""
        now = self._clock()
        try:
            answer = self.store.health_check()
        except Exception as exc:  # noqa: BLE001 - whatever it is, the store is not answering
            state = {"ok": False, "checked_at": now, "error": type(exc).__name__}
        else:
            state = {"ok": True, "checked_at": now, **answer}
            if answer.get("reset_now"):
                log.warning(
                    "the store was emptied (a new epoch replaces %s); the feeds are rebuilding the city",
                    answer.get("previous_epoch"),
                )
        with self._lock:
            known = self._state.get("epoch")
            if state["ok"] or "epoch" not in self._state:
                self._state = state
            else:  # keep what is known of the store while it is away
                self._state = {**{k: v for k, v in self._state.items() if k in ("epoch", "reset_at", "version")}, **state}
        if state["ok"] and known is not None and state.get("epoch") != known:
            self._reset_owed = True
        if state["ok"] and self._reset_owed:
            self._run_reset_hooks()
        return state

    def _run_reset_hooks(self) -> None:
        """The hooks of a reset, until they have all run once: one that fails (the store
        flapping again under its write) is tried again at the next check, and never takes
        the checking thread down with it, which would leave every check overdue."""
        try:
            for hook in self._on_reset:
                hook()
        except Exception:  # noqa: BLE001 - whatever it is, the next check tries again
            log.warning("a hook for the store's reset failed; trying again at the next check", exc_info=True)
            return
        self._reset_owed = False

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self._state)
        now = self._clock()
        if now - state.get("checked_at", 0.0) > MAX_AGE_S:
            state = {**state, "ok": False, "error": "health check overdue"}
        reset_at = state.get("reset_at")
        recent_reset = reset_at is not None and now - float(reset_at) < RESET_ALARM_S
        state["status"] = "error" if not state["ok"] else "reset" if recent_reset else "ok"
        return state

    @property
    def ok(self) -> bool:
        return bool(self.snapshot()["ok"])


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class StoreGate:
    """503 at once for the routes that read the store, while the store is known to be away.

    Pages, assets and Dash callbacks are not gated: a screen keeps what it shows and turns
    stale by itself; the picture cache answers them from memory meanwhile.
    """

    PREFIXES = ("/api/", "/metrics")
    EXEMPT = ("/api/v1/screens",)  # kept by this process, not the store

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], health: StoreHealth) -> None:
        self.app = app
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.PREFIXES) and not path.startswith(self.EXEMPT) and not self.health.ok:
            await send_json(send, 503, {"status": "error", "store": "unavailable"}, [(b"retry-after", b"2")])
            return
        await self.app(scope, receive, send)

"""The web side's view of the store: one picture per store version, shared by every page.

A picture is built at most once per version per process, however many screens, panels and
API clients ask, and then only its sections whose kinds moved are read again
(``dashboard.picture.Sections``). From a store in this process's memory, a section is read
only when some page or client first asks for it; a Redis store's picture is read whole, in a
thread, since a read there may wait on the network. Feed health and freshness change
without a new version (a feed drops, time passes), so they are read fresh on every call; they
are small. ``layouts.ports.CityReader`` is the interface panels see.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from dashboard.config import Config
from dashboard.picture import Sections, build_picture, live_sections
from dashboard.store.base import StateStore
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import is_outage
from layouts.picture import CityPicture
from layouts.sections import ScreensSummary, StoreStatus

#: The shortest time between two wake-ups of the pages by the change watcher.
WAKE_GAP_S = 0.01


class PictureCache:
    """``health`` (a ``dashboard.health.StoreHealth``) lets it answer from memory while the
    store is away, instead of blocking a page on a dead connection; ``screens`` adds what the
    app's screen registry knows to every picture.

    A picture is built again when the store's version moves, and also when the minute turns:
    what counts "today" or "the last 24 hours" (the MPP's day, resolved incidents, the KPIs)
    moves with the clock, and a quiet hour must not leave it standing. Only the sections that
    depend on the minute are read again then (``dashboard.picture.Sections``).
    """

    def __init__(
        self,
        store: StateStore,
        config: Config,
        health: Any = None,
        screens: Callable[[], ScreensSummary] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config
        self.health = health
        self.screens = screens
        self._lock = threading.Lock()
        self._clock = clock
        self._picture: CityPicture | None = None
        self._minute = -1  # the minute self._picture was built in
        self._sections = Sections()
        self._live: dict[str, Any] = {}
        self._last_extra: dict[str, Any] = {}
        self._watcher: _ChangeWatcher | None = None
        #: Whether a read may wait on the network (Redis): the push then reads in a thread.
        self.reads_block = not isinstance(store, MemoryStore)

    def store_ok(self) -> bool:
        return self.health is None or self.health.ok

    def version(self) -> int:
        if self.store_ok():
            try:
                return self.store.version()
            except Exception as exc:
                if not is_outage(exc):
                    raise
        return self._picture.version if self._picture is not None else -1

    async def changed(self, since: int, timeout: float) -> int:
        """Wait for a version other than ``since``; every open page awaits this at once."""
        return await self._watching().wait(since, timeout)

    async def urgent(self, since: float, timeout: float) -> bool:
        """Whether an urgent change reached the pages after ``since`` (``time.monotonic()``),
        waiting at most ``timeout`` for one; the push's frames wait on this between them."""
        return await self._watching().urgent(since, timeout)

    def _watching(self) -> _ChangeWatcher:
        """The watcher, started by the first page that waits (it needs the running loop)."""
        if self._watcher is None:
            with self._lock:
                if self._watcher is None:
                    self._watcher = _ChangeWatcher(self.store, asyncio.get_running_loop())
        return self._watcher

    def picture(self) -> CityPicture:
        """The city now; while the store is away, the last picture, at once (the pages turn
        stale by themselves). Also in the second before the health check has seen it go: a
        read that meets the outage then gives the last picture too, where it was a 500 with
        a traceback for every page's poll and push."""
        extra = self._extra()
        if self.store_ok():
            try:
                now = self._clock()
                live = self._live = _same_when_equal(live_sections(self.store, self.config, now), self._live)
                return self._by_version(now, live).but(**live, **extra)
            except Exception as exc:
                if not is_outage(exc):
                    raise
        return (self._picture or CityPicture()).but(**self._live, **extra)

    def _extra(self) -> dict[str, Any]:
        extra = self._last_extra = _same_when_equal(self._read_extra(), self._last_extra)
        return extra

    def _read_extra(self) -> dict[str, Any]:
        """``CityPicture`` fields that other objects of the app know, by field name."""
        extra: dict[str, Any] = {}
        if self.health is not None:
            state = self.health.snapshot()
            extra["store"] = StoreStatus(
                status=state["status"], ok=state["ok"], epoch=state.get("epoch"), reset_at=state.get("reset_at")
            )
        if self.screens is not None:
            extra["screens"] = self.screens()
        return extra

    def _by_version(self, now: float, live: dict[str, Any]) -> CityPicture:
        version, minute = self.store.version(), int(now // 60)
        cached = self._picture
        if cached is not None and cached.version == version and self._minute == minute:
            return cached
        with self._lock:
            cached = self._picture
            if cached is None or cached.version != version or self._minute != minute:
                cached = self._picture = build_picture(
                    self.store, self.config, now, sections=self._sections, live=live, lazy=not self.reads_block
                )
                self._minute = minute
            return cached


def _same_when_equal(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Sections read afresh on every call keep their old object when equal, so a panel view
    that reads only them is known unchanged by identity (``layouts.live_parts``)."""
    for name, value in old.items():
        if new.get(name) == value:
            new[name] = value
    return new


class _ChangeWatcher:
    """Wakes every waiting page on the event loop when the store changes.

    A store that tells its changes (``on_change``: the city in this process's memory) wakes
    the loop straight from the writing thread. Any other (Redis) blocks on its own wait
    (pub/sub), so exactly one thread waits and hands each change to the loop: a thread per
    open screen would exhaust the executor with 24 kiosk pages. Either way the loop is woken
    only while a page waits, and at most every ``WAKE_GAP_S``: pages take at most one change
    per frame anyway, so a burst of 500 a second wakes it 100 times at most, not 500. An
    urgent change (``StateStore.urgent_changes``: an open critical incident) wakes it at
    once, and also what waits in ``urgent``.
    """

    def __init__(self, store: StateStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self.version = store.version()
        self._event = asyncio.Event()
        self._pending = False  # a wake is on its way to the loop
        self._waiting = 0  # pages in ``wait`` now; none: a change needs no wake
        self._woke_at = -WAKE_GAP_S
        self._later: asyncio.TimerHandle | None = None  # a wake put off to the end of the gap
        self._urgent_event = asyncio.Event()
        self._urgent_heard = store.urgent_changes()  # in the writing (or watching) thread only
        self.urgent_at = -math.inf  # time.monotonic() of the last urgent change woken
        on_change = getattr(store, "on_change", None)
        if on_change is not None:
            # A trip through a thread of our own cost each change a wake-up on its way to the
            # screen, and on a busy machine a wait for a free core.
            on_change(self._changed)
        else:
            threading.Thread(target=self._watch, name="change-watcher", daemon=True).start()

    async def wait(self, since: int, timeout: float) -> int:
        self._waiting += 1  # before the version is read: a change after the read wakes this wait
        try:
            if self.version != since:
                return self.version
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # no task of its own, unlike wait_for: one hop less per wake
                    await self._event.wait()
            return self.version
        finally:
            self._waiting -= 1

    async def urgent(self, since: float, timeout: float) -> bool:
        if self.urgent_at <= since:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._urgent_event.wait()
        return self.urgent_at > since

    def _is_urgent(self) -> bool:
        """In the writing or watching thread: whether the store heard urgent changes since
        the last call (the store's lock serialises the writers)."""
        heard = self.store.urgent_changes()
        urgent, self._urgent_heard = heard != self._urgent_heard, heard
        return urgent

    def _changed(self, version: int) -> None:
        """In the writing thread, with the store's lock held: one wake on its way at a time,
        and one more for an urgent change, which does not wait for that one.

        No wake at all while no page waits: under a steady flood each page is between two
        frames (``layouts.push``) and finds the version moved when it comes to wait. Those
        wakes, about a hundred a second for nobody, were a fifth of the loop's time."""
        self.version = version  # what a page that comes to wait reads first
        urgent = self._is_urgent()
        if not urgent and (self._pending or not self._waiting):
            return
        self._pending = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to wake
            self.loop.call_soon_threadsafe(self._wake_when_due, urgent)

    def _wake_when_due(self, urgent: bool = False) -> None:
        wait = self._woke_at + WAKE_GAP_S - time.monotonic()
        if wait > 0 and not urgent:
            self._later = self.loop.call_later(wait, self._wake_when_due)
            return
        if self._later is not None:  # an urgent change came first: this wake covers the one put off
            self._later.cancel()
            self._later = None
        self._pending = False  # a change from now on sends a new wake
        self._woke_at = time.monotonic()
        self._wake(urgent)

    def _watch(self) -> None:
        while not self.loop.is_closed():
            try:
                # an urgent change heard while this thread slept does not wait for the next change
                heard = self.store.urgent_changes() != self._urgent_heard
                version = self.store.version() if heard else self.store.wait_changed(self.version, 1.0)
            except Exception:  # the store is down: pages keep their last picture and turn stale
                time.sleep(1.0)
                continue
            urgent = self._is_urgent()  # heard with its version or, a moment later, alone
            if version != self.version or urgent:
                self.version = version
                if urgent or self._waiting:  # no page waits: one that comes finds the version moved
                    self.loop.call_soon_threadsafe(self._wake, urgent)
                time.sleep(WAKE_GAP_S)  # woken or not: this thread looks at most this often

    def _wake(self, urgent: bool = False) -> None:
        if urgent:
            self.urgent_at = time.monotonic()
            event, self._urgent_event = self._urgent_event, asyncio.Event()
            event.set()
        event, self._event = self._event, asyncio.Event()
        event.set()

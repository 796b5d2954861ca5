"""The web side's view of the store: one picture per store version, shared by every page.

Building the picture reads every entity, so it happens at most once per version per
process, however many screens, panels and API clients ask. Feed health and freshness change
without a new version (a feed drops, time passes), so they are read fresh on every call; they
are small. ``layouts.ports.CityReader`` is the interface panels see.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from dashboard.config import Config
from dashboard.picture import build_picture, live_sections
from dashboard.store.base import StateStore


class PictureCache:
    def __init__(self, store: StateStore, config: Config) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._picture: dict[str, Any] | None = None
        self._watcher: _ChangeWatcher | None = None

    def version(self) -> int:
        return self.store.version()

    async def changed(self, since: int, timeout: float) -> int:
        """Wait for a version other than ``since``; every open page awaits this at once."""
        if self._watcher is None:
            with self._lock:
                if self._watcher is None:
                    self._watcher = _ChangeWatcher(self.store, asyncio.get_running_loop())
        return await self._watcher.wait(since, timeout)

    def picture(self) -> dict[str, Any]:
        return {**self._by_version(), **live_sections(self.store, self.config, time.time())}

    def _by_version(self) -> dict[str, Any]:
        version = self.store.version()
        cached = self._picture
        if cached is not None and cached["version"] == version:
            return cached
        with self._lock:
            cached = self._picture
            if cached is None or cached["version"] != version:
                cached = self._picture = build_picture(self.store, self.config)
            return cached


class _ChangeWatcher:
    """One thread blocks on the store; it wakes every waiting page on the event loop.

    A thread per open screen would exhaust the executor with 24 kiosk pages, and the store's
    wait is blocking (a condition in memory, pub/sub on Redis), so exactly one thread waits
    and hands each change to the loop.
    """

    def __init__(self, store: StateStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self.version = store.version()
        self._event = asyncio.Event()
        threading.Thread(target=self._watch, name="change-watcher", daemon=True).start()

    async def wait(self, since: int, timeout: float) -> int:
        if self.version != since:
            return self.version
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        return self.version

    def _watch(self) -> None:
        while not self.loop.is_closed():
            try:
                version = self.store.wait_changed(self.version, 1.0)
            except Exception:  # the store is down: pages keep their last picture and turn stale
                time.sleep(1.0)
                continue
            if version != self.version:
                self.version = version
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

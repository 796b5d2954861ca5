"""The web side's view of the store: one picture per store version, shared by every page.

Building the picture reads every entity, so it happens at most once per version per
process, however many screens, panels and API clients ask. Feed health and freshness change
without a new version (a feed drops, time passes), so they are read fresh on every call; they
are small. ``layouts.ports.CityReader`` is the interface panels see.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from dashboard.config import Config
from dashboard.picture import build_picture, freshness, iso
from dashboard.store.base import StateStore


class PictureCache:
    def __init__(self, store: StateStore, config: Config) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._picture: dict[str, Any] | None = None

    def version(self) -> int:
        return self.store.version()

    def picture(self) -> dict[str, Any]:
        now = time.time()
        live = {"generated_at": iso(now), "feeds": self.store.feeds(),
                "freshness": freshness(self.store.last_seen(), self.config, now)}
        return {**self._by_version(), **live}

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

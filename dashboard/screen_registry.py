"""Which screens are alive: the heartbeats every open page sends, kept per process.

A dead kiosk and a live one look the same from the server: both are "a page that was
opened once". Each page now reports a heartbeat with its regular poll (``assets/heartbeat.js``):
its id for this tab, the page, the last store version it applied, its JS heap and its
script errors. This registry keeps the latest report per page instance, bounded in count
and size, and says which are live and which have been silent for two heartbeats.

A screen that comes back (a reloaded tab keeps its id; a restarted browser reports the same
page under a new id) clears by itself: its new report makes it live, and a silent entry for
the same page is dropped when a live one takes its place.

Counting: ``/screen/<n>`` covers screen *n*, ``/wall`` covers every screen; tablets and
other pages are listed but not counted. "Expected" is ``server.screens_expected``, by
default the wall's screen count. The registry is per web process; behind several workers
each lists the screens connected to it.

A beat counts only for a page its sender may show (``may_show``, the router's own rule): a
kiosk token scoped to one screen could otherwise report another screen, or take over its
entry, and make a dark LCD look alive on the list.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from layouts.sections import ScreensSummary

MAX_ENTRIES = 1_000
SILENT_AFTER_BEATS = 2
FORGET_AFTER_S = 3_600.0
_SCREEN_PATH = re.compile(r"^/screen/(\d{1,3})$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ScreenRegistry:
    def __init__(
        self,
        screen_count: int,
        expected: int | None,
        beat_s: float,
        clock: Callable[[], float] = time.time,
        may_show: Callable[[str], bool] = lambda page: True,
    ) -> None:
        self.screen_count = screen_count
        self.expected = screen_count if expected is None else expected
        self.beat_s = beat_s
        self._clock = clock
        self._may_show = may_show
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}

    def beat(self, report: Any, transport: str = "poll") -> None:
        """One report from a page; anything malformed is ignored (it comes from a browser)."""
        if not isinstance(report, dict) or not isinstance(report.get("id"), str) or not _ID.match(report["id"]):
            return
        raw_page = report.get("page")
        page = raw_page if isinstance(raw_page, str) else ""
        if not self._may_show(page):
            return
        entry = {
            "id": report["id"],
            "page": page[:80],
            "screens": self._covers(page),
            "applied": _int(report.get("applied")),
            "heap_bytes": _int(report.get("heap")),
            "errors": _int(report.get("errors")) or 0,
            "transport": transport,
        }
        now = self._clock()
        with self._lock:
            known = self._entries.get(entry["id"])
            if known is not None and known["page"] != entry["page"] and not self._may_show(known["page"]):
                return  # another page's entry, which this sender may not report for
            seq = _int(report.get("seq"))
            if known is not None and known.get("seq") == seq and seq is not None:
                return  # the same report again (the poll repeats the last one between beats)
            entry.update(seq=seq, last_beat=now, first_seen=known["first_seen"] if known else now)
            self._entries[entry["id"]] = entry
            self._forget(now, entry)

    def _forget(self, now: float, fresh: dict[str, Any]) -> None:
        """Drop silent entries of the page that just reported, long-silent ones, and the oldest past the cap."""
        silent_after = SILENT_AFTER_BEATS * self.beat_s
        for key, entry in list(self._entries.items()):
            age = now - entry["last_beat"]
            same_page = entry["page"] == fresh["page"] and key != fresh["id"] and age > silent_after
            if same_page or age > FORGET_AFTER_S:
                del self._entries[key]
        while len(self._entries) > MAX_ENTRIES:
            oldest = min(self._entries, key=lambda k: self._entries[k]["last_beat"])
            del self._entries[oldest]

    def _covers(self, page: str) -> list[int]:
        if page.rstrip("/") == "/wall":
            return list(range(1, self.screen_count + 1))
        match = _SCREEN_PATH.match(page)
        if match and 1 <= int(match.group(1)) <= self.screen_count:
            return [int(match.group(1))]
        return []

    def listing(self) -> dict[str, Any]:
        now = self._clock()
        silent_after = SILENT_AFTER_BEATS * self.beat_s
        with self._lock:
            entries = [dict(e) for e in self._entries.values()]
        live_screens: set[int] = set()
        silent = 0
        for entry in entries:
            entry["age_s"] = round(now - entry["last_beat"], 1)
            entry["status"] = "silent" if entry["age_s"] > silent_after else "live"
            if entry["status"] == "live":
                live_screens.update(entry["screens"])
            else:
                silent += 1
        entries.sort(key=lambda e: (e["status"] != "silent", e["page"], e["id"]))
        return {
            "expected": self.expected,
            "live": len(live_screens),
            "silent": silent,
            "heartbeat_s": self.beat_s,
            "screens": entries,
        }

    def summary(self) -> ScreensSummary:
        """What feed health shows: live out of expected, and how many are silent."""
        listing = self.listing()
        return ScreensSummary(expected=listing["expected"], live=listing["live"], silent=listing["silent"])


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**53 else None


def register(server: FastAPI, registry: ScreenRegistry) -> None:
    @server.get("/api/v1/screens")
    def screens() -> dict[str, Any]:
        """Every page instance that reported, live or silent, and the count against the expected."""
        return registry.listing()

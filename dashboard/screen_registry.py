"""Which screens are alive: the heartbeats every open page sends, kept per process.

A dead kiosk and a live one look the same from the server: both are "a page that was
opened once". Each page now reports a heartbeat with its regular poll (``assets/heartbeat.js``):
its id for this tab, the page, the last store version it applied, its JS heap and its
script errors. This registry keeps the latest report per page instance, bounded in count
and size, and says which are live and which have been silent for two heartbeats.

Counting: ``/screen/<n>`` covers screen *n*, ``/wall`` covers every screen; tablets and
other pages are listed but not counted. "Live" is the wall's screens some live page shows,
out of "expected" (``server.screens_expected``, by default the wall's screen count).
"Silent", the alarm on feed health, is the screens of the wall's own pages (a kiosk's
token, or open reading) gone silent with no live page of the same path: an LCD gone dark.
It counts screens, not pages. A page open under someone's sign-in is a preview on a desk:
listed, but its closing darkens no LCD, so it raises no alarm; with ``/wall`` open, preview
tabs of ``/screen/<n>`` opened and closed had left "3 layar diam" (and more with each tab)
under "24/24 layar hidup". A desk's ``/wall`` preview, for its part, does not hide a dead
kiosk: it shows the screen on a desk, not on the wall.

A silent entry whose page a live entry shows is dropped at the next sweep (a reloaded tab
keeps its id; a restarted browser reports the same page under a new id), so is a silent
preview whose screens a live page shows, and any entry silent for ``FORGET_AFTER_S`` is
dropped too, and left out of listings even when no beat comes to sweep.

The entries live in the store (one named map), so every web worker lists the same screens:
kept per process, the count behind three workers was 24, 1 or 0 live by which one answered,
and the wall said "1/24 screens live" with all 24 up. A listing is read at most once a
second per process; a store that is away keeps the last one.

A beat counts only for a page its sender may show (``may_show``, the router's own rule): a
kiosk token scoped to one screen could otherwise report another screen, or take over its
entry, and make a dark LCD look alive on the list.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI

from dashboard.auth.maps import NamedMaps
from dashboard.store.memory import MemoryStore
from layouts.sections import ScreensSummary

log = logging.getLogger(__name__)

MAP = "screens:beats"
LISTING_EVERY_S = 1.0
MAX_ENTRIES = 1_000
SWEEP_EVERY_BEATS = 100
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
        maps: NamedMaps | None = None,
        reporter: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``maps``: where the entries are kept (the store, shared by every worker); by
        default a map of this process alone. ``reporter``: who sends the beat being taken
        (a user or a token, by name), listed with its entry: a signed-in reader may report
        any page, and a screen kept "live" by someone other than its kiosk shows who."""
        self.screen_count = screen_count
        self.expected = screen_count if expected is None else expected
        self.beat_s = beat_s
        self._clock = clock
        self._may_show = may_show
        self._reporter = reporter
        self._maps: NamedMaps = maps if maps is not None else MemoryStore()
        self._lock = threading.Lock()
        self._listed: tuple[float, dict[str, Any]] | None = None  # (when, listing): read once a second
        self._beats = 0  # recorded by this process
        self._swept = -math.inf  # when this process last swept the entries (``_forget``)

    def beat(self, report: Any) -> None:
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
            # how the page's data reach it: a page left on the poll after a restart shows here
            "transport": "push" if report.get("push") is True else "poll",
            "by": self._reporter(),
        }
        try:
            self._record(entry, _int(report.get("seq")))
        except Exception:  # the store is away: the page beats again, and listings keep the last
            log.debug("screen heartbeat not recorded", exc_info=True)

    def _record(self, entry: dict[str, Any], seq: int | None) -> None:
        now = self._clock()
        known = _entry(self._maps.map_get(MAP, entry["id"]))
        if known is not None and known.get("page") != entry["page"] and not self._may_show(str(known.get("page"))):
            return  # another page's entry, which this sender may not report for
        if known is not None and known.get("seq") == seq and seq is not None:
            return  # the same report again (the poll repeats the last one between beats)
        entry.update(seq=seq, last_beat=now, first_seen=known.get("first_seen", now) if known else now)
        self._maps.map_put(MAP, entry["id"], json.dumps(entry))
        with self._lock:
            self._listed = None  # this process's own listing shows its beat at once
            self._beats += 1
            due = self._beats % SWEEP_EVERY_BEATS == 0 or now - self._swept >= self.beat_s
            if due:
                self._swept = now
        if due:
            self._forget(now, self._entries())

    def _entries(self) -> dict[str, dict[str, Any]]:
        """Every page's last report, from the store; one that is not a report is left out."""
        return {key: entry for key, raw in self._maps.map_all(MAP).items() if (entry := _entry(raw)) is not None}

    def _forget(self, now: float, entries: dict[str, dict[str, Any]]) -> None:
        """Drop the silent entries whose page or screens a live entry shows (a restarted
        browser, a preview tab closed while ``/wall`` shows its screen), long-silent ones, and
        the oldest past the cap. Done every heartbeat, or every ``SWEEP_EVERY_BEATS`` beats,
        not with each: it reads every entry."""
        live = [e for e in entries.values() if not self._silent(e, now)]
        live_pages = {e.get("page") for e in live}
        live_screens = _screens_of(live)
        gone = {
            key
            for key, entry in entries.items()
            if self._forgotten(entry, now)
            or (
                self._silent(entry, now)
                and (entry.get("page") in live_pages or (_desk_view(entry) and _shown_by(entry, live_screens)))
            )
        }
        kept = sorted((k for k in entries if k not in gone), key=lambda k: entries[k]["last_beat"])
        gone.update(kept[: max(0, len(kept) - MAX_ENTRIES)])
        for key in gone:
            self._maps.map_delete(MAP, key)

    def _silent(self, entry: dict[str, Any], now: float) -> bool:
        """No report for two heartbeats: one late beat is a slow network, two a closed page."""
        return bool(now - entry["last_beat"] > SILENT_AFTER_BEATS * self.beat_s)

    @staticmethod
    def _forgotten(entry: dict[str, Any], now: float) -> bool:
        """Silent for ``FORGET_AFTER_S``: an operator has seen it by then, and a page that is
        never coming back must not hold its entry (or the alarm) for ever."""
        return bool(now - entry["last_beat"] > FORGET_AFTER_S)

    def _covers(self, page: str) -> list[int]:
        if page.rstrip("/") == "/wall":
            return list(range(1, self.screen_count + 1))
        match = _SCREEN_PATH.match(page)
        if match and 1 <= int(match.group(1)) <= self.screen_count:
            return [int(match.group(1))]
        return []

    def listing(self) -> dict[str, Any]:
        """The screens as every worker sees them; read from the store at most once a second."""
        now = self._clock()
        with self._lock:
            listed = self._listed
            if listed is not None and 0 <= now - listed[0] < LISTING_EVERY_S:
                return listed[1]
        try:
            entries = list(self._entries().values())
        except Exception:  # the store is away: the last listing, or none
            log.debug("screen heartbeats not read", exc_info=True)
            return listed[1] if listed is not None else self._list([], now)
        listing = self._list(entries, now)
        with self._lock:
            self._listed = (now, listing)
        return listing

    def _list(self, entries: list[dict[str, Any]], now: float) -> dict[str, Any]:
        """Live: the wall's screens some live page shows. Silent: the screens of the wall's own
        pages gone silent with no live page of the same path, the LCDs an operator must go
        and look at; a desk's preview and a page that is no screen of the wall (a tablet) are
        listed, but raise no alarm (see the module's doc)."""
        entries = [e for e in entries if not self._forgotten(e, now)]  # even when no beat came to sweep
        for entry in entries:
            entry["age_s"] = round(now - entry["last_beat"], 1)
            entry["status"] = "silent" if self._silent(entry, now) else "live"
        live = [e for e in entries if e["status"] == "live"]
        live_pages = {e["page"] for e in live}
        silent = (e for e in entries if e["status"] == "silent" and not _desk_view(e) and e["page"] not in live_pages)
        # a dead kiosk is dark though a desk's /wall preview shows its screen: that is no LCD of the wall
        dark = _screens_of(silent) - _screens_of(e for e in live if not _desk_view(e))
        live_screens = _screens_of(live)
        entries.sort(key=lambda e: (e["status"] != "silent", e["page"], e["id"]))
        return {
            "expected": self.expected,
            "live": len(live_screens),
            "silent": len(dark),
            "heartbeat_s": self.beat_s,
            "screens": entries,
        }

    def summary(self) -> ScreensSummary:
        """What feed health shows: live out of expected, and how many are silent."""
        listing = self.listing()
        return ScreensSummary(expected=listing["expected"], live=listing["live"], silent=listing["silent"])


def _entry(raw: str | None) -> dict[str, Any] | None:
    """A stored report, or None for anything else (nothing there, or not one of ours)."""
    try:
        entry = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("last_beat"), (int, float)) else None


def _screens_of(entries: Iterable[dict[str, Any]]) -> set[int]:
    """The wall's screens these entries show (``screens`` as ``_covers`` wrote it)."""
    return {n for entry in entries for n in entry.get("screens") or () if isinstance(n, int)}


def _desk_view(entry: dict[str, Any]) -> bool:
    """Whether a page was open under someone's sign-in (a preview on a desk), not a kiosk's
    token or open reading: closed, it leaves no LCD of the wall dark, so it raises no alarm."""
    return str(entry.get("by") or "").endswith("(session)")


def _shown_by(entry: dict[str, Any], live_screens: set[int]) -> bool:
    """Whether every screen of this page is shown by a live one; a page of no screen is not."""
    screens = _screens_of([entry])
    return bool(screens) and screens <= live_screens


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**53 else None


def register(server: FastAPI, registry: ScreenRegistry) -> None:
    @server.get("/api/v1/screens")
    def screens() -> dict[str, Any]:
        """Every page instance that reported, live or silent, and the count against the expected."""
        return registry.listing()

"""Screens known to be alive: each open page reports a heartbeat; a silent one is flagged.

Real Chromium pages against the real app, heartbeats every second: two kiosks report, one
goes away (its tab closed, as a crashed kiosk browser would), is flagged silent after two
heartbeats, and clears by itself when the screen is opened again.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from dashboard.config import load_config
from dashboard.local_services import serve
from dashboard.screen_registry import MAX_ENTRIES, SWEEP_EVERY_BEATS, ScreenRegistry
from dashboard.store.memory import MemoryStore
from layouts.sections import ScreensSummary


def listing(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + "/api/v1/screens", timeout=10) as response:
        return json.loads(response.read())


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def by_page(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in data["screens"]:
        out.setdefault(entry["page"], []).append(entry)
    return out


@pytest.mark.integration
@pytest.mark.browser
def test_a_silent_screen_is_flagged_and_clears_when_it_comes_back(page_factory: Any) -> None:
    config = load_config()
    config = config.model_copy(update={"server": config.server.model_copy(update={"heartbeat_s": 1})})
    with serve(config, MemoryStore()) as base:
        four, five = page_factory(), page_factory()
        four.goto(base + "/screen/4")
        five.goto(base + "/screen/5")
        assert wait_for(lambda: listing(base)["live"] == 2), listing(base)
        data = listing(base)
        assert data["expected"] == 24 and data["silent"] == 0
        entry = by_page(data)["/screen/4"][0]
        assert entry["status"] == "live" and entry["screens"] == [4]
        assert isinstance(entry["applied"], int) and entry["errors"] == 0
        assert wait_for(lambda: by_page(listing(base))["/screen/4"][0]["transport"] == "push"), by_page(listing(base))
        assert entry["heap_bytes"] is not None and entry["heap_bytes"] > 0

        five.context.close()  # the kiosk's browser dies
        assert wait_for(lambda: listing(base)["silent"] == 1), listing(base)
        data = listing(base)
        assert data["live"] == 1
        assert [e["status"] for e in by_page(data)["/screen/5"]] == ["silent"]
        with urllib.request.urlopen(base + "/api/v1/state", timeout=10) as response:
            assert json.loads(response.read())["screens"] == {"expected": 24, "live": 1, "silent": 1}

        again = page_factory()
        again.goto(base + "/screen/5")  # a new browser on the same screen
        assert wait_for(lambda: listing(base)["live"] == 2 and listing(base)["silent"] == 0), listing(base)
        # the dead browser's entry goes with the next sweep (once a heartbeat), shown by the new one meanwhile
        assert wait_for(lambda: [e["status"] for e in by_page(listing(base))["/screen/5"]] == ["live"]), listing(base)


def test_registry_ignores_malformed_reports_and_stays_bounded() -> None:
    now = [1_000.0]
    registry = ScreenRegistry(24, None, beat_s=10, clock=lambda: now[0])
    for bad in (None, "x", {"id": 5}, {"id": "a b"}, {"id": "x" * 65}, {"id": "ok", "applied": "7", "page": 3}):
        registry.beat(bad)
    assert [(e["id"], e["applied"], e["page"]) for e in registry.listing()["screens"]] == [("ok", None, "")]
    for n in range(1_200):
        registry.beat({"id": f"id{n}", "page": f"/screen/{n % 30}", "seq": 1})
        now[0] += 0.001
    # swept every SWEEP_EVERY_BEATS beats (a sweep reads every entry): bounded, with that slack
    assert len(registry.listing()["screens"]) <= MAX_ENTRIES + SWEEP_EVERY_BEATS
    assert registry.summary().live == 24  # /screen/25-29 are not on the wall
    now[0] += 25  # two heartbeats and more
    # silent counts the wall's screens nothing live shows: /screen/1-24, not the pages
    assert registry.summary() == ScreensSummary(expected=24, live=0, silent=24)
    assert {e["status"] for e in registry.listing()["screens"]} == {"silent"}


def test_a_beat_counts_only_for_a_page_its_sender_may_show() -> None:
    """The registry asks the router's rule: a sender limited to screen 4 neither reports
    screen 9 nor takes over screen 9's entry by its id."""
    registry = ScreenRegistry(24, None, beat_s=10, may_show=lambda page: page == "/screen/4")
    registry.beat({"id": "nine", "page": "/screen/9", "seq": 1})
    assert registry.listing()["screens"] == []
    registry.beat({"id": "four", "page": "/screen/4", "seq": 1})
    assert [(e["id"], e["screens"]) for e in registry.listing()["screens"]] == [("four", [4])]

    allowed = {"/screen/4", "/screen/9"}
    shared = ScreenRegistry(24, None, beat_s=10, may_show=lambda page: page in allowed)
    shared.beat({"id": "nine", "page": "/screen/9", "seq": 1})
    allowed.discard("/screen/9")  # the same id, now sent by a sender limited to screen 4
    shared.beat({"id": "nine", "page": "/screen/4", "seq": 2})
    assert [(e["id"], e["page"], e["seq"]) for e in shared.listing()["screens"]] == [("nine", "/screen/9", 1)]

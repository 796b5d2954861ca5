""" "Layar diam" means a screen of the wall that nothing live shows, and nothing else.

With the whole wall (``/wall``) open, feed health read "24/24 layar hidup · 3 layar diam"
in orange, and the silent count grew with every preview tab of ``/screen/<n>`` opened and
closed: a closed page stayed silent for an hour, though ``/wall`` showed its screen all
along. These drive the screen registry (in a memory store, with its clock in the test's
hand) and draw its summary in the feed-health panel, as the wall shows it.
"""

from __future__ import annotations

import json
from typing import Any

from dashboard.screen_registry import FORGET_AFTER_S, MAP, ScreenRegistry
from dashboard.store.memory import MemoryStore
from layouts.panels import feed_health
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.sections import ScreensSummary
from tests.support.trees import texts
from tests.support.views import wall_settings

BEAT_S = 10


class Wall:
    """The open pages of one wall, each beating with its own id, on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.store = MemoryStore()
        self.reads = 0  # how many times the registry read every entry
        self.by: str | None = None
        self.registry = ScreenRegistry(24, None, beat_s=BEAT_S, clock=lambda: self.now, maps=self.store, reporter=lambda: self.by)
        self._seq: dict[str, int] = {}
        map_all = self.store.map_all

        def counted(name: str) -> dict[str, str]:
            self.reads += 1
            return map_all(name)

        self.store.map_all = counted  # type: ignore[method-assign]

    def beat(self, page_id: str, page: str, by: str | None = None) -> None:
        """``by``: who sends it, as the app names them ("budi (session)", "screen-5 (token)")."""
        self._seq[page_id] = self._seq.get(page_id, 0) + 1
        self.by = by
        self.registry.beat({"id": page_id, "page": page, "seq": self._seq[page_id]})

    def wait(self, seconds: float) -> None:
        self.now += seconds

    def stored_pages(self) -> list[str]:
        """The pages whose entries the store still holds (what the registry costs in memory)."""
        return sorted(json.loads(raw)["page"] for raw in self.store.map_all(MAP).values())


def settings() -> ViewSettings:
    return wall_settings("id")


def screens_alarm(summary: ScreensSummary) -> tuple[str, str]:
    """Feed health's screens row as drawn: its text and its class (orange is ``cw-alarm``)."""
    alarms: dict[str, Any] = feed_health.alarms(CityPicture(screens=summary))
    [row] = feed_health.alarm_rows(alarms, settings())
    return "".join(texts(row)), row["p"]["className"]


def test_preview_tabs_closed_under_a_live_wall_raise_no_alarm() -> None:
    wall = Wall()
    wall.beat("wall", "/wall")
    for n in (3, 7, 12):  # previews opened on a desk beside the wall, then closed
        wall.beat(f"preview-{n}", f"/screen/{n}", by="budi (session)")
    for _ in range(2):
        wall.wait(BEAT_S)
        wall.beat("wall", "/wall")
    wall.wait(5)  # the previews are silent (25 s), the wall beat 5 s ago

    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=0)
    assert screens_alarm(wall.registry.summary()) == ("24/24 layar hidup", "cw-muted")
    statuses = sorted((e["page"], e["status"]) for e in wall.registry.listing()["screens"])
    assert statuses == [("/screen/12", "silent"), ("/screen/3", "silent"), ("/screen/7", "silent"), ("/wall", "live")]

    wall.wait(5)
    wall.beat("wall", "/wall")  # the next sweep drops the previews the wall shows
    assert wall.stored_pages() == ["/wall"]


def test_many_previews_opened_and_closed_leave_nothing_behind() -> None:
    wall = Wall()
    for n in range(1, 25):
        wall.beat("wall", "/wall")
        wall.beat(f"preview-{n}", f"/screen/{n}", by="budi (session)")
        wall.wait(BEAT_S)
    wall.beat("wall", "/wall")
    wall.wait(1)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=0)
    assert wall.stored_pages() == ["/screen/23", "/screen/24", "/wall"]  # the last two were not silent at the last sweep


def test_a_screen_nothing_live_shows_is_counted_silent() -> None:
    wall = Wall()
    wall.beat("kiosk-4", "/screen/4")
    wall.beat("kiosk-5", "/screen/5")
    wall.wait(BEAT_S)
    wall.beat("kiosk-4", "/screen/4")
    wall.wait(BEAT_S + 5)  # kiosk 5's browser died 25 s ago, kiosk 4 beat 15 s ago
    assert wall.registry.summary() == ScreensSummary(expected=24, live=1, silent=1)
    assert screens_alarm(wall.registry.summary()) == ("1/24 layar hidup · 1 layar diam", "cw-alarm")


def test_a_dead_kiosk_is_dark_though_a_desks_wall_preview_shows_its_screen() -> None:
    """A supervisor's /wall preview covers every screen; kiosk 5's browser crashing behind it
    must still raise the alarm, and its entry must stay until the kiosk comes back."""
    wall = Wall()
    for _ in range(3):
        wall.beat("desk", "/wall", by="sari (session)")
        wall.beat("kiosk-4", "/screen/4", by="screen-4 (token)")
        if wall.now < 1_010:
            wall.beat("kiosk-5", "/screen/5", by="screen-5 (token)")
        wall.wait(BEAT_S)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=1)
    assert "/screen/5" in wall.stored_pages()
    wall.beat("kiosk-5b", "/screen/5", by="screen-5 (token)")  # its browser restarted: a new tab id
    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=0)


def test_a_closed_wall_counts_each_screen_no_kiosk_shows() -> None:
    """Silent counts screens, not pages: the closed ``/wall`` leaves dark every screen but
    the three whose kiosks are live."""
    wall = Wall()
    wall.beat("wall", "/wall")
    for _ in range(3):
        for n in (1, 2, 3):
            wall.beat(f"kiosk-{n}", f"/screen/{n}")
        wall.wait(BEAT_S)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=3, silent=21)
    assert screens_alarm(wall.registry.summary()) == ("3/24 layar hidup · 21 layar diam", "cw-alarm")


def test_a_closed_wall_whose_screens_all_have_live_kiosks_is_no_alarm() -> None:
    wall = Wall()
    wall.beat("wall", "/wall")
    for _ in range(3):
        for n in range(1, 25):
            wall.beat(f"kiosk-{n}", f"/screen/{n}")
        wall.wait(BEAT_S)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=0)


def test_a_silent_tablet_is_listed_but_is_no_screen_of_the_wall() -> None:
    wall = Wall()
    wall.beat("wall", "/wall")
    wall.beat("mayor", "/tablet")
    for _ in range(3):
        wall.wait(BEAT_S)
        wall.beat("wall", "/wall")
    assert wall.registry.summary() == ScreensSummary(expected=24, live=24, silent=0)
    assert [(e["page"], e["status"]) for e in wall.registry.listing()["screens"]] == [("/tablet", "silent"), ("/wall", "live")]


def test_an_entry_silent_for_an_hour_is_forgotten_even_when_nothing_beats() -> None:
    """The whole wall is off (a power cut): no beat comes to sweep the entries, and the
    listing must still let go of them after an hour."""
    assert FORGET_AFTER_S == 3_600
    wall = Wall()
    wall.beat("kiosk-5", "/screen/5")
    wall.wait(3_590)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=0, silent=1)
    wall.wait(20)
    assert wall.registry.summary() == ScreensSummary(expected=24, live=0, silent=0)
    assert wall.registry.listing()["screens"] == []
    wall.beat("kiosk-6", "/screen/6")  # the first beat after sweeps the store too
    assert wall.stored_pages() == ["/screen/6"]


def test_a_heartbeat_does_not_read_every_entry() -> None:
    """Sixty pages beat once each within one heartbeat: the registry reads the whole map once
    (the first beat's sweep), not once per beat."""
    wall = Wall()
    for n in range(60):
        wall.beat(f"page-{n}", f"/screen/{n % 24 + 1}")
        wall.wait(0.1)
    assert wall.reads == 1

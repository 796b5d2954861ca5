"""Panels in half a screen: what a row says must still read, not end after twenty letters.

Pariaman's screens hold two panels each. At 26 px the queue's description column on screen 4
has room for some twenty characters, and every row read "Drainase meluap, gena…". A
description now takes a second line in half a screen, and no more than two; the ticker's lines
beside it too. Each row also says where, under its severity: the kecamatan column was dropped.
On screen 5 the drainage stations' names read whole and the stages' legend stays; on screen 6
the MPP's table keeps its title, its column heads and its average wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard.config import load_config
from dashboard.local_services import WALL_READY_JS, serve
from dashboard.sample_city import City
from feeds.events import Incident, QueueReading

pytestmark = pytest.mark.browser

PARIAMAN = Path(__file__).resolve().parents[2] / "examples" / "pariaman" / "config.yaml"
LONG = "Drainase meluap, genangan 40 cm merendam rumah warga di Kel. Jati Hilir dan Kel. Kampung Perak sejak pagi"
SHORT = "Pohon tumbang"
#: the description's height and line height, in px, of the row with this id (a queue's row
#: carries ``data-incident``, a ticker's line ``data-event``)
LINES_JS = """([attr, id]) => {
  const desc = document.querySelector(`[${attr}="${id}"] .cw-desc`);
  const cs = getComputedStyle(desc);
  return [desc.getBoundingClientRect().height, parseFloat(cs.lineHeight), desc.textContent];
}"""


#: The visible elements matching the selector that show less than their text: [text, ...].
CUT_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getBoundingClientRect().width > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
#: The text of the visible elements matching the selector.
SHOWN_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getBoundingClientRect().width > 0).map(e => e.textContent)"""


def incident(incident_id: str, description: str) -> Incident:
    now = datetime.now(UTC) - timedelta(seconds=5)
    return Incident(
        id=incident_id,
        observed_at=now,
        opened_at=now,
        source_type="Alert",
        category="naturalDisaster",
        severity="high",
        status="new",
        description=description,
        kecamatan="Pariaman Selatan",
    )


def serving(city: City) -> list[QueueReading]:
    """Every counter of the replayed MPP, open now with an average wait.

    The replay ends at the clock's time of day: from 12:00 to 13:00 WIB (the break), after
    16:00 and before 08:00 every counter read "tutup", and the wait column had no figure to
    show. The readings are newer than the replay's last, which ended now."""
    now = datetime.now(UTC)
    return [
        QueueReading(
            id=doc["id"], observed_at=now, source_type="QueueMonitor", agency=doc["agency"],
            waiting=40 + i, serving=2, served_today=100, avg_wait_min=12.5 + i, open=True,
        )
        for i, doc in enumerate(sorted(city.store.entities("queue").values(), key=lambda d: d["id"]))
    ]  # fmt: skip


@pytest.fixture(scope="module")
def pariaman() -> Iterator[str]:
    config = load_config(PARIAMAN)
    city = City(config).replay(hours=0.5, step_s=300)
    city.state.accept(incident("HALF-LONG", LONG))
    city.state.accept(incident("HALF-SHORT", SHORT))
    for reading in serving(city):
        city.state.accept(reading)
    with serve(config, city.store) as base:
        yield base


def opened(page_factory: Any, base: str, screen: int) -> Any:
    """``/screen/<screen>`` of Pariaman's wall at a monitor's size, drawn."""
    page = page_factory(1920, 1080)
    page.goto(f"{base}/screen/{screen}", wait_until="domcontentloaded")
    page.wait_for_function(WALL_READY_JS, timeout=45_000, polling=100)
    return page


@pytest.mark.parametrize("attr", ["data-incident", "data-event"], ids=["queue", "ticker"])
def test_a_long_description_takes_two_lines_in_half_a_screen(page_factory: Any, pariaman: str, attr: str) -> None:
    page = opened(page_factory, pariaman, 4)
    page.wait_for_selector(f'[{attr}="HALF-LONG"] .cw-desc')
    height, line, text = page.evaluate(LINES_JS, [attr, "HALF-LONG"])
    assert text == LONG
    assert 1.8 * line <= height <= 2.2 * line, (height, line)  # two lines: no more, no fewer
    height, line, _ = page.evaluate(LINES_JS, [attr, "HALF-SHORT"])
    assert height <= 1.2 * line, (height, line)  # a short one keeps its row one line high


@pytest.mark.parametrize("attr", ["data-incident", "data-event"], ids=["queue", "ticker"])
def test_a_row_in_half_a_screen_says_where(page_factory: Any, pariaman: str, attr: str) -> None:
    page = opened(page_factory, pariaman, 4)
    page.wait_for_selector(f'[{attr}="HALF-LONG"] .cw-where')
    assert page.evaluate(SHOWN_JS, f'[{attr}="HALF-LONG"] .cw-where') == ["Pariaman Selatan"]
    assert page.evaluate(CUT_JS, f"[{attr}] .cw-where") == []


def test_drainage_in_half_a_screen_names_its_stations_whole_and_keeps_its_legend(page_factory: Any, pariaman: str) -> None:
    page = opened(page_factory, pariaman, 5)
    page.wait_for_selector("[data-station] .cw-station-name")
    names = page.evaluate(SHOWN_JS, "[data-station] .cw-station-name")
    assert len(names) == 4 and all(n.startswith("Pos drainase Pariaman ") for n in names), names
    assert page.evaluate(CUT_JS, "[data-station] .cw-station-name > span") == []  # "Pos draina… Tengah"
    assert page.evaluate(SHOWN_JS, ".cw-drainage-summary .cw-legend-item") == ["● NORMAL", "▲ WASPADA", "◆ SIAGA", "■ AWAS"]


def test_the_mpp_in_half_a_screen_keeps_its_title_its_heads_and_the_average_wait(page_factory: Any, pariaman: str) -> None:
    page = opened(page_factory, pariaman, 6)
    page.wait_for_selector(".cw-agency-rows .cw-agency")
    heads = page.evaluate(SHOWN_JS, ".cw-agency-head > span")
    assert heads == ["instansi", "menunggu", "dilayani", "rerata tunggu"], heads  # upper case by the CSS
    assert page.evaluate(CUT_JS, ".cw-agency-head > span, .cw-mpp-agencies > .cw-section-title") == []
    waits = page.evaluate(SHOWN_JS, ".cw-agency-rows .cw-agency > :nth-child(4)")
    assert waits and all(w.endswith(" mnt") for w in waits), waits
    assert page.evaluate(SHOWN_JS, ".cw-mpp-chart") != []  # the hourly curve stays, under the table

"""A queue or a ticker in half a screen: what happened must still read, not end after twenty
letters.

Pariaman's screen 4 holds the queue and the ticker side by side. At 26 px the description
column there has room for some twenty characters, and every row read "Drainase meluap,
gena…". A description now takes a second line in half a screen, and no more than two; the
ticker's lines beside it too.
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
from feeds.events import Incident

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
    )


@pytest.fixture(scope="module")
def pariaman() -> Iterator[str]:
    config = load_config(PARIAMAN)
    city = City(config).replay(hours=0.5, step_s=300)
    city.state.accept(incident("HALF-LONG", LONG))
    city.state.accept(incident("HALF-SHORT", SHORT))
    with serve(config, city.store) as base:
        yield base


@pytest.mark.parametrize("attr", ["data-incident", "data-event"], ids=["queue", "ticker"])
def test_a_long_description_takes_two_lines_in_half_a_screen(page_factory: Any, pariaman: str, attr: str) -> None:
    page = page_factory(1920, 1080)
    page.goto(f"{pariaman}/screen/4", wait_until="domcontentloaded")
    page.wait_for_function(WALL_READY_JS, timeout=45_000, polling=100)
    page.wait_for_selector(f'[{attr}="HALF-LONG"] .cw-desc')
    height, line, text = page.evaluate(LINES_JS, [attr, "HALF-LONG"])
    assert text == LONG
    assert 1.8 * line <= height <= 2.2 * line, (height, line)  # two lines: no more, no fewer
    height, line, _ = page.evaluate(LINES_JS, [attr, "HALF-SHORT"])
    assert height <= 1.2 * line, (height, line)  # a short one keeps its row one line high

"""The drainage panel never drops a station unsaid: the rows its box has no room for are
counted on a line under the list ("+3 lainnya"), by ``assets/citywall.js`` on top of those
the server left out. Its header said "/ 12 pos" while ten rows showed and nothing said so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard.config import load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.store.memory import MemoryStore
from tests.support.city import water


@pytest.mark.browser
@pytest.mark.parametrize(("stations", "all_shown"), [(12, False), (5, True)])
def test_every_station_is_shown_or_counted(page_factory: Any, stations: int, all_shown: bool) -> None:
    config = load_config()
    store = MemoryStore()
    state = CityState(store, config)
    for i in range(stations):  # all at Siaga: the flood banner and the rise line take their room too
        state.accept(water(f"DR-{i:02d}", 60, 2.2 + i / 100, name=f"Pos drainase Kelurahan {i:02d}"))
    with serve(config, store) as base:
        page = page_factory()
        page.goto(base + "/screen/5")
        rows = page.locator(".cw-drainage > .cw-stations > .cw-station")
        expect(rows).to_have_count(stations, timeout=30_000)
        more = page.locator(".cw-drainage > .cw-fit-more")
        page.wait_for_function(  # citywall.js has fitted the list: the line is counted or hidden
            "() => { const m = document.querySelector('.cw-drainage > .cw-fit-more');"
            " return m && (m.hasAttribute('data-cut') || m.textContent.startsWith('+')); }",
            timeout=30_000,
        )
        shown = page.locator(".cw-drainage > .cw-stations > .cw-station:not([data-cut])").count()
        if all_shown:
            assert shown == stations
            expect(more).to_be_hidden()
        else:
            assert 0 < shown < stations
            expect(more).to_have_text(f"+{stations - shown} lainnya")
            for row in page.locator(".cw-drainage > .cw-stations > .cw-station:not([data-cut])").all():
                box, panel = row.bounding_box(), page.locator("[data-panel=drainage]").bounding_box()
                assert box is not None and panel is not None and box["y"] + box["height"] <= panel["y"] + panel["height"]

"""An incident's age in the lists is written by the browser from the incident's start.

The server sends each row with its start (``data-age-since``) and no age, so a row stays the
same while it ages; ``assets/citywall.js`` writes the age once a second on the server's
clock. The expected words are the catalog's (``3 j 5 mnt``, ``2 mnt``), written out here.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from dashboard.config import load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.store.memory import MemoryStore
from tests.support.operations import incident


@pytest.mark.browser
def test_the_queue_and_the_list_beside_the_map_show_each_incidents_age(page_factory: Any) -> None:
    config = load_config()
    store = MemoryStore()
    state = CityState(store, config)
    state.accept(incident("age-1", severity="critical", ago_s=3 * 3_600 + 5 * 60 + 1, description="Tiga jam lalu"))
    state.accept(incident("age-2", severity="high", ago_s=125, description="Dua menit lalu"))
    state.accept(incident("age-3", severity="high", ago_s=47 * 3_600 + 5 * 60, description="Dua malam lalu"))
    with serve(config, store) as base:
        for path, row in (("/screen/4", ".cw-row"), ("/screen/9", ".cw-map-inc")):
            page = page_factory()
            page.goto(base + path)
            # hours with their minutes: "1 j" stood for anything from 60 to 119 minutes; days
            # with their hours: "1 h" stood for anything from 24 to 47 hours, one night or two
            for text, age in (("Tiga jam lalu", "3 j 5 mnt"), ("Dua menit lalu", "2 mnt"), ("Dua malam lalu", "1 h 23 j")):
                expect(page.locator(row, has_text=text).locator(".cw-age-cell")).to_have_text(age, timeout=30_000)


@pytest.mark.browser
def test_a_last_arrival_ahead_of_the_clock_shows_stale_on_the_page(page_factory: Any) -> None:
    """The server's clock was set back after the last incident arrived: the page ages the
    feed from the server's clock too, found a negative age, and called a dead feed fresh."""
    import time

    config = load_config()
    store = MemoryStore()
    CityState(store, config).accept(incident("ahead-1", severity="critical", ago_s=60, description="Jam mundur"))
    store._seen["incident"] = time.time() + 120  # stamped two minutes ahead of the clock now
    with serve(config, store) as base:
        page = page_factory()
        page.goto(base + "/screen/4")
        painted = "() => (document.querySelector('[data-panel=incident_queue]')?.getAttribute('data-updated-at') ?? '') !== ''"
        page.wait_for_function(painted, timeout=30_000)  # citywall.js has painted the frame's state
        assert page.get_attribute("[data-panel=incident_queue]", "data-stale") == "true"

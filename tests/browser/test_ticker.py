"""The ticker's held critical lines take their room from the flow below them.

The flow shows as many lines as its box holds (``cw-fit``, trimmed by ``assets/citywall.js``).
A held line makes that box shorter without a change to the flow itself, which is paced and
may not change for a second or more: the page must fit the flow again when its box shrinks,
or its last lines run past the panel's edge.
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

#: The flow's lines that show, and whether each lies inside the flow's box.
SHOWN = """() => {
  const box = document.querySelector('.cw-ticker .cw-ticks');
  if (!box) return null;
  const edge = box.getBoundingClientRect().bottom + 1;
  const shown = Array.from(box.children).filter(r => !r.hasAttribute('data-cut'));
  return {count: shown.length, inside: shown.every(r => r.getBoundingClientRect().bottom <= edge)};
}"""


@pytest.mark.browser
def test_a_held_critical_line_takes_its_room_from_the_flow_and_no_line_runs_past_the_panel(page_factory: Any) -> None:
    config = load_config()
    store = MemoryStore()
    state = CityState(store, config)
    for n in range(30):  # more than a screen holds
        state.accept(incident(f"flow-{n}", severity="low", ago_s=3_600 + n, description=f"Kejadian ringan {n}"))
    with serve(config, store) as base:
        page = page_factory()
        page.goto(base + "/screen/13")
        expect(page.locator(".cw-ticker", has_text="Kejadian ringan 0")).to_be_visible(timeout=30_000)
        page.wait_for_function(f"() => {{ const s = ({SHOWN})(); return s && s.inside && s.count < 20; }}", timeout=10_000)
        before = page.evaluate(SHOWN)["count"]

        state.accept(incident("held-1", severity="critical", ago_s=5, description="Kebakaran gudang"))
        expect(page.locator(".cw-held", has_text="Kebakaran gudang")).to_be_visible(timeout=10_000)
        page.wait_for_function(f"() => {{ const s = ({SHOWN})(); return s && s.inside && s.count < {before}; }}", timeout=10_000)
        assert page.locator(".cw-ticker", has_text="Kebakaran gudang").count() == 0, "held above, not in the flow again"

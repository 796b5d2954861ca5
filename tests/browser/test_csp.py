"""The content security policy in a real Chromium: the pages render and update with it on and
report no violation. (The headers themselves: unit/test_web_security.py.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard.config import load_config
from dashboard.ingest import CityState
from dashboard.local_services import serve
from dashboard.store.memory import MemoryStore
from feeds.events import Incident


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/wall?scale=0.25", "/screen/4", "/tablet", "/console"])
def test_pages_run_under_the_csp_without_violations(page_factory: Any, path: str) -> None:
    config = load_config()
    store = MemoryStore()
    state = CityState(store, config)
    with serve(config, store) as url:
        page = page_factory()
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page.goto(url + path)
        page.wait_for_selector("[data-panel], .tb-root, .cw-console", timeout=30_000)
        marker = f"csp-check-{time.time_ns()}"
        state.accept(
            Incident(
                id=marker,
                observed_at=datetime.now(UTC),
                source_type="Alert",
                category="flood",
                severity="critical",
                description=marker,
                lat=0.51,
                lon=101.45,
            )
        )
        if path != "/tablet":  # the incident queue shows the new incident: live updates run (the tablet's own are in test_tablet)
            page.wait_for_function("(m) => document.body.textContent.includes(m)", arg=marker, timeout=30_000)
        else:
            page.wait_for_selector(".tb-root [data-pillar], .tb-root .tb-pillar", timeout=30_000)
        if path == "/console":  # its map drawn, the new incident a marker (its WebGL markers once tried an eval here)
            page.wait_for_selector("#cw-console-map .scatterlayer .point", timeout=30_000)
        assert page.evaluate("window.__csp") == []

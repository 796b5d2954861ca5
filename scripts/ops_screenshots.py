#!/usr/bin/env python3
"""Regenerate the operations screenshots: ``python scripts/ops_screenshots.py``.

The app runs in-process as in the browser tests: a memory store filled by the simulator
through the real ingest path, users one per role, and a few operator actions. Debian's
headless Chromium then photographs the console (signed in as a supervisor, an incident
selected), a screen taken over by a critical incident, a screen with a broadcast and an
incident pushed to it, and the shift report, into ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.config import load_config  # noqa: E402
from dashboard.desk import Desk  # noqa: E402
from dashboard.incident_ops import Action, Actor  # noqa: E402
from tests.auth_helpers import add_users  # noqa: E402
from tests.ops_helpers import incident, open_config, signed_in_context  # noqa: E402
from dashboard.local_services import CHROMIUM_ARGS, chromium_binary  # noqa: E402
from tests.test_wall_browser import City, serve  # noqa: E402

SUPERVISOR = Actor("supervisor", "supervisor", "session", "127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    config = open_config(load_config(environ={}))
    city = City(config).replay(hours=2.0)
    add_users(city.store)
    desk = Desk(city.store, config)
    open_ids = [d["id"] for d in desk.store.entities("incident").values() if d.get("status") == "new"][:3]
    for i, incident_id in enumerate(open_ids):
        desk.act(incident_id, Action("acknowledge"), SUPERVISOR)
        if i:
            desk.act(incident_id, Action("assign", agency=("BPBD", "Dishub")[i % 2]), SUPERVISOR)
    city.state.accept(incident("SHOT-CRIT", severity="critical", category="naturalDisaster",
                               description="Banjir 80 cm, warga terjebak di Jl. Lintas Timur"))
    city.state.accept(incident("SHOT-PUSH", severity="high", description="Pohon tumbang menutup Jl. Sudirman"))
    desk.push(4, "SHOT-PUSH", 30, SUPERVISOR)
    desk.broadcast("ORANGE", "Hujan lebat sore ini: siaga genangan di Rumbai dan Tampan", 60, SUPERVISOR)
    city.start()
    try:
        with serve(config, city.store) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_binary(), headless=True, args=list(CHROMIUM_ARGS))
            for name, path in (("takeover-screen-10.png", "/screen/10"), ("pushed-broadcast-screen-04.png", "/screen/4")):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.set_default_timeout(120_000)
                page.goto(base + path)
                page.wait_for_selector("[data-takeover], [data-pushed]")
                page.wait_for_timeout(1_500)
                page.screenshot(path=str(args.out / name))
                print(f"{name}: {path}")
            ctx = signed_in_context(browser, base, "supervisor", 1600, 1000)
            page = ctx.new_page()
            page.on("console", lambda m: print("console:", m.text[:300]) if m.type == "error" else None)
            page.set_default_timeout(120_000)
            page.goto(base + "/console")
            page.click('.cw-console-table tr[data-incident="SHOT-PUSH"]')
            page.wait_for_selector('#cw-console-detail [data-incident="SHOT-PUSH"]', state="attached")
            page.wait_for_selector("[data-mini-screen]")
            page.wait_for_timeout(1_500)
            page.screenshot(path=str(args.out / "console.png"))
            print("console.png: /console")
            page.goto(base + "/report?period=shift")
            page.wait_for_selector('[data-report="by_period"]')
            page.screenshot(path=str(args.out / "shift-report.png"), full_page=True)
            print("shift-report.png: /report")
            browser.close()
    finally:
        city.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

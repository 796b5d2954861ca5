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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.auth.users import UserStore  # noqa: E402
from dashboard.config import load_config  # noqa: E402
from dashboard.desk import Desk  # noqa: E402
from dashboard.incident_ops import Action, Actor  # noqa: E402
from dashboard.local_services import (  # noqa: E402
    CHROMIUM_ARGS,
    chromium_binary,
    serve,  # noqa: E402
)
from dashboard.sample_city import City  # noqa: E402

SUPERVISOR = Actor("supervisor", "supervisor", "session", "127.0.0.1")
#: The one account the pictures need; it lives only in this run's memory store.
LOGIN = ("supervisor", "screenshot-supervisor-pass")


def incident(id: str, severity: str = "high", category: str = "traffic", description: str = "") -> Any:
    from feeds.events import Incident

    now = datetime.now(UTC) - timedelta(seconds=5)
    return Incident(
        id=id,
        observed_at=now,
        source_type="Alert",
        category=category,
        severity=severity,  # type: ignore[arg-type]
        status="new",
        kecamatan="Sail",
        lat=0.5125,
        lon=101.4475,
        description=description,
        opened_at=now,
    )


def signed_in_context(browser: Any, base: str, width: int, height: int) -> Any:
    """A browser context logged in through the real login API, as the supervisor."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    response = ctx.request.post(
        f"{base}/api/v1/login", data={"username": LOGIN[0], "password": LOGIN[1]}, headers={"Origin": base}
    )
    if response.status != 200:
        raise RuntimeError(f"login as supervisor: {response.status} {response.text()[:200]}")
    return ctx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    config = load_config(environ={})
    # anonymous reading on, as for a wall of kiosks on a closed network; writing still needs a login
    config = config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": True})})
    city = City(config).replay(hours=2.0)
    UserStore(city.store).add(LOGIN[0], "supervisor", LOGIN[1])
    desk = Desk(city.store, config)
    open_ids = [d["id"] for d in desk.store.entities("incident").values() if d.get("status") == "new"][:3]
    for i, incident_id in enumerate(open_ids):
        desk.act(incident_id, Action("acknowledge"), SUPERVISOR)
        if i:
            desk.act(incident_id, Action("assign", agency=("BPBD", "Dishub")[i % 2]), SUPERVISOR)
    city.state.accept(
        incident(
            "SHOT-CRIT",
            severity="critical",
            category="naturalDisaster",
            description="Banjir 80 cm, warga terjebak di Jl. Lintas Timur",
        )
    )
    city.state.accept(incident("SHOT-PUSH", severity="high", description="Pohon tumbang menutup Jl. Sudirman"))
    desk.push(4, "SHOT-PUSH", 30, SUPERVISOR)
    desk.broadcast("ORANGE", "Hujan lebat sore ini: siaga genangan di Rumbai dan Tampan", 60, SUPERVISOR)
    city.start()
    try:
        with serve(city.config, city.store) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_binary(), headless=True, args=list(CHROMIUM_ARGS))
            for name, path in (("takeover-screen-10.png", "/screen/10"), ("pushed-broadcast-screen-04.png", "/screen/4")):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.set_default_timeout(120_000)
                page.goto(base + path)
                page.wait_for_selector("[data-takeover], [data-pushed]")
                page.wait_for_timeout(1_500)
                page.screenshot(path=str(args.out / name))
                print(f"{name}: {path}")
            ctx = signed_in_context(browser, base, 1600, 1000)
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

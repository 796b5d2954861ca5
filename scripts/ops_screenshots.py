#!/usr/bin/env python3
"""Regenerate the operations screenshots: ``python scripts/ops_screenshots.py``.

The app runs in-process as in the browser tests: a memory store filled by the simulator
through the real ingest path, users one per role, and a few operator actions. Debian's
headless Chromium then photographs the console (signed in as a supervisor, an incident
selected), a screen taken over by a critical incident, a screen with a broadcast and an
incident pushed to it, and the shift report, into ``docs/screenshots/``.

``--config examples/pariaman/config.yaml`` photographs another city instead, into files named
after its slug: its own districts, agencies, push screen and takeover rule (the takeover shot
is left out when the city has no rule for critical incidents), in its own language.
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


#: What the pictures' incidents and broadcast say, in the city's language.
WORDS = {
    "id": (
        "Banjir 80 cm, warga terjebak di {kec}",
        "Pohon tumbang menutup jalan di {kec}",
        "Hujan lebat sore ini: siaga genangan di {kec}",
    ),
    "en": (
        "Flood 80 cm deep, residents trapped in {kec}",
        "Fallen tree blocking the road in {kec}",
        "Heavy rain this afternoon: watch for flooding in {kec}",
    ),
}


def incident(
    id: str, place: tuple[str, float, float], severity: str = "high", category: str = "traffic", description: str = ""
) -> Any:
    from feeds.events import Incident

    kecamatan, lat, lon = place
    now = datetime.now(UTC) - timedelta(seconds=5)
    return Incident(
        id=id,
        observed_at=now,
        source_type="Alert",
        category=category,
        severity=severity,  # type: ignore[arg-type]
        status="new",
        kecamatan=kecamatan,
        lat=lat,
        lon=lon,
        description=description,
        opened_at=now,
    )


def gauge(place: tuple[str, float, float], level: float) -> Any:
    """A drainage gauge of the place at ``level`` metres."""
    from feeds.events import WaterLevel

    kecamatan, lat, lon = place
    return WaterLevel(
        id="urn:ngsi-ld:FloodMonitoring:SHOT-GAUGE",
        observed_at=datetime.now(UTC),
        source_type="FloodMonitoring",
        station_id="SHOT-GAUGE",
        name=f"Pos drainase {kecamatan}",
        level_m=level,
        kecamatan=kecamatan,
        lat=lat,
        lon=lon,
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
    parser.add_argument("--config", type=Path, default=None, help="another city's config (default: the shipped one)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    from dashboard.layout_settings import view_settings
    from feeds.geo import Districts
    from layouts.console.detail import push_default

    config = load_config(args.config, environ={})
    other = args.config is not None
    prefix = f"{config.city.slug}-" if other else ""
    districts = Districts.load(config.districts_path())
    kec = districts.names()[0] if other else "Sail"
    place = (kec, *districts.centroid(kec)) if other else (kec, 0.5125, 101.4475)
    flood, tree, rain = (w.format(kec=kec) for w in WORDS[config.city.language])
    if not other:  # the shipped pictures keep their words
        flood, tree = "Banjir 80 cm, warga terjebak di Jl. Lintas Timur", "Pohon tumbang menutup Jl. Sudirman"
        rain = "Hujan lebat sore ini: siaga genangan di Rumbai dan Tampan"
    agencies = [a.id for a in config.operations.agencies]
    takeover = next((r.screen for r in config.operations.takeovers if r.kind == "incident" and r.severity == "critical"), None)
    push_to = push_default(view_settings(config))
    # anonymous reading on, as for a wall of kiosks on a closed network; writing still needs a login
    config = config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": True})})
    city = City(config).replay(hours=2.0)
    UserStore(city.store).add(LOGIN[0], "supervisor", LOGIN[1])
    desk = Desk(city.store, config)
    open_ids = [d["id"] for d in desk.store.entities("incident").values() if d.get("status") == "new"][:3]
    for i, incident_id in enumerate(open_ids):
        desk.act(incident_id, Action("acknowledge"), SUPERVISOR)
        if i and agencies:
            desk.act(incident_id, Action("assign", agency=agencies[i % len(agencies)]), SUPERVISOR)
    city.state.accept(incident("SHOT-CRIT", place, severity="critical", category="naturalDisaster", description=flood))
    city.state.accept(incident("SHOT-PUSH", place, severity="high", description=tree))
    desk.push(push_to, "SHOT-PUSH", 30, SUPERVISOR)
    desk.broadcast("ORANGE", rain, 60, SUPERVISOR)
    if any(r.kind == "station" for r in config.operations.takeovers):  # the console's acknowledge row
        city.state.accept(gauge(place, config.thresholds.drainage.awas + 0.3))
    city.start()
    try:
        with serve(city.config, city.store) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_binary(), headless=True, args=list(CHROMIUM_ARGS))
            screens = [(f"pushed-broadcast-screen-{push_to:02d}.png", f"/screen/{push_to}")]
            if takeover is not None:
                screens.insert(0, (f"takeover-screen-{takeover:02d}.png", f"/screen/{takeover}"))
            for name, path in screens:
                name = prefix + name
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
            page.screenshot(path=str(args.out / f"{prefix}console.png"))
            print(f"{prefix}console.png: /console")
            page.goto(base + "/report?period=shift")
            page.wait_for_selector('[data-report="by_period"]')
            page.screenshot(path=str(args.out / f"{prefix}shift-report.png"), full_page=True)
            print(f"{prefix}shift-report.png: /report")
            browser.close()
    finally:
        city.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

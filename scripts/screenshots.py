#!/usr/bin/env python3
"""Regenerate the documentation screenshots of the wall: ``python scripts/screenshots.py``.

``--config examples/pariaman/config.yaml`` photographs another city instead: its whole wall,
each of its screens and its tablet, into files named after its slug (``pariaman-wall.png``).

Runs the app in-process exactly as the browser tests do (``tests/test_wall_browser.py``):
a memory store filled by the simulator through the real normalizer and ``CityState``,
replayed over the last hours (with an afternoon downpour, so the flood alert shows), kept
moving while Debian's headless Chromium photographs the quarter-scale wall and several
screens at 1920 x 1080 into ``docs/screenshots/``. Nothing is fetched from the internet.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.config import load_config  # noqa: E402
from dashboard.local_services import (  # noqa: E402
    CHROMIUM_ARGS,
    chromium_binary,
    serve,  # noqa: E402
)
from dashboard.local_services import WALL_READY_JS as READY_JS  # noqa: E402
from dashboard.sample_city import City  # noqa: E402

#: (file name, path, what it shows) at 1920 x 1080; the wall preview is sized to fit.
SHOTS = (
    ("screen-01-clock-kpis.png", "/screen/1", "clock and the six pillars"),
    ("screen-02-map.png", "/screen/2", "top-left window of the incident map (spans 2, 3, 8, 9)"),
    ("screen-04-incidents.png", "/screen/4", "incident queue"),
    ("screen-05-drainage.png", "/screen/5", "drainage stations and the flood alert"),
    ("screen-06-mpp.png", "/screen/6", "Mal Pelayanan Publik"),
    ("screen-07-feed-health.png", "/screen/7", "feed health"),
    ("screen-13-ticker.png", "/screen/13", "latest events"),
    ("screen-14-waste.png", "/screen/14", "waste"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--no-rain", action="store_true", help="a dry afternoon: no flood alert")
    parser.add_argument("--config", type=Path, default=None, help="another city's config (default: the shipped one)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    config = load_config(args.config, environ={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"})  # shots need no login
    other = args.config is not None
    prefix = f"{config.city.slug}-" if other else ""
    started = time.monotonic()
    # from before the MPP opens, so its hourly curve starts at 08:00
    city = City(config).replay(hours=8.5, downpour_h=None if args.no_rain else 1.5).start()
    wall = config.wall
    scale = 0.25
    width = math.ceil((wall.columns * (wall.screen_width_px + wall.bezel_px) - wall.bezel_px) * scale)
    height = math.ceil((wall.rows * (wall.screen_height_px + wall.bezel_px) - wall.bezel_px) * scale)
    try:
        with serve(city.config, city.store) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_binary(), headless=True, args=list(CHROMIUM_ARGS))
            shots = [(f"{prefix}wall-preview.png", f"/wall?scale={scale}", "the whole wall at quarter scale", (width, height))]
            # a screen that shows nothing never gets ready; check-config warns of it
            idle = set(config.idle_screens())
            own = [
                (f"screen-{n:02d}.png", f"/screen/{n}", f"screen {n}") for n in range(1, wall.screen_count + 1) if n not in idle
            ]
            shots += [
                (prefix + name, path, what, (wall.screen_width_px, wall.screen_height_px))
                for name, path, what in (own if other else SHOTS)
            ]
            for name, path, what, (w, h) in shots:
                page = browser.new_page(viewport={"width": w, "height": h})
                outside: list[str] = []
                page.on(
                    "request",
                    lambda r, outside=outside: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None,
                )
                page.goto(base + path, wait_until="domcontentloaded")
                page.wait_for_function(READY_JS, timeout=120_000, polling=100)
                page.wait_for_timeout(1_200)  # plotly's first paint and the fit pass
                page.screenshot(path=str(args.out / name))
                page.close()
                if outside:
                    raise SystemExit(f"{path} asked the internet for {outside[:3]}")
                print(f"{args.out / name}  ({w}x{h}) {what}")
            if other:
                import shutil
                import tempfile

                from scripts.tablet_metrics import shots as tablet_shots

                with tempfile.TemporaryDirectory() as tmp:  # the shipped city's tablet shots keep their names
                    taken = tablet_shots(browser, base, Path(tmp))
                    for path in taken:
                        renamed = args.out / (prefix + path.name)
                        shutil.move(path, renamed)
                        print(f"{renamed}  tablet")
            browser.close()
    finally:
        city.stop()
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Page weight and first paint of the mayor's tablet, with Chromium's CPU throttled 4x.

    python scripts/tablet_metrics.py                 # 3 cold loads of /tablet at 820 x 1180
    python scripts/tablet_metrics.py --url http://127.0.0.1:8000 --runs 5
    python scripts/tablet_metrics.py --shots docs/screenshots   # and the two doc screenshots

Without ``--url`` the app runs in-process on the same city as ``tests/test_tablet.py``
(the simulator replayed through the real ingest path, a month of KPI history, kept moving).
Each run is a fresh browser context (empty cache) in Debian's headless Chromium, driven
over CDP: ``Emulation.setCPUThrottlingRate {rate: 4}``, bytes counted from
``Network.loadingFinished.encodedDataLength`` (what went over the wire, headers included)
plus websocket frames (Dash's FastAPI backend answers callbacks over one). Reported:

- page weight: bytes until every pillar card is filled, by resource type;
- first contentful paint: ``performance.getEntriesByType('paint')``;
- pillars ready: when every pillar card is first filled (the page is useful), from
  navigation start.

Medians over the runs. Nothing is fetched from the internet.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.local_services import CHROMIUM_ARGS, chromium_binary  # noqa: E402

READY_JS = """
() => {
  const cards = Array.from(document.querySelectorAll('[data-pillar]'));
  return cards.length > 0 && cards.every(c => c.querySelector('.tb-card-sub'));
}
"""

#: Marks the moment every pillar card is filled (its standing and how many KPIs are on
#: target), measured inside the page. Any number of pillars: a city sets its own, and a
#: pillar whose feeds have not spoken stays "unknown", so a standing cannot be the sign.
WATCH_JS = """
(() => {
  const done = () => {
    const cards = Array.from(document.querySelectorAll('[data-pillar]'));
    return cards.length > 0 && cards.every(c => c.querySelector('.tb-card-sub'));
  };
  const observer = new MutationObserver(() => {
    if (!window.__tbReady && done()) { window.__tbReady = performance.now(); observer.disconnect(); }
  });
  observer.observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


@contextmanager
def local_site() -> Iterator[str]:
    """The app in-process on the test city, kept moving so nothing turns stale."""
    from dashboard.config import load_config
    from dashboard.local_services import serve
    from dashboard.sample_city import tablet_city

    city = tablet_city(load_config(environ={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"})).start()  # no login
    try:
        with serve(city.config, city.store) as base:
            yield base
    finally:
        city.stop()


def measure(browser: Any, url: str, size: tuple[int, int], rate: float) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    kinds: dict[str, str] = {}
    sizes: dict[str, float] = defaultdict(float)
    count = {"requests": 0}

    def sent(event: dict[str, Any]) -> None:
        kinds[event["requestId"]] = event.get("type", "Other")

    def finished(event: dict[str, Any]) -> None:
        sizes[kinds.get(event["requestId"], "Other")] += event.get("encodedDataLength", 0)
        count["requests"] += 1

    def frame(event: dict[str, Any]) -> None:
        sizes["WebSocket"] += len(event.get("response", {}).get("payloadData", ""))

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.add_init_script(WATCH_JS)
    page.goto(f"{url}/tablet")
    page.wait_for_function(READY_JS, timeout=60_000)
    ready = page.evaluate("window.__tbReady || performance.now()")
    weight_at_ready = dict(sizes)
    page.wait_for_timeout(1_500)  # what trickles in just after (late chunks, the first poll)
    paints = {
        e["name"]: e["startTime"]
        for e in page.evaluate("performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))")
    }
    dom = page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.domContentLoadedEventEnd : null; })()"
    )
    context.close()
    return {
        "fcp": paints.get("first-contentful-paint"),
        "fp": paints.get("first-paint"),
        "ready": ready,
        "dcl": dom,
        "bytes": sum(weight_at_ready.values()),
        "bytes_settled": sum(sizes.values()),
        "by_type": weight_at_ready,
        "requests": count["requests"],
    }


def shots(browser: Any, url: str, out: Path) -> list[Path]:
    """Portrait with a pillar open under its row, landscape at a glance: what the mayor sees first."""
    out.mkdir(parents=True, exist_ok=True)
    taken = []
    for name, size, pillar in (
        ("tablet-portrait.png", (820, 1180), 2),  # the third pillar, opened
        ("tablet-landscape.png", (1180, 820), None),
    ):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{url}/tablet")
        page.wait_for_function(READY_JS, timeout=120_000)
        if pillar is not None:
            card = page.locator(".tb-card[data-pillar]").nth(pillar)
            pillar_id = card.get_attribute("data-pillar")
            card.click()
            page.locator(f"[data-pillar-detail={pillar_id}]").wait_for(state="visible")
        page.wait_for_timeout(1_200)  # ages tick, the scroll to the open pillar settles
        page.evaluate("window.scrollTo(0, 0)")  # the docs show the page from its top
        page.wait_for_timeout(200)
        path = out / name
        page.screenshot(path=str(path))
        taken.append(path)
        context.close()
    return taken


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running citywall (default: start one in-process on the test city)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=4.0, help="CPU throttling factor (default 4)")
    parser.add_argument("--width", type=int, default=820)
    parser.add_argument("--height", type=int, default=1180)
    parser.add_argument("--shots", type=Path, help="also save tablet-portrait.png and tablet-landscape.png here")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(__file__).relative_to(REPO)), *sys.argv[1:]])
    site = (lambda: _given(args.url)) if args.url else local_site
    with site() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_binary(), headless=True, args=list(CHROMIUM_ARGS))
        try:
            measure(browser, url, (args.width, args.height), 1.0)  # warm the server, not the browser
            runs = [measure(browser, url, (args.width, args.height), args.rate) for _ in range(args.runs)]
            taken = shots(browser, url, args.shots) if args.shots else []
        finally:
            browser.close()

    med = {
        key: statistics.median(r[key] for r in runs if r[key] is not None)
        for key in ("fcp", "fp", "ready", "dcl", "bytes", "bytes_settled", "requests")
    }
    types: dict[str, float] = defaultdict(float)
    for r in runs:
        for kind, n in r["by_type"].items():
            types[kind] += n / len(runs)
    print(f"$ {command}")
    print(f"/tablet at {args.width}x{args.height}, CPU throttled {args.rate:g}x, cold cache, median of {len(runs)} runs")
    print(
        f"  page weight until the pillars show: {kb(med['bytes'])} over {med['requests']:.0f} requests "
        f"({kb(med['bytes_settled'])} 1.5 s later)"
    )
    print("    " + ", ".join(f"{kind} {kb(n)}" for kind, n in sorted(types.items(), key=lambda kv: -kv[1])))
    print(f"  first paint {med['fp']:.0f} ms, first contentful paint {med['fcp']:.0f} ms, DOMContentLoaded {med['dcl']:.0f} ms")
    print(f"  pillars ready (every pillar card filled): {med['ready']:.0f} ms")
    print("  runs (fcp / ready ms): " + ", ".join(f"{r['fcp']:.0f}/{r['ready']:.0f}" for r in runs))
    for path in taken:
        print(f"  wrote {path}")
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url.rstrip("/")


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"  ({time.monotonic() - started:.0f} s)")
    raise SystemExit(code)

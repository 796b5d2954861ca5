"""The whole wall under load, as a video-wall controller or 24 kiosk PCs drive it.

    python bench/wall_load.py --trials 50 --rate 500 --out bench/results/wall-load.json

Two modes, each on a fresh ``citywall demo --rate 0`` and a private Mosquitto, with the
simulator's mix at ``--rate`` msg/s (``citywall simulate``) running in a process of its own:

* ``wall``: ``/wall`` at full size (scale 1) in one headless Chromium page whose viewport is
  all the monitors' pixels side by side (11,520 x 4,320 for 6 x 4 screens of 1920 x 1080), the
  way a controller spanning every monitor shows it (the canvas's bezel gaps make it 30 x 18
  px larger; the kiosk page hides what falls outside).
* ``screens``: the 24 ``/screen/N`` pages open at once, each in a browser context of its
  own (its own websocket, as 24 kiosk PCs), all at 1920 x 1080 in one Chromium process.

Each trial publishes a critical Alert with a unique description (``mosquitto_pub -q 1``) and
waits for its text in ``document.body.innerText`` (a MutationObserver, as in
``bench/common.py``). In ``screens`` mode every page watches; which screens show a new
Alert is found by a first, unmeasured trial before the load starts, given 30 s (the queue,
ticker and map screens); a trial's ``all`` latency is when the last of them shows it, ``/screen/4`` is
reported as well, and a trial is lost when any of them misses it for 5 s. Server CPU is
the citywall process tree over the trials; ``received`` against ``sent`` shows whether ingest
kept up. All of it on one machine: the browsers share its cores with the server.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import contextlib

from bench.common import (  # noqa: E402
    LOST_AFTER_S,
    OBSERVER,
    READY,
    ROOT,
    CpuMeter,
    Publisher,
    arm,
    broker_and_browser,
    command_line,
    feed_counts,
    fill_city,
    finish,
    latency_stats,
    machine,
    publish_trial,
    seen_at,
    start_citywall,
    stop_group,
    wait_received,
)

MODES = ["wall", "screens"]
CALIBRATION_S = 30.0  # the unmeasured first trial, idle: long enough for every screen that shows Alerts at all


def wall_geometry() -> tuple[int, int, int]:
    """(screens, width, height): the screen count and the monitors' pixels side by side, from
    the config the demo runs with (6 x 4 x 1920 x 1080: 11,520 x 4,320)."""
    from dashboard.config import load_config

    wall = load_config(ROOT / "config.yaml").wall
    return wall.screen_count, wall.columns * wall.screen_width_px, wall.rows * wall.screen_height_px


def open_page(browser: Browser, url: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    return page


def watch(pages: dict[str, Page], mqtt_port: int, timeout: float = LOST_AFTER_S) -> dict[str, float | None]:
    """One trial on every page at once: ms until each page showed the text (None: not within ``timeout`` s)."""
    needle = f"Uji latensi {uuid.uuid4().hex[:10]}"
    for page in pages.values():
        with contextlib.suppress(PlaywrightTimeout):
            arm(page, needle)
    deadline = time.monotonic() + timeout
    before_ms = publish_trial(mqtt_port, needle)
    seen: dict[str, float | None] = {name: None for name in pages}
    while time.monotonic() < deadline and any(v is None for v in seen.values()):
        for name, page in pages.items():
            if seen[name] is None and time.monotonic() < deadline:
                try:
                    at = seen_at(page)
                except PlaywrightTimeout:
                    continue
                if at:
                    seen[name] = at - before_ms
        time.sleep(0.005)
    return {name: v if v is None or v <= timeout * 1000 else None for name, v in seen.items()}


def run_mode(browser: Browser, workdir: Path, mqtt_port: int, mode: str, trials: int, rate: float) -> dict[str, Any]:
    citywall, base = start_citywall(workdir, mqtt_port)
    publisher: Publisher | None = None
    try:
        fill_city(mqtt_port)
        if mode == "wall":
            _, width, height = wall_geometry()
            pages = {"/wall": open_page(browser, f"{base}/wall", width, height)}
            viewport = [width, height]
        else:
            screens, _, _ = wall_geometry()
            pages = {f"/screen/{n}": open_page(browser, f"{base}/screen/{n}", 1920, 1080) for n in range(1, screens + 1)}
            viewport = [1920, 1080]
        time.sleep(3)
        for page in pages.values():
            page.evaluate(OBSERVER)
            page.set_default_timeout(LOST_AFTER_S * 1000)  # a page that cannot answer within the loss window has lost
        before_calibration = feed_counts(base).get("received", 0)
        calibration = watch(pages, mqtt_port, CALIBRATION_S)
        showing = [name for name, v in calibration.items() if v is not None]
        watched = {name: pages[name] for name in showing} or pages
        # the feed's counters reach the API on a timer: the calibration's message must be in
        # them before the count to compare with starts, or it is counted with the load's
        wait_received(base, before_calibration + 1, 30)
        counts0 = feed_counts(base)
        if rate > 0:
            publisher = Publisher("mix", mqtt_port, rate)
            # the load is on once citywall has had a second's worth of it (a publisher takes a while to start)
            wait_received(base, counts0.get("received", 0) + int(rate), 120)
        time.sleep(3)
        meter = CpuMeter(psutil.Process(citywall.pid))
        meter.start()
        per_trial = []
        for _ in range(trials):
            per_trial.append(watch(watched, mqtt_port))
            time.sleep(0.2)
        cpu = meter.stop()
        running, publisher = publisher, None
        load_sent = running.stop() if running else 0
        sent = load_sent + trials
        got, waited = wait_received(base, counts0.get("received", 0) + sent, 60)
        for page in pages.values():
            page.context.close()
    finally:
        try:
            if publisher:
                publisher.stop()
        finally:
            stop_group(citywall)
    got -= counts0.get("received", 0)
    everywhere = [None if any(v is None for v in t.values()) else max(t.values()) for t in per_trial]  # type: ignore[type-var]
    out: dict[str, Any] = {
        "mode": mode,
        "rate": rate,
        "viewport": viewport,
        "pages_open": len(pages),
        "pages_showing_a_new_alert": showing,
        "calibration_ms": {name: None if v is None else round(v, 1) for name, v in calibration.items()},
        "all": latency_stats(everywhere),
        "server_cpu_pct_of_one_core": cpu["cpu_pct_of_one_core"],
        "server_cpu": cpu,
        "ingest": {"sent": sent, "received": got, "missing": sent - got, "seconds_waited_after_load": waited},
        "per_page": {name: latency_stats([t[name] for t in per_trial]) for name in watched},
    }
    if "/screen/4" in watched:
        out["screen_4"] = out["per_page"]["/screen/4"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--rate", type=float, default=500.0, help="msg/s of the simulator's mix (0: idle)")
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "command": command_line("wall_load.py"),
        "machine": machine(),
        "method": (
            "critical Alert with a unique description via mosquitto_pub -q 1; MutationObserver on "
            "document.body.innerText of every watched page; latency from just before the publish "
            "until the last watched page shows it; lost after 5 s; simulator mix as load"
        ),
    }
    started = time.monotonic()
    runs = []
    with broker_and_browser("citywall-wall-", args.keep) as (workdir, mqtt_port, browser):
        for mode in args.modes:
            run = run_mode(browser, workdir, mqtt_port, mode, args.trials, args.rate)
            runs.append(run)
            a = run["all"]
            print(
                f"{mode:<8} p50 {a['p50_ms']} p95 {a['p95_ms']} max {a['max_ms']} lost {a['lost']}/{a['trials']} "
                f"CPU {run['server_cpu_pct_of_one_core']}% received {run['ingest']['received']}/{run['ingest']['sent']}",
                file=sys.stderr,
                flush=True,
            )
    result["runs"] = runs
    result["seconds"] = round(time.monotonic() - started)
    return finish(result, args.out, args.json, print_modes)


def print_modes(result: dict[str, Any]) -> None:
    print("| mode | pages | p50 ms | p95 ms | max ms | lost | /screen/4 p95 ms | server CPU | received / sent |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for run in result["runs"]:
        a, s4 = run["all"], run.get("screen_4", {})
        label = f"/wall {run['viewport'][0]} x {run['viewport'][1]}" if run["mode"] == "wall" else "24 x /screen/N"
        print(
            f"| {label} | {run['pages_open']} | {a['p50_ms']} | {a['p95_ms']} | {a['max_ms']} | "
            f"{a['lost']}/{a['trials']} | "
            f"{s4.get('p95_ms', '-')} | {run['server_cpu_pct_of_one_core']} % | {run['ingest']['received']:,} / "
            f"{run['ingest']['sent']:,} |"
        )


if __name__ == "__main__":
    sys.exit(main())

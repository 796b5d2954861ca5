"""Publish-to-visible latency in a real Chromium, idle and under simulated load.

Method (the same one used for other dashboards on this machine, so the numbers compare):
an Alert with a unique description is published with ``mosquitto_pub -q 1``; a
MutationObserver in the page records ``Date.now()`` when that text enters
``document.body.innerText``; the latency is that time minus the time just before
``mosquitto_pub`` was started. Trials whose text never shows within 5 s count as lost.

It starts its own Mosquitto on a free loopback port, ``citywall demo`` on it (no built-in
simulator), fills the city for a few seconds, then measures idle; then runs
``citywall simulate --rate LOAD`` in another process and measures again. It also reports the
server's CPU, the websocket bytes the page received per update, and what stood in for the
24 screens (the ``/wall`` page holds all of them in one tab).

    .venv/bin/python bench/latency.py --trials 50 --load 500 --out bench/results/latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# shared with the other latency benchmarks
from bench.common import (  # noqa: E402
    CHROMIUM_ARGS,
    OBSERVER,
    READY,
    chromium,
    free_port,
    latency_stats,
    mosquitto_pub,
    push_counters,
    start_mosquitto,
    trial,
    wait_http,
)


def series(name: str, page: Page, trials: int, mqtt_port: int, server: psutil.Process, base: str) -> dict[str, Any]:
    pub = mosquitto_pub()
    server.cpu_percent(None)
    before = push_counters(base)
    started = time.monotonic()
    results = []
    for _ in range(trials):
        results.append(trial(page, mqtt_port, pub))
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    cpu = server.cpu_percent(None)
    after = push_counters(base)
    batches = after["batches"] - before["batches"]
    pushed_bytes = after["bytes"] - before["bytes"]
    try:
        responsive = page.evaluate(
            "() => new Promise(r => { const t = performance.now(); setTimeout(() => r(performance.now() - t), 0); })"
        )
    except PlaywrightTimeout:
        responsive = float("inf")
    return {
        "name": name,
        **latency_stats(results),
        "server_cpu_pct_of_one_core": round(cpu, 1),
        "push_batches_per_s": round(batches / elapsed, 1),
        "push_bytes_per_s": round(pushed_bytes / elapsed),
        "push_bytes_per_update": round(pushed_bytes / batches) if batches else 0,
        "main_thread_settimeout0_ms": round(responsive, 1),
    }


def measure(path: str, trials: int, load: float, others: int = 0, keep: bool = False) -> dict[str, Any]:
    """One page measured; with ``others``, that many more screens open, each in a browser context of its own.

    A context of its own means a websocket of its own, as 24 kiosk PCs would each have
    (tabs of one context share Dash's websocket worker).
    """
    workdir = Path(tempfile.mkdtemp(prefix="citywall-latency-"))
    mosquitto, mqtt_port = start_mosquitto(workdir)
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    mqtt_url = f"mqtt://127.0.0.1:{mqtt_port}"
    cmd = [sys.executable, "-m", "dashboard.cli"]
    log = open(workdir / "demo.log", "wb")  # noqa: SIM115 - closed in the finally below, after the run
    # a measuring tool on loopback: it reads pages and the API without logging in
    demo = subprocess.Popen(
        [*cmd, "demo", "--port", str(web_port), "--mqtt-url", mqtt_url, "--rate", "0"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )
    loader: subprocess.Popen[bytes] | None = None
    try:
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        subprocess.run(
            [*cmd, "simulate", "--to", "mqtt", "--url", mqtt_url, "--rate", "200", "--duration", "4"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=60,
        )
        server = psutil.Process(demo.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_default_timeout(10_000)
            for n in [n for n in range(1, 25) if f"/screen/{n}" != path][:others]:
                other = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
                other.goto(f"http://127.0.0.1:{web_port}/screen/{n}")
                other.wait_for_selector(READY, timeout=30_000)
            page.goto(f"http://127.0.0.1:{web_port}{path}")
            page.wait_for_selector(READY, timeout=30_000)
            page.wait_for_timeout(3_000)
            page.evaluate(OBSERVER)
            idle = series("idle", page, trials, mqtt_port, server, base)
            loader = subprocess.Popen(
                [*cmd, "simulate", "--to", "mqtt", "--url", mqtt_url, "--rate", str(load)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            time.sleep(3)
            loaded = series(f"{load:g} msg/s", page, trials, mqtt_port, server, base)
            state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/v1/feeds", timeout=5))
            browser.close()
        return {"page": path, "other_screens_open": others, "idle": idle, "load": loaded, "feeds": state["feeds"]}
    finally:
        for proc in (loader, demo):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
        mosquitto.terminate()
        mosquitto.wait(10)
        log.close()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--load", type=float, default=500)
    parser.add_argument("--pages", nargs="+", default=["/screen/4", "/wall?scale=0.25"])
    parser.add_argument(
        "--others",
        type=int,
        default=0,
        help="measure the first page once more with this many other /screen/N pages open, "
        "each in its own browser context (23: the whole wall)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    command = "python bench/latency.py " + " ".join(sys.argv[1:])
    results = {
        "command": command,
        "method": "mosquitto_pub -q 1 of an Alert with a unique description; MutationObserver time when the text "
        "is in document.body.innerText, minus the time just before mosquitto_pub started",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "chromium": "Debian chromium, headless"},
        "stand_in_for_24_screens": (
            "--others 23: the other 23 /screen/N pages open at once, each in a headless Chromium "
            "context of its own (its own websocket, as 24 kiosk PCs), on the same 2 cores as the "
            "server; and /wall?scale=0.25, all 24 screens in one tab"
        ),
        "runs": [measure(page, args.trials, args.load) for page in args.pages]
        + ([measure(args.pages[0], args.trials, args.load, args.others)] if args.others else []),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    if args.json:
        print(text)
    else:
        for run in results["runs"]:
            for key in ("idle", "load"):
                r = run[key]
                label = run["page"] + (f" +{run['other_screens_open']} screens" if run["other_screens_open"] else "")
                print(
                    f"{label:<28} {r['name']:<12} p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  max {r['max_ms']} ms  "
                    f"lost {r['lost']}/{r['trials']}  server CPU {r['server_cpu_pct_of_one_core']}%  "
                    f"push {r['push_batches_per_s']}/s, {r['push_bytes_per_update']} B per update"
                )
        print(f"\n{command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

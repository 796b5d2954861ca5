"""Kiosk memory soak: does a screen left open for hours keep a flat JS heap?

A wall screen runs for weeks. The nightly reload bounds its memory, but a screen whose
reload fails must not die of a slow leak either. This soak runs ``citywall demo`` with its
simulator at ``--rate`` messages a second, opens each page in its own headless Chromium window,
and every ``--every`` seconds forces a garbage collection in each page (CDP
``HeapProfiler.collectGarbage``) and reads the live JS heap, the DOM node and listener
counts, and the length of Dash's undo list. Chromium is driven over bare CDP
(``bench/cdp.py``), as a kiosk runs it, with no DevTools domain recording the page's requests.
Each sample also records the store version the page last applied and its script errors, from
the page's own heartbeat (``/api/v1/screens``), so a page that stopped updating shows.
After a warm-up (the city fills, the charts' windows fill), growth is the least-squares
slope of the heap over the rest of the run, in MB an hour, plus the plain difference between
the medians of the first and last five samples.

A sample's heap is the lowest of ``READINGS`` readings half a second apart, each after its
own forced collection. With one reading per sample, the wall's samples swung by 3 to 4 MB
from one minute to the next, wider than an hour's bound; the likely cause is a page kept busy
by the push, which holds at any instant the frame it is applying. What a page keeps is in
every reading, so the lowest is the kept heap; the slope of the first reading alone is
reported too (``..._single_reading``), so the two can be compared.

    .venv/bin/python bench/kiosk_soak.py --minutes 70 --warmup 10 --rate 100 \\
        --out bench/results/kiosk-heap.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import cdp  # noqa: E402
from bench.common import wait_http  # noqa: E402
from dashboard.local_services import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("/screen/4", "/screen/9", "/wall?scale=0.25")
READINGS = 3
UNDO_LIST = "() => { const s = (window.dash_stores || [])[0]; return s ? s.getState().history.past.length : -1; }"


def slope_per_hour(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB an hour."""
    if len(samples) < 2:
        return None
    ts = [t for t, _ in samples]
    ys = [y for _, y in samples]
    mean_t, mean_y = statistics.fmean(ts), statistics.fmean(ys)
    var = sum((t - mean_t) ** 2 for t in ts)
    if var == 0:
        return None
    return sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / var * 3_600


def summarise(samples: list[dict[str, Any]], warmup_s: float) -> dict[str, Any]:
    measured = [s for s in samples if s["t_s"] >= warmup_s]
    heap = [(s["t_s"], s["heap_mb"]) for s in measured]
    single = [(s["t_s"], s["heap_mb_readings"][0]) for s in measured if s.get("heap_mb_readings")]
    first = [y for _, y in heap[:5]]
    last = [y for _, y in heap[-5:]]
    hours = (heap[-1][0] - heap[0][0]) / 3_600 if len(heap) > 1 else 0.0
    return {
        "samples_after_warmup": len(measured),
        "measured_minutes": round(hours * 60, 1),
        "heap_mb_first": round(statistics.median(first), 3) if first else None,
        "heap_mb_last": round(statistics.median(last), 3) if last else None,
        "heap_mb_per_hour_slope": round(slope, 3) if (slope := slope_per_hour(heap)) is not None else None,
        "heap_mb_per_hour_slope_single_reading": round(slope, 3) if (slope := slope_per_hour(single)) is not None else None,
        "heap_mb_per_hour_first_to_last": round((statistics.median(last) - statistics.median(first)) / hours, 3)
        if hours and first and last
        else None,
        "nodes_min_max": [min(s["nodes"] for s in measured), max(s["nodes"] for s in measured)] if measured else None,
        "listeners_min_max": [min(s["listeners"] for s in measured), max(s["listeners"] for s in measured)] if measured else None,
        "undo_list_max": max(s["undo_list"] for s in measured) if measured else None,
    }


def screens_by_page(port: int) -> dict[str, dict[str, Any]]:
    """Each page's latest heartbeat (``/api/v1/screens``): the store version it last applied
    and its script errors, so the figures are known to come from pages that kept updating."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/screens", timeout=10) as r:
        listing = json.load(r)
    return {e["page"]: e for e in listing["screens"] if e["status"] == "live"}


def read_sample(page: cdp.Session, t_s: float) -> dict[str, Any]:
    """The kept heap (the lowest of ``READINGS`` forced-GC readings), DOM and listener counts,
    and the length of Dash's undo list."""
    readings = []
    for n in range(READINGS):
        if n:
            time.sleep(0.5)  # the readings' spacing, not a synchronisation
        page.send("HeapProfiler.collectGarbage")
        readings.append(round(page.send("Runtime.getHeapUsage")["usedSize"] / 1e6, 3))
    metrics = {m["name"]: m["value"] for m in page.send("Performance.getMetrics")["metrics"]}
    return {
        "t_s": round(t_s, 1),
        "heap_mb": min(readings),
        "heap_mb_readings": readings,
        "nodes": int(metrics["Nodes"]),
        "listeners": int(metrics["JSEventListeners"]),
        "undo_list": cdp.evaluate(page, f"({UNDO_LIST})()"),
        "visible": cdp.evaluate(page, "document.visibilityState") == "visible",
    }


def soak(minutes: float, warmup_min: float, rate: float, every_s: float, pages: tuple[str, ...]) -> dict[str, Any]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="citywall-soak-"))
    log = (workdir / "citywall.log").open("wb")
    citywall = shutil.which("citywall", path=str(Path(sys.executable).parent)) or "citywall"
    server = subprocess.Popen(
        [citywall, "demo", "--port", str(port), "--rate", str(rate)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )  # reads without a login
    samples: dict[str, list[dict[str, Any]]] = {path: [] for path in pages}
    browser = None
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        browser = cdp.Browser()
        tabs = []
        for path in pages:
            page = browser.open(f"http://127.0.0.1:{port}{path}", 1920, 1080)
            page.send("Performance.enable")  # counts only; records nothing per request
            tabs.append((path, page))
        start = time.monotonic()
        end = start + minutes * 60
        while time.monotonic() < end:
            time.sleep(every_s)  # the soak's own pace, not a synchronisation
            beats = screens_by_page(port)
            for path, page in tabs:
                sample = read_sample(page, time.monotonic() - start)
                beat = beats.get(urllib.parse.urlsplit(path).path, {})
                sample["applied_version"] = beat.get("applied")
                sample["script_errors"] = beat.get("errors")
                samples[path].append(sample)
                print(
                    f"{sample['t_s']:7.0f} s  {path:18s} heap {sample['heap_mb']:7.3f} MB  nodes "
                    f"{sample['nodes']:5d}  listeners {sample['listeners']:4d}  undo {sample['undo_list']}  "
                    f"applied {sample['applied_version']}  errors {sample['script_errors']}",
                    flush=True,
                )
    finally:
        if browser is not None:
            browser.close()
        server.terminate()
        server.wait(timeout=20)
    return {path: {"summary": summarise(s, warmup_min * 60), "samples": s} for path, s in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=70)
    parser.add_argument("--warmup", type=float, default=10, help="minutes left out of the growth figures")
    parser.add_argument("--rate", type=float, default=100, help="simulated messages a second")
    parser.add_argument("--every", type=float, default=60, help="seconds between samples")
    parser.add_argument("--pages", nargs="+", default=list(PAGES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/kiosk_soak.py", *sys.argv[1:]])
    results = soak(args.minutes, args.warmup, args.rate, args.every, tuple(args.pages))
    report = {
        "command": command,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "chromium": "Debian chromium, headless"},
        "rate_msg_s": args.rate,
        "minutes": args.minutes,
        "warmup_minutes": args.warmup,
        "pages": results,
    }
    print(f"\n{command}")
    print(
        f"{'page':18s} {'heap first':>10s} {'heap last':>10s} {'MB/h slope':>11s} {'MB/h ends':>10s} "
        f"{'nodes':>12s} {'undo max':>9s}"
    )
    for path, result in results.items():
        s = result["summary"]
        print(
            f"{path:18s} {s['heap_mb_first']!s:>10s} {s['heap_mb_last']!s:>10s} "
            f"{s['heap_mb_per_hour_slope']!s:>11s} {s['heap_mb_per_hour_first_to_last']!s:>10s} "
            f"{str(s['nodes_min_max']):>12s} {s['undo_list_max']!s:>9s}"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cost as the city grows: server CPU per message and latency p95 with 100 ... 20,000 open incidents.

    python bench/city_growth.py --out bench/results/city-growth.json

For each size, a fresh ``citywall demo --rate 0`` on a private Mosquitto:

1. **preload**: ``bench/publish_alerts.py`` publishes that many new Alerts (none critical) at
   ``--preload-rate``/s, and the benchmark waits until the server counts them all open
   (``citywall_open_incidents`` at /metrics);
2. ``/screen/4`` (the incident queue) is opened in headless Chromium and given 3 s; the
   server's CPU is measured for ``--idle-seconds`` with nothing arriving (the baseline);
3. **stream**: ``--stream-rate`` new Alerts/s for ``--stream-seconds`` (100/s for 60 s: 6,000),
   while latency trials (a critical Alert with a unique description, ``mosquitto_pub -q 1``,
   MutationObserver on the page, as in ``bench/common.py``) run one after another, 0.2 s apart;
4. the server's CPU (its process tree, psutil) from the stream's start until citywall has
   received every message of it (or 60 s after it ended), divided by the messages received
   in that window: **CPU µs per message**. ``net`` takes the idle baseline out.

The config is the shipped ``config.yaml`` with ``history.open_incidents_max`` raised to
``--cap`` (30,000), written to the run's work folder: at the shipped cap (20,000) every new
Alert of the stream on the largest size would be refused, and a refusal is not what is to be
measured. ``growth`` is the ratio of the largest size's figure to the smallest's.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import Browser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    OBSERVER,
    READY,
    CpuMeter,
    Publisher,
    broker_and_browser,
    command_line,
    config_with,
    feed_counts,
    finish,
    latency_stats,
    machine,
    open_incidents,
    start_citywall,
    stop_group,
    trial,
    wait_received,
)

SIZES = [100, 1_000, 10_000, 20_000]
PAGE = "/screen/4"


def wait_open(base: str, at_least: int, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    count = open_incidents(base)
    while count < at_least and time.monotonic() - started < timeout:
        time.sleep(1.0)
        count = open_incidents(base)
    return count, round(time.monotonic() - started, 1)


def one_size(
    browser: Browser, workdir: Path, mqtt_port: int, config: Path, size: int, args: argparse.Namespace
) -> dict[str, Any]:
    citywall, base = start_citywall(workdir, mqtt_port, config)
    stream: Publisher | None = None
    try:
        t0 = time.monotonic()
        prefix = f"pre-{uuid.uuid4().hex[:6]}"
        sent_preload = Publisher("alerts", mqtt_port, args.preload_rate, count=size, prefix=prefix).wait(600)
        opened, waited = wait_open(base, size, args.preload_timeout)
        preload_s = round(time.monotonic() - t0, 1)
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        page.set_default_timeout(30_000)
        page.goto(base + PAGE)
        page.wait_for_selector(READY, timeout=120_000)
        page.wait_for_timeout(3_000)
        page.evaluate(OBSERVER)
        meter = CpuMeter(psutil.Process(citywall.pid))
        meter.start()
        time.sleep(args.idle_seconds)
        idle = meter.stop()
        counts0 = feed_counts(base)
        count = int(args.stream_rate * args.stream_seconds)
        meter.start()
        stream = Publisher("alerts", mqtt_port, args.stream_rate, count=count, prefix=f"stream-{uuid.uuid4().hex[:6]}")
        results: list[float | None] = []
        while stream.proc.poll() is None:
            results.append(trial(page, mqtt_port))
            time.sleep(0.2)
        running, stream = stream, None
        stream_sent = running.wait(60)
        expected = counts0.get("received", 0) + stream_sent + len(results)
        received, waited_after = wait_received(base, expected, 60)
        cpu = meter.stop()
        page.context.close()
        open_at_end = open_incidents(base)
    finally:
        try:
            if stream:
                stream.stop()
        finally:
            stop_group(citywall)
    messages = received - counts0.get("received", 0)
    idle_cpu_per_s = idle["cpu_s"] / idle["wall_s"] if idle["wall_s"] else 0.0
    net = cpu["cpu_s"] - idle_cpu_per_s * cpu["wall_s"]
    return {
        "open_incidents_preloaded": size,
        "preload": {"sent": sent_preload, "open_counted": opened, "seconds": preload_s, "seconds_waiting_for_server": waited},
        "idle_cpu_pct_of_one_core": idle["cpu_pct_of_one_core"],
        "stream": {
            "sent": stream_sent,
            "trial_alerts": len(results),
            "received": messages,
            "missing": stream_sent + len(results) - messages,
            "seconds_until_received": cpu["wall_s"],
            "seconds_waited_after_stream": waited_after,
        },
        "server_cpu": cpu,
        "cpu_us_per_message": round(1e6 * cpu["cpu_s"] / messages, 1) if messages else None,
        "net_cpu_us_per_message": round(1e6 * net / messages, 1) if messages else None,
        "open_incidents_at_end": open_at_end,
        "latency": {**latency_stats(results), "latencies_ms": [None if r is None else round(r, 1) for r in results]},
    }


def ratio(first: float | None, last: float | None) -> float | None:
    return round(last / first, 3) if first and last else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    parser.add_argument("--stream-rate", type=float, default=100.0)
    # 2,000 messages a size (20 s) made each size's CPU about 1.1 s, a tenth of which moved
    # from run to run: the growth factor swung between 0.94 and 1.21 with the same code
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--preload-rate", type=float, default=2_000.0)
    parser.add_argument("--preload-timeout", type=float, default=300.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--cap", type=int, default=30_000, help="history.open_incidents_max for the run")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if max(args.sizes) + args.stream_rate * args.stream_seconds + 1_000 > args.cap:
        parser.error("--cap must leave room for the largest size plus the stream and the trials")
    result: dict[str, Any] = {
        "command": command_line("city_growth.py"),
        "machine": machine(),
        "page": PAGE,
        "method": (
            "fresh citywall per size; preload N new Alerts, wait until all are open; open "
            "/screen/4; CPU idle baseline; then a stream of new Alerts with latency trials "
            "running; server CPU (process tree) from the stream's start until all of it was "
            "received, per message received"
        ),
        "config_change": {"history.open_incidents_max": args.cap},
    }
    started = time.monotonic()
    sizes = []
    with broker_and_browser("citywall-growth-", args.keep) as (workdir, mqtt_port, browser):
        config = config_with(workdir, args.cap)
        for size in args.sizes:
            row = one_size(browser, workdir, mqtt_port, config, size, args)
            sizes.append(row)
            lat = row["latency"]
            print(
                f"{size:>6} open: {row['cpu_us_per_message']} CPU µs/msg (net {row['net_cpu_us_per_message']}), "
                f"p95 {lat['p95_ms']} ms, lost {lat['lost']}/{lat['trials']}, received {row['stream']['received']}/"
                f"{row['stream']['sent'] + row['stream']['trial_alerts']}",
                file=sys.stderr,
                flush=True,
            )
    result["sizes"] = sizes
    first, last = sizes[0], sizes[-1]
    result["growth"] = {
        "from": first["open_incidents_preloaded"],
        "to": last["open_incidents_preloaded"],
        "cpu_us_per_message": ratio(first["cpu_us_per_message"], last["cpu_us_per_message"]),
        "net_cpu_us_per_message": ratio(first["net_cpu_us_per_message"], last["net_cpu_us_per_message"]),
        "latency_p95": ratio(first["latency"]["p95_ms"], last["latency"]["p95_ms"]),
    }
    result["seconds"] = round(time.monotonic() - started)
    return finish(result, args.out, args.json, print_sizes)


def print_sizes(result: dict[str, Any]) -> None:
    print("| open incidents | CPU µs / msg | net of idle | idle CPU | p50 ms | p95 ms | lost | received / sent |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in result["sizes"]:
        lat, st = row["latency"], row["stream"]
        print(
            f"| {row['open_incidents_preloaded']:,} | {row['cpu_us_per_message']} | {row['net_cpu_us_per_message']} | "
            f"{row['idle_cpu_pct_of_one_core']} % | {lat['p50_ms']} | {lat['p95_ms']} | {lat['lost']}/{lat['trials']} | "
            f"{st['received']:,} / {st['sent'] + st['trial_alerts']:,} |"
        )
    g = result["growth"]
    print(
        f"\ngrowth {g['from']:,} -> {g['to']:,}: CPU per message x{g['cpu_us_per_message']} "
        f"(net x{g['net_cpu_us_per_message']}), p95 x{g['latency_p95']}"
    )


if __name__ == "__main__":
    sys.exit(main())

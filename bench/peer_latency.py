"""citywall against its peer, Node-RED Dashboard 2.0, in the same run: publish-to-visible latency and server CPU.

    python bench/peer_latency.py --trials 50 --out bench/results/peer-latency.json

Both products read the same Mosquitto and are shown by the same headless Chromium (Debian's),
each page in a browser context of its own. The method is ``bench/common.py``'s: an Alert with
a unique description (severity ``critical``) published with ``mosquitto_pub -q 1``; a
MutationObserver records when the text enters ``document.body.innerText``; latency from just
before the publish; 5 s without it is a lost trial.

For each citywall page and each load, in that order:

1. a fresh ``citywall demo --rate 0`` on the broker (a fresh memory store, so one series'
   backlog never weighs on the next), four seconds of the simulator to fill every panel,
   the page opened and given 3 s to settle;
2. the load started in a process of its own, waited for until citywall has received a
   second's worth of it, and given 3 s more: ``idle`` (none); ``alerts``
   (``bench/publish_alerts.py``: new Alerts, every one a new incident, at ``--rate``/s on the
   incidents topic, none of them critical); ``mix`` (``citywall simulate --rate RATE``, the
   simulator's mix over all the city's topics);
3. ``--trials`` trials per product, **alternating trial by trial** (citywall first in even
   rounds, Node-RED first in odd ones), 0.2 s apart. Both servers run, and both pages stay
   open, the whole time; each server's CPU (its whole process tree, psutil) is measured over
   the same window, as % of one core;
4. the load stopped; citywall's ``received`` counter (``/api/v1/feeds``) is compared with
   what was sent since the fresh start (the load's own count, plus both products' trials):
   ``missing`` > 0 means citywall had not taken everything 60 s after the load stopped.

citywall runs with ``history.open_incidents_max`` raised to ``--cap`` (100,000): at 500 new
Alerts/s the shipped cap (20,000) is full after 40 s, and past it citywall refuses every new
id by design, the trials' own Alerts too, which would count a refusal as a lost trial.
``ingest.open_incidents_at_end`` says how big the city had grown; ``--cap 0`` keeps the
shipped config (``ingest.rejected`` then shows the refusals).

Node-RED (``bench/nodered.py``) runs once for the whole run; its page is
``/dashboard/alerts``: a text widget with the latest Alert's description. Its flow subscribes
to the incidents topic only, so of the simulator's mix it receives only the incidents.

A product that loses ``--give-up-after`` trials in a row gets no more trials in that series;
the ones it did not get count as lost, and ``gave_up_after_trial`` says so. This keeps a run
bounded when a page stops showing anything.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import nodered  # noqa: E402
from bench.common import (  # noqa: E402
    LOST_AFTER_S,
    OBSERVER,
    READY,
    CpuMeter,
    Publisher,
    broker_and_browser,
    command_line,
    config_with,
    feed_counts,
    fill_city,
    finish,
    latency_stats,
    machine,
    open_incidents,
    received,
    start_citywall,
    stop_group,
    trial,
    wait_received,
)

PAGES = ["/screen/4", "/screen/13", "/screen/9", "/wall?scale=0.25"]
LOADS = ["idle", "alerts", "mix"]
ABOUT_PAGES = {
    "/screen/4": "incident queue",
    "/screen/13": "ticker",
    "/screen/9": "map window (one screen of the 2 x 2 map span: its most-severe list)",
    "/wall?scale=0.25": "the whole wall in one tab, at a quarter size",
}
WARMUP_S = 3.0
#: 500 new Alerts/s fill the shipped cap (20,000 open incidents) in 40 s, after which citywall
#: refuses every new id by design, the trials' Alerts included: the run raises it so that a
#: refusal is never counted as slowness (the series' open incidents at the end are reported)
CAP = 100_000
SETTLE_WAIT_S = 60.0


def open_citywall(browser: Browser, base: str, path: str) -> Page:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(base + path)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(3_000)
    page.evaluate(OBSERVER)
    page.set_default_timeout(LOST_AFTER_S * 1000)  # a page that cannot answer within the loss window has lost the trial
    return page


def open_nodered(browser: Browser, peer: nodered.NodeRed) -> Page:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(peer.url)
    page.wait_for_selector(f"text={nodered.LABEL}", timeout=60_000)
    page.wait_for_timeout(1_000)
    page.evaluate(OBSERVER)
    page.set_default_timeout(LOST_AFTER_S * 1000)
    return page


def alternate(
    pages: dict[str, Page], mqtt_port: int, trials: int, give_up_after: int
) -> tuple[dict[str, list[float | None]], dict[str, int | None], int]:
    """``trials`` per product, trial by trial, the order swapped every round; returns latencies,
    where each product was given up (or None) and how many trial Alerts were published."""
    results: dict[str, list[float | None]] = {name: [] for name in pages}
    gave_up: dict[str, int | None] = {name: None for name in pages}
    streak = {name: 0 for name in pages}
    published = 0
    names = list(pages)
    for i in range(trials):
        for name in names if i % 2 == 0 else names[::-1]:
            if gave_up[name] is not None:
                results[name].append(None)
                continue
            latency = trial(pages[name], mqtt_port)
            published += 1
            results[name].append(latency)
            streak[name] = streak[name] + 1 if latency is None else 0
            if give_up_after and streak[name] >= give_up_after:
                gave_up[name] = i + 1
            time.sleep(0.2)
    return results, gave_up, published


def series(
    browser: Browser,
    peer: nodered.NodeRed,
    peer_page: Page,
    peer_proc: psutil.Process,
    workdir: Path,
    mqtt_port: int,
    path: str,
    load: str,
    rate: float,
    trials: int,
    give_up_after: int,
    config: Path | None,
) -> dict[str, Any]:
    citywall, base = start_citywall(workdir, mqtt_port, config)
    publisher: Publisher | None = None
    try:
        fill_city(mqtt_port)
        page = open_citywall(browser, base, path)
        counts0 = feed_counts(base)
        if load != "idle":
            publisher = Publisher(load, mqtt_port, rate, prefix=f"{load}-{uuid.uuid4().hex[:6]}")
            # the load is on once citywall has had a second's worth of it (a publisher takes a while to start)
            wait_received(base, counts0.get("received", 0) + int(rate), 120)
        time.sleep(WARMUP_S)
        meters = {"citywall": CpuMeter(psutil.Process(citywall.pid)), "nodered": CpuMeter(peer_proc)}
        for meter in meters.values():
            meter.start()
        results, gave_up, published = alternate({"citywall": page, "nodered": peer_page}, mqtt_port, trials, give_up_after)
        cpu = {name: meter.stop() for name, meter in meters.items()}
        at_end = received(base)
        received_by_end = None if at_end is None else at_end - counts0.get("received", 0)
        running, publisher = publisher, None
        load_sent = running.stop() if running else 0
        sent = load_sent + published
        got, waited = wait_received(base, counts0.get("received", 0) + sent, SETTLE_WAIT_S)
        counts = feed_counts(base)
        open_at_end = open_incidents(base)
        page.context.close()
    finally:
        try:
            if publisher:
                publisher.stop()
        finally:
            stop_group(citywall)
    got -= counts0.get("received", 0)
    ingest = {
        "sent": sent,
        "received": got,
        "missing": sent - got,
        "received_by_end_of_trials": received_by_end,
        "seconds_waited_after_load": waited,
        "open_incidents_at_end": open_at_end,
        "rejected": {k: v - counts0.get(k, 0) for k, v in counts.items() if k.startswith("rejected")},
    }
    out: dict[str, Any] = {"page": path, "load": load, "rate": rate if load != "idle" else 0}
    for name in ("citywall", "nodered"):
        out[name] = {
            **latency_stats(results[name]),
            "gave_up_after_trial": gave_up[name],
            "server_cpu_pct_of_one_core": cpu[name]["cpu_pct_of_one_core"],
            "server_cpu": cpu[name],
            "latencies_ms": [None if r is None else round(r, 1) for r in results[name]],
        }
    out["citywall"]["ingest"] = ingest
    return out


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| page | load | citywall p50 / p95 / max ms | lost | Node-RED p50 / p95 / max ms | lost | "
        "citywall CPU | Node-RED CPU | citywall received / sent |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        c, n = run["citywall"], run["nodered"]
        load = run["load"] if run["load"] == "idle" else f"{run['rate']:g}/s {run['load']}"
        lines.append(
            f"| `{run['page']}` | {load} | {ms(c['p50_ms'])} / {ms(c['p95_ms'])} / {ms(c['max_ms'])} | "
            f"{c['lost']}/{c['trials']} | {ms(n['p50_ms'])} / {ms(n['p95_ms'])} / {ms(n['max_ms'])} | "
            f"{n['lost']}/{n['trials']} | {c['server_cpu_pct_of_one_core']} % | {n['server_cpu_pct_of_one_core']} % | "
            f"{c['ingest']['received']:,} / {c['ingest']['sent']:,} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50, help="trials per product, per page and load (50)")
    parser.add_argument("--rate", type=float, default=500, help="messages/s of the alerts and mix loads (500)")
    parser.add_argument("--pages", nargs="+", default=PAGES)
    parser.add_argument("--loads", nargs="+", default=LOADS, choices=LOADS)
    parser.add_argument(
        "--give-up-after", type=int, default=10, help="lost trials in a row before a product's series stops (0: never)"
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=CAP,
        help=f"citywall's history.open_incidents_max for the run ({CAP:,}; 0: the shipped config's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs of citywall, Node-RED)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {"command": command_line("peer_latency.py"), "machine": machine()}
    runtime = nodered.install()
    result["peer"] = {
        "product": "Node-RED + FlowFuse Dashboard 2.0",
        "versions": runtime["versions"],
        "page": nodered.PAGE,
        "flow": "mqtt in (incidents topic, QoS 1, JSON) -> ui-text (latest description)",
    }
    result["method"] = (
        "mosquitto_pub -q 1 of a critical Alert with a unique description; MutationObserver time when the text "
        "is in document.body.innerText, minus the time just before mosquitto_pub started; lost after 5 s. "
        "citywall and Node-RED alternate trial by trial, the order swapped every round; a fresh citywall "
        "per page and load; server CPU of each product's process tree over the same window"
    )
    result["pages"] = {p: ABOUT_PAGES.get(p, "") for p in args.pages}
    result["config_change"] = {"history.open_incidents_max": args.cap} if args.cap else None
    started = time.monotonic()
    runs = []
    with broker_and_browser("citywall-peer-", args.keep) as (workdir, mqtt_port, browser):
        config = config_with(workdir, args.cap) if args.cap else None
        peer = nodered.NodeRed(runtime, workdir, mqtt_port)
        try:
            peer_page = open_nodered(browser, peer)
            for path in args.pages:
                for load in args.loads:
                    run = series(
                        browser,
                        peer,
                        peer_page,
                        psutil.Process(peer.proc.pid),
                        workdir,
                        mqtt_port,
                        path,
                        load,
                        args.rate,
                        args.trials,
                        args.give_up_after,
                        config,
                    )
                    runs.append(run)
                    c, n = run["citywall"], run["nodered"]
                    print(
                        f"{path:<18} {load:<6} citywall p50 {ms(c['p50_ms'])} p95 {ms(c['p95_ms'])} "
                        f"lost {c['lost']}/{c['trials']} "
                        f"CPU {c['server_cpu_pct_of_one_core']}% | Node-RED p50 {ms(n['p50_ms'])} p95 {ms(n['p95_ms'])} "
                        f"lost {n['lost']}/{n['trials']} CPU {n['server_cpu_pct_of_one_core']}% | received "
                        f"{c['ingest']['received']}/{c['ingest']['sent']}",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            peer.stop()
    result["runs"] = runs
    result["seconds"] = round(time.monotonic() - started)
    return finish(result, args.out, args.json, lambda done: print(table(done["runs"])))


if __name__ == "__main__":
    sys.exit(main())

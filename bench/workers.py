"""Web workers on a shared Redis store: per-worker CPU and latency for 1, 2 and 4 workers.

    python bench/workers.py --workers 1 2 4 --pages 24 --trials 40 --rate 500 --out bench/results/workers.json

For each worker count, on fresh processes: a private Mosquitto and Redis (no persistence),
one ``citywall ingest`` writing the city into Redis, and ``citywall serve --workers N`` on one
port reading it, with the simulator's mix at ``--rate`` msg/s (``citywall simulate``, a
process of its own). ``--pages`` ``/screen/N`` pages (24: the whole wall) are opened in one
headless Chromium, each in a browser context of its own (its own connections, as 24 kiosk
PCs); the kernel spreads their connections over the workers, as it does in production.

Which worker serves which page is read from the workers' own sockets: each page is opened
alone, the connections that appear on each worker's listening port are that page's, and once
the pages are idle (uvicorn closes idle HTTP keep-alive after 5 s) the one left open is its
websocket, on the worker that pushes to it. A page whose connections cannot be told apart is
reported as unattributed.

Each trial publishes a critical Alert with a unique description (``mosquitto_pub -q 1``) and
every page that shows new Alerts (found by a first, unmeasured trial) records when the text
appears (a MutationObserver, as in ``bench/common.py``). Reported per worker: its pages, the
latency on its pages (every page-trial pooled: p50, p95, max, lost) and its CPU time over the
trials as % of one core; and for the run, the latency until the last page shows the Alert,
the CPU of ingest, of Redis and of all workers, and whether ingest kept up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    CHROMIUM_ARGS,
    CITYWALL,
    LOST_AFTER_S,
    OBSERVER,
    ROOT,
    Publisher,
    chromium,
    command_line,
    feed_counts,
    finish,
    free_port,
    latency_stats,
    machine,
    start_mosquitto,
    stop_group,
    wait_http,
    wait_received,
)
from bench.wall_load import READY, watch  # noqa: E402

CALIBRATION_S = 30.0
#: uvicorn closes an idle HTTP keep-alive connection after 5 s; past that only websockets stay.
IDLE_S = 7.0


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run([cli, "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            return proc, port
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **env}
        )


def worker_pids(serve: subprocess.Popen[bytes]) -> list[int]:
    """uvicorn's workers: the children of ``serve`` started by multiprocessing spawn."""
    out = []
    for child in psutil.Process(serve.pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            cmdline = " ".join(child.cmdline())
            if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
                out.append(child.pid)
    return sorted(out)


def wait_workers(serve: subprocess.Popen[bytes], count: int, timeout: float = 120) -> list[int]:
    """The processes serving pages: with one worker, ``serve`` itself (no supervisor)."""
    if count == 1:
        return [serve.pid]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(serve)
        if len(pids) == count:
            return pids
        time.sleep(0.2)
    raise RuntimeError(f"serve did not start {count} workers")


def connections(pids: list[int], port: int) -> set[tuple[int, int]]:
    """(worker pid, client port) of every established connection on the web port."""
    out = set()
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            listed = proc.net_connections if hasattr(proc, "net_connections") else proc.connections  # psutil < 6
            for conn in listed(kind="tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port and conn.raddr:
                    out.add((pid, conn.raddr.port))
    return out


def cpu_seconds(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system


def open_pages(
    browser: Browser, base: str, count: int, pids: list[int], port: int
) -> tuple[dict[str, Page], dict[str, int | None]]:
    """Open ``/screen/1..count`` one at a time and find the worker holding each page's websocket."""
    pages: dict[str, Page] = {}
    new: dict[str, set[tuple[int, int]]] = {}
    for n in range(1, count + 1):
        before = connections(pids, port)
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{base}/screen/{n}")
        page.wait_for_selector(READY, timeout=120_000)
        time.sleep(1.0)  # the push connects once the layout is in
        name = f"/screen/{n}"
        pages[name], new[name] = page, connections(pids, port) - before
    time.sleep(IDLE_S)
    alive = connections(pids, port)
    owner: dict[str, int | None] = {}
    for name, conns in new.items():
        holders = {pid for pid, client in conns if (pid, client) in alive}
        owner[name] = holders.pop() if len(holders) == 1 else None
    return pages, owner


def run_workers(browser: Browser, workdir: Path, workers: int, pages_n: int, trials: int, rate: float) -> dict[str, Any]:
    run_dir = workdir / f"workers-{workers}"
    run_dir.mkdir()
    mosquitto, mqtt_port = start_mosquitto(run_dir)
    redis_proc, redis_port = start_redis(run_dir)
    web_port = free_port()
    env = {
        "CITYWALL_STORE_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CITYWALL_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
        "CITYWALL_AUTH_ANONYMOUS_READ": "true",
    }
    config = str(ROOT / "config.yaml")
    ingest = spawn([*CITYWALL, "ingest", "--config", config], run_dir / "ingest.log", env)
    serve = spawn(
        [*CITYWALL, "serve", "--config", config, "--workers", str(workers), "--port", str(web_port)], run_dir / "serve.log", env
    )
    base = f"http://127.0.0.1:{web_port}"
    publisher: Publisher | None = None
    opened: dict[str, Page] = {}
    try:
        wait_http(f"{base}/healthz", timeout=120)
        pids = wait_workers(serve, workers)
        subprocess.run(
            [*CITYWALL, "simulate", "--to", "mqtt", "--url", env["CITYWALL_MQTT_URL"], "--rate", "200", "--duration", "4"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
        opened, owner = open_pages(browser, base, pages_n, pids, web_port)
        for page in opened.values():
            page.evaluate(OBSERVER)
            page.set_default_timeout(LOST_AFTER_S * 1000)
        calibration = watch(opened, mqtt_port, CALIBRATION_S)
        showing = [name for name, v in calibration.items() if v is not None]
        watched = {name: opened[name] for name in showing} or opened
        counts0 = feed_counts(base)
        if rate > 0:
            publisher = Publisher("mix", mqtt_port, rate)
            wait_received(base, counts0.get("received", 0) + int(rate), 120)
        time.sleep(3)
        meter_pids = {"ingest": ingest.pid, "redis": redis_proc.pid, **{f"worker {pid}": pid for pid in pids}}
        if workers > 1:
            meter_pids["supervisor"] = serve.pid
        cpu0, t0 = {k: cpu_seconds(p) for k, p in meter_pids.items()}, time.monotonic()
        per_trial = []
        for _ in range(trials):
            per_trial.append(watch(watched, mqtt_port))
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        cpu = {k: round(100 * (cpu_seconds(p) - cpu0[k]) / elapsed, 1) for k, p in meter_pids.items()}
        workers_now = wait_workers(serve, workers)
        running, publisher = publisher, None
        sent = (running.stop() if running else 0) + trials
        got, waited = wait_received(base, counts0.get("received", 0) + sent, 60)
    finally:
        for page in opened.values():
            with contextlib.suppress(Exception):
                page.context.close()
        try:
            if publisher:
                publisher.stop()
        finally:
            for proc in (serve, ingest):
                stop_group(proc)
            for proc in (redis_proc, mosquitto):
                proc.terminate()
                proc.wait(10)
    got -= counts0.get("received", 0)
    everywhere = [None if any(v is None for v in t.values()) else max(v for v in t.values() if v is not None) for t in per_trial]
    per_worker = []
    for pid in pids:
        mine = [name for name in watched if owner.get(name) == pid]
        samples = [t[name] for t in per_trial for name in mine]
        per_worker.append(
            {
                "pid": pid,
                "pages": sorted(n for n, o in owner.items() if o == pid),
                "pages_showing_alerts": mine,
                "latency": latency_stats(samples),
                "cpu_pct_of_one_core": cpu[f"worker {pid}"],
            }
        )
    return {
        "workers": workers,
        "rate": rate,
        "pages_open": len(opened),
        "pages_showing_a_new_alert": showing,
        "unattributed_pages": sorted(name for name, o in owner.items() if o is None),
        "workers_restarted_during_trials": workers_now != pids,
        "all": latency_stats(everywhere),
        "per_worker": per_worker,
        "cpu_pct_of_one_core": {
            "workers_total": round(sum(w["cpu_pct_of_one_core"] for w in per_worker), 1),
            "ingest": cpu["ingest"],
            "redis": cpu["redis"],
            "supervisor": cpu.get("supervisor", 0.0),
        },
        "trial_window_s": round(elapsed, 1),
        "ingest": {"sent": sent, "received": got, "missing": sent - got, "seconds_waited_after_load": waited},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--pages", type=int, default=24, help="/screen/1..N pages, spread over the workers")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--rate", type=float, default=500.0, help="msg/s of the simulator's mix (0: idle)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "command": command_line("workers.py"),
        "machine": machine(),
        "method": (
            "citywall ingest -> Redis <- citywall serve --workers N; /screen/1..P pages, each in its own browser "
            "context, attributed to the worker holding their websocket; critical Alert with a unique description "
            "via mosquitto_pub -q 1, MutationObserver on document.body.innerText; lost after 5 s; per-worker CPU "
            "from the worker process over the trials; simulator mix as load"
        ),
    }
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="citywall-workers-"))
    runs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            for workers in args.workers:
                run = run_workers(browser, workdir, workers, args.pages, args.trials, args.rate)
                runs.append(run)
                a = run["all"]
                print(
                    f"{workers} worker(s): p95 {a['p95_ms']} lost {a['lost']}/{a['trials']} "
                    f"workers CPU {run['cpu_pct_of_one_core']['workers_total']}%",
                    file=sys.stderr,
                    flush=True,
                )
            browser.close()
    except PlaywrightTimeout as exc:
        print(f"a page did not load: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs in {workdir}", file=sys.stderr)
    result["runs"] = runs
    result["seconds"] = round(time.monotonic() - started)
    return finish(result, args.out, args.json, print_workers)


def print_workers(result: dict[str, Any]) -> None:
    runs = result["runs"]
    print("| workers | worker | pages | showing Alerts | p50 ms | p95 ms | max ms | lost | CPU % of one core |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        for w in run["per_worker"]:
            lat = w["latency"]
            print(
                f"| {run['workers']} | pid {w['pid']} | {len(w['pages'])} | {len(w['pages_showing_alerts'])} | "
                f"{lat['p50_ms']} | {lat['p95_ms']} | {lat['max_ms']} | {lat['lost']}/{lat['trials']} | "
                f"{w['cpu_pct_of_one_core']} |"
            )
        a, c = run["all"], run["cpu_pct_of_one_core"]
        print(
            f"| {run['workers']} | all (last page) | {run['pages_open']} | {len(run['pages_showing_a_new_alert'])} | "
            f"{a['p50_ms']} | {a['p95_ms']} | {a['max_ms']} | {a['lost']}/{a['trials']} | {c['workers_total']} |"
        )
    for run in runs:
        c, i = run["cpu_pct_of_one_core"], run["ingest"]
        print(
            f"\n{run['workers']} worker(s): ingest {c['ingest']} %, redis {c['redis']} %, supervisor {c['supervisor']} % "
            f"of one core; received {i['received']:,} / {i['sent']:,}; unattributed pages: "
            f"{', '.join(run['unattributed_pages']) or 'none'}"
        )


if __name__ == "__main__":
    sys.exit(main())

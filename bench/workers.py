"""Web workers on a shared Redis store: per-worker CPU and latency for 1, 2 and 4 workers.

    python bench/workers.py --workers 1 2 4 --pages 24 --trials 40 --rate 500 --out bench/results/workers.json

For each worker count, on fresh processes: a private Mosquitto and Redis (no persistence),
one ``citywall ingest`` writing the city into Redis, and ``citywall serve --workers N`` on one
port reading it, with the simulator's mix at ``--rate`` msg/s (``citywall simulate``, a
process of its own).

The ``--pages`` pages (``/screen/1..N``; 24 is the whole wall) are push clients
(``bench/push_clients.py``), one websocket each, as 24 kiosk PCs would hold; the kernel spreads
them over the workers as it does in production. Each claims the parts its page holds, read
from that page once in a real Chromium. Why not keep 24 Chromium pages open: drawing them
takes more than this machine's two cores, and the benchmark would measure Chromium. The
time a browser takes to draw a frame is measured in ``bench/wall_load.py`` and
``bench/peer_latency.py``; here it is left out on purpose. Which worker serves a page is read
from the workers' own sockets (the client's port on each worker's established connections).

Each trial publishes a critical Alert with a unique description (``mosquitto_pub -q 1``); each
page that shows new Alerts (found by a first, unmeasured trial) records when a frame carrying
the text arrived. Reported per worker: its pages, the latency on its pages (every page-trial
pooled: p50, p95, max, lost), the frames it pushed a second and its CPU time over the trials
as % of one core; and for the run, the latency until the last page had the Alert, the CPU of
ingest, Redis, all workers and the clients themselves, and whether ingest kept up.
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
import uuid
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    CHROMIUM_ARGS,
    CITYWALL,
    LOST_AFTER_S,
    ROOT,
    Publisher,
    chromium,
    command_line,
    feed_counts,
    finish,
    free_port,
    latency_stats,
    machine,
    publish_trial,
    start_mosquitto,
    stop_group,
    wait_http,
    wait_received,
)
from bench.push_clients import PushClients  # noqa: E402
from bench.wall_load import READY  # noqa: E402

CALIBRATION_S = 30.0


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


def owners(pids: list[int], port: int) -> dict[int, int]:
    """Client port -> worker pid, for every established connection on the web port."""
    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            listed = proc.net_connections if hasattr(proc, "net_connections") else proc.connections  # psutil < 6
            for conn in listed(kind="tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port and conn.raddr:
                    out[conn.raddr.port] = pid
    return out


def cpu_seconds(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system


def read_parts(base: str, count: int) -> dict[str, str]:
    """The ``data-cw-parts`` of ``/screen/1..count``, each page opened once in a real Chromium."""
    parts = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        for n in range(1, count + 1):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.goto(f"{base}/screen/{n}")
            page.wait_for_selector(READY, timeout=120_000)
            parts[f"/screen/{n}"] = page.get_attribute("[data-cw-parts]", "data-cw-parts") or "[]"
            context.close()
        browser.close()
    return parts


def watch(clients: PushClients, names: list[str], mqtt_port: int, timeout: float = LOST_AFTER_S) -> dict[str, float | None]:
    """One trial: ms from just before the publish until each client received the text (None: lost)."""
    needle = f"Uji latensi {uuid.uuid4().hex[:10]}"
    clients.arm(needle)
    deadline = time.monotonic() + timeout
    before_ms = publish_trial(mqtt_port, needle)
    while time.monotonic() < deadline and any(clients.seen()[n] is None for n in names):
        time.sleep(0.005)
    out: dict[str, float | None] = {}
    for name, at in clients.seen().items():
        if name in names:
            out[name] = None if at is None or at - before_ms > timeout * 1000 else at - before_ms
    return out


def run_workers(workdir: Path, workers: int, pages_n: int, trials: int, rate: float) -> dict[str, Any]:
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
    clients: PushClients | None = None
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
        clients = PushClients(base, read_parts(base, pages_n))
        clients.start()
        by_port = owners(pids, web_port)
        owner = {c.name: by_port.get(c.local_port or -1) for c in clients.clients.values()}
        calibration = watch(clients, list(clients.clients), mqtt_port, CALIBRATION_S)
        showing = [name for name, v in calibration.items() if v is not None]
        counts0 = feed_counts(base)
        if rate > 0:
            publisher = Publisher("mix", mqtt_port, rate)
            wait_received(base, counts0.get("received", 0) + int(rate), 120)
        time.sleep(3)
        meter_pids = {
            "ingest": ingest.pid,
            "redis": redis_proc.pid,
            "bench clients": os.getpid(),
            **{f"worker {pid}": pid for pid in pids},
        }
        if workers > 1:
            meter_pids["supervisor"] = serve.pid
        frames0 = {n: c.frames for n, c in clients.clients.items()}
        cpu0, t0 = {k: cpu_seconds(p) for k, p in meter_pids.items()}, time.monotonic()
        per_trial = []
        for _ in range(trials):
            per_trial.append(watch(clients, showing, mqtt_port))
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        cpu = {k: round(100 * (cpu_seconds(p) - cpu0[k]) / elapsed, 1) for k, p in meter_pids.items()}
        frames = {n: c.frames - frames0[n] for n, c in clients.clients.items()}
        dropped = sorted(n for n, c in clients.clients.items() if c.closed)
        workers_now = wait_workers(serve, workers)
        running, publisher = publisher, None
        sent = (running.stop() if running else 0) + trials
        got, waited = wait_received(base, counts0.get("received", 0) + sent, 60)
    finally:
        if clients:
            clients.stop()
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
    per_worker: list[dict[str, Any]] = []
    for pid in pids:
        mine = sorted(n for n, o in owner.items() if o == pid)
        samples = [t[name] for t in per_trial for name in mine if name in t]
        per_worker.append(
            {
                "pid": pid,
                "pages": mine,
                "pages_showing_alerts": [n for n in mine if n in showing],
                "latency": latency_stats(samples),
                "cpu_pct_of_one_core": cpu[f"worker {pid}"],
                "frames_per_s": round(sum(frames[n] for n in mine) / elapsed, 1),
            }
        )
    return {
        "workers": workers,
        "rate": rate,
        "pages_open": len(owner),
        "pages_showing_a_new_alert": showing,
        "unattributed_pages": sorted(name for name, o in owner.items() if o is None),
        "pages_whose_push_closed": dropped,
        "workers_restarted_during_trials": workers_now != pids,
        "all": latency_stats(everywhere),
        "per_worker": per_worker,
        "cpu_pct_of_one_core": {
            "workers_total": round(sum(w["cpu_pct_of_one_core"] for w in per_worker), 1),
            "ingest": cpu["ingest"],
            "redis": cpu["redis"],
            "supervisor": cpu.get("supervisor", 0.0),
            "bench_clients": cpu["bench clients"],
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
            "citywall ingest -> Redis <- citywall serve --workers N; /screen/1..P as push clients (bench/push_clients.py: "
            "each claims its page's data-cw-parts, read once in Chromium, and answers every frame at once), attributed "
            "to the worker holding their websocket; critical Alert with a unique description via mosquitto_pub -q 1; "
            "shown when a frame carrying the text arrived; lost after 5 s; per-worker CPU from the worker process over "
            "the trials; simulator mix as load; browser drawing not included"
        ),
    }
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="citywall-workers-"))
    runs = []
    try:
        for workers in args.workers:
            run = run_workers(workdir, workers, args.pages, args.trials, args.rate)
            runs.append(run)
            a = run["all"]
            print(
                f"{workers} worker(s): p95 {a['p95_ms']} lost {a['lost']}/{a['trials']} "
                f"workers CPU {run['cpu_pct_of_one_core']['workers_total']}%",
                file=sys.stderr,
                flush=True,
            )
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
    print("| workers | worker | pages | showing Alerts | p50 ms | p95 ms | max ms | lost | frames/s | CPU % of one core |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        for w in run["per_worker"]:
            lat = w["latency"]
            print(
                f"| {run['workers']} | pid {w['pid']} | {len(w['pages'])} | {len(w['pages_showing_alerts'])} | "
                f"{lat['p50_ms']} | {lat['p95_ms']} | {lat['max_ms']} | {lat['lost']}/{lat['trials']} | "
                f"{w['frames_per_s']} | {w['cpu_pct_of_one_core']} |"
            )
        a, c = run["all"], run["cpu_pct_of_one_core"]
        print(
            f"| {run['workers']} | all (last page) | {run['pages_open']} | {len(run['pages_showing_a_new_alert'])} | "
            f"{a['p50_ms']} | {a['p95_ms']} | {a['max_ms']} | {a['lost']}/{a['trials']} | "
            f"{sum(w['frames_per_s'] for w in run['per_worker']):.1f} | {c['workers_total']} |"
        )
    for run in runs:
        c, i = run["cpu_pct_of_one_core"], run["ingest"]
        print(
            f"\n{run['workers']} worker(s): ingest {c['ingest']} %, redis {c['redis']} %, supervisor {c['supervisor']} %, "
            f"the push clients {c['bench_clients']} % of one core; received {i['received']:,} / {i['sent']:,}; "
            f"unattributed pages: {', '.join(run['unattributed_pages']) or 'none'}; "
            f"pushes closed: {', '.join(run['pages_whose_push_closed']) or 'none'}"
        )


if __name__ == "__main__":
    sys.exit(main())

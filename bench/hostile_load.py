"""Hostile load on one citywall process, with its RSS, CPU and /healthz p95 while it lasts.

    python bench/hostile_load.py [ws|flood|stations|pdf|all] [--seconds 20] [--out DIR]

Each scenario starts a private mosquitto and ``citywall demo`` (ingest + web in one process,
memory store, the simulator at 20 msg/s) on free loopback ports, samples the server process
(psutil) and ``GET /healthz`` every 100 ms while the load runs, and prints its figures and
the command line; ``--out`` writes ``hostile-<scenario>.json`` there.

Scenarios (issue #13):

* ``ws``: 1,000 websocket clients that claim to be whole-wall pages on the push route
  (``/_citywall/push``): each claims every live part of the wall five times and answers
  every frame at once. They connect from 127.0.0.2-127.0.0.22 (loopback addresses), 48 per
  address, so the per-client limit admits them and the total limit (200 pushing pages by
  default) is what bounds them; a refused page still works through its poll.
* ``flood``: messages of the maximum accepted size (``feeds.max_payload_bytes``), one in ten
  just over it, published as fast as mosquitto takes them (QoS 1).
* ``stations``: 10,000 WaterObserved messages, each with a new station id.
* ``pdf``: 20 concurrent ``GET /api/v1/summary.pdf``.

Needs mosquitto, Chromium (for the PDF) and the ``websockets`` client (uvicorn[standard] brings it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.local_services import HOST, Mosquitto, free_port  # noqa: E402


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def mosquitto(workdir: Path) -> Iterator[int]:
    """A broker of our own with no queue, in-flight or message size limit: the flood must reach citywall."""
    server = Mosquitto(workdir, persistent=False, max_queued=1_000_000, extra=["message_size_limit 0"])
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


@contextmanager
def citywall(mqtt_port: int, workdir: Path) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    log = open(workdir / "citywall.log", "wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.cli",
            "demo",
            "--mqtt-url",
            f"mqtt://{HOST}:{mqtt_port}",
            "--port",
            str(port),
            "--rate",
            "20",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        # the worst case: anyone may read, so hostile pages pass the login
        env={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_http(base + "/healthz")
        with urllib.request.urlopen(base + "/_dash-layout", timeout=10) as r:
            r.read()
        yield base, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Sampler:
    """/healthz every 100 ms and the server's RSS and CPU every 0.5 s, on threads."""

    def __init__(self, base: str, process: psutil.Process) -> None:
        self.base, self.process = base, process
        self.healthz_ms: list[float] = []
        self.healthz_failures = 0
        self.rss: list[int] = []
        self.cpu: list[float] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._health, daemon=True), threading.Thread(target=self._proc, daemon=True)]

    def __enter__(self) -> Sampler:
        self.process.cpu_percent(None)
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)

    def _health(self) -> None:
        while not self._stop.wait(0.1):
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=10) as r:
                    r.read()
            except urllib.error.HTTPError:
                pass  # an answer (503 while the store is away) is still an answer
            except (urllib.error.URLError, OSError):
                self.healthz_failures += 1
                continue
            self.healthz_ms.append((time.perf_counter() - start) * 1000)

    def _proc(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.rss.append(self.process.memory_info().rss)
                self.cpu.append(self.process.cpu_percent(None))
            except psutil.Error:
                return

    def figures(self) -> dict[str, Any]:
        ms = sorted(self.healthz_ms)
        p = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 1) if ms else None  # noqa: E731
        return {
            "healthz_n": len(ms),
            "healthz_failures": self.healthz_failures,
            "healthz_p50_ms": p(0.5),
            "healthz_p95_ms": p(0.95),
            "healthz_max_ms": round(ms[-1], 1) if ms else None,
            "rss_start_mb": round(self.rss[0] / 2**20, 1) if self.rss else None,
            "rss_max_mb": round(max(self.rss) / 2**20, 1) if self.rss else None,
            "rss_end_mb": round(self.rss[-1] / 2**20, 1) if self.rss else None,
            "cpu_mean_pct": round(statistics.fmean(self.cpu), 1) if self.cpu else None,
            "cpu_max_pct": round(max(self.cpu), 1) if self.cpu else None,
        }


# --- ws -----------------------------------------------------------------------------------------
def wall_parts() -> list[list[str]]:
    """Every live part of the wall: what each hostile client claims to hold."""
    from dashboard.app import create_app
    from dashboard.config import load_config
    from dashboard.store.memory import MemoryStore
    from layouts.live import part_pages

    app = create_app(load_config(), MemoryStore())
    return sorted([list(p) for p in part_pages(app.server.state.live_parts, app.server.state.pages)])


async def hostile_clients(base: str, parts: list[list[str]], clients: int, seconds: float) -> dict[str, Any]:
    """Clients that claim the whole wall on the push route, five times over, and answer every
    frame at once: the most a page can ask of the server."""
    import websockets

    url = base.replace("http://", "ws://") + "/_citywall/push"
    stats: dict[str, Any] = {"opened": 0, "refused": 0, "frames_in": 0, "bytes_in": 0}
    started = time.monotonic()
    claim = json.dumps({"parts": parts})

    async def one(n: int) -> None:
        local = f"127.0.0.{2 + n // 48}"
        try:
            ws = await websockets.connect(url, origin=base, local_addr=(local, 0), open_timeout=30, max_size=2**24)
        except Exception:  # refused by a limit, or the server too busy to accept in time
            stats["refused"] += 1
            return
        stats["opened"] += 1
        stats["all_open_after_s"] = round(time.monotonic() - started, 1)
        deadline = time.monotonic() + seconds  # each client stays ``seconds`` once it is in
        try:
            for _ in range(5):  # claim five times: each claim must cost one full frame, not a new loop
                await ws.send(claim)
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                stats["bytes_in"] += len(raw)
                stats["frames_in"] += 1
                await ws.send(json.dumps({"ack": json.loads(raw).get("v")}))
        except Exception as exc:  # the server closed it: counted, the others go on
            stats["errors"] = stats.get("errors", 0) + 1
            stats["last_error"] = type(exc).__name__
        finally:
            await ws.close()

    await asyncio.gather(*(one(n) for n in range(clients)))
    return stats


def _clients_process(base: str, parts: list[list[str]], clients: int, seconds: float, out: Any) -> None:
    out.put(asyncio.run(hostile_clients(base, parts, clients, seconds)))


def scenario_ws(base: str, process: psutil.Process, seconds: float) -> dict[str, Any]:
    """The clients run in a process of their own, so their work does not slow the sampler."""
    import multiprocessing

    parts = wall_parts()
    queue: Any = multiprocessing.Queue()
    clients = multiprocessing.Process(target=_clients_process, args=(base, parts, 1_000, seconds, queue))
    with Sampler(base, process) as sampler:
        clients.start()
        stats = queue.get(timeout=seconds + 300)
        clients.join(30)
    return {"clients": 1_000, "claimed_parts": len(parts), **stats, **sampler.figures()}


# --- floods ------------------------------------------------------------------------------------
def publish(port: int, payloads: Iterator[bytes], topic: str) -> tuple[int, float]:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(HOST, port)
    client.loop_start()
    start = time.perf_counter()
    infos = []
    n = 0
    for payload in payloads:
        infos.append(client.publish(topic, payload, qos=1))
        n += 1
    for info in infos:
        info.wait_for_publish(120)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return n, elapsed


def feed_counts(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + "/api/v1/feeds", timeout=30) as r:
        return json.loads(r.read())["feeds"].get("mqtt", {}).get("counts", {})


def settle(base: str, received_at_least: int, timeout: float = 180.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    counts = feed_counts(base)
    while counts.get("received", 0) < received_at_least and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = feed_counts(base)
    return counts


def big_alerts(count: int, limit: int) -> Iterator[bytes]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for n in range(count):
        over = n % 10 == 9
        doc = {
            "id": f"urn:ngsi-ld:Alert:flood-{n}",
            "type": "Alert",
            "category": "flood",
            "dateIssued": now,
            "severity": "high",
            "description": "",
        }
        room = limit - len(json.dumps(doc).encode()) + (64 if over else -8)
        doc["description"] = "x" * room
        yield json.dumps(doc).encode()


def scenario_flood(base: str, process: psutil.Process, port: int, seconds: float) -> dict[str, Any]:
    from dashboard.config import load_config

    limit = load_config().feeds.max_payload_bytes
    count = 3_000
    before = feed_counts(base).get("received", 0)
    with Sampler(base, process) as sampler:
        sent, elapsed = publish(port, big_alerts(count, limit), "pekanbaru/flood")
        counts = settle(base, before + sent)
    return {
        "messages": sent,
        "bytes_each": limit,
        "publish_s": round(elapsed, 1),
        "received": counts.get("received", 0) - before,
        "rejected_too_large": counts.get("rejected.too_large", 0),
        **sampler.figures(),
    }


def new_stations(count: int) -> Iterator[bytes]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = random.Random(7)
    for n in range(count):
        yield json.dumps(
            {
                "id": f"urn:ngsi-ld:WaterObserved:new-{n}",
                "type": "WaterObserved",
                "dateObserved": now,
                "waterLevel": round(rng.uniform(0.2, 2.8), 2),
                "location": {"type": "Point", "coordinates": [101.45, 0.51]},
            }
        ).encode()


def scenario_stations(base: str, process: psutil.Process, port: int, seconds: float) -> dict[str, Any]:
    count = 10_000
    before = feed_counts(base).get("received", 0)
    with Sampler(base, process) as sampler:
        sent, elapsed = publish(port, new_stations(count), "pekanbaru/water")
        counts = settle(base, before + sent)
    with urllib.request.urlopen(base + "/api/v1/state", timeout=60) as r:
        state = r.read()
    picture = json.loads(state)
    return {
        "messages": sent,
        "publish_s": round(elapsed, 1),
        "rejected_too_many_entities": counts.get("rejected.too_many_entities", 0),
        "stations_in_picture": len(picture.get("drainage", {}).get("stations", [])),
        "state_bytes": len(state),
        **sampler.figures(),
    }


def scenario_pdf(base: str, process: psutil.Process, seconds: float) -> dict[str, Any]:
    def ask(_: int) -> tuple[int, float]:
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(base + "/api/v1/summary.pdf", timeout=180) as r:
                r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return status, time.perf_counter() - start

    with Sampler(base, process) as sampler, ThreadPoolExecutor(20) as pool:
        results = list(pool.map(ask, range(20)))
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": 20,
        "statuses": statuses,
        "slowest_s": round(max(t for _, t in results), 2),
        "fastest_s": round(min(t for _, t in results), 3),
        **sampler.figures(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", default="all", choices=["ws", "flood", "stations", "pdf", "all"])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the ws clients stay (default 20)")
    parser.add_argument("--out", default=None, help="directory for hostile-<scenario>.json")
    args = parser.parse_args()
    chosen = ["ws", "flood", "stations", "pdf"] if args.scenario == "all" else [args.scenario]
    command = " ".join(["python", "bench/hostile_load.py", *sys.argv[1:]])
    for name in chosen:
        with (
            tempfile.TemporaryDirectory(prefix="citywall-hostile-") as tmp,
            mosquitto(Path(tmp)) as port,
            citywall(port, Path(tmp)) as (base, process),
        ):
            time.sleep(3)  # the simulator's first messages: a city, not an empty store
            load_before = os.getloadavg()
            if name == "ws":
                figures = scenario_ws(base, process, args.seconds)
            elif name == "flood":
                figures = scenario_flood(base, process, port, args.seconds)
            elif name == "stations":
                figures = scenario_stations(base, process, port, args.seconds)
            else:
                figures = scenario_pdf(base, process, args.seconds)
            result = {
                "scenario": name,
                "command": command,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_avg_at_start": [round(x, 2) for x in load_before],
                    "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
                },
                **figures,
            }
        print(json.dumps(result, indent=2), flush=True)
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"hostile-{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

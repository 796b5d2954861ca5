"""What the latency benchmarks share: the broker, the server under test, the trial, the figures.

One method everywhere, so the numbers of ``latency.py``, ``peer_latency.py``,
``city_growth.py`` and ``wall_load.py`` compare: an Alert with a unique description is
published with ``mosquitto_pub -q 1``; a MutationObserver in the page records ``Date.now()``
when that text enters ``document.body.innerText``; the latency is that time minus the time
just before ``mosquitto_pub`` was started. A trial not seen within 5 s is lost.

The server under test is whatever ``citywall`` is installed in this interpreter's
environment, started through its command line (``python -m dashboard.cli demo``), so the
benchmarks measure the code as it is today, whatever it is.

Every benchmark here, these and the ingest and store ones (``bench/measure.py``), ends the
same way: ``finish`` stamps the end of the run into the result, keeps the JSON when ``--out``
names a file, and prints either the JSON or the figures followed by the machine, the load and
the command that reproduces them. Heavy modules (Playwright, psutil) are imported where they
are used, so the ingest and store benchmarks can import this module without them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard.local_services import CHROMIUM_ARGS as _CHROMIUM_FLAGS
from dashboard.local_services import chromium_binary, free_port

if TYPE_CHECKING:
    import psutil
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parent.parent
CITYWALL = [sys.executable, "-m", "dashboard.cli"]
INCIDENT_TOPIC = "pekanbaru/incidents"
LOST_AFTER_S = 5.0
#: The same flags as the tests' browsers (``dashboard.local_services``), as a list for Playwright.
CHROMIUM_ARGS = list(_CHROMIUM_FLAGS)
#: A page is drawn once a panel shows something: a part with content in a panel's body (a part
#: may be empty while it has nothing to show, as the ticker's held lines mostly are).
READY = "[data-panel] .cw-panel-body > :not(:empty)"
OBSERVER = """() => {
    window.__needle = null; window.__seenAt = null;
    new MutationObserver(() => {
        if (window.__needle && window.__seenAt === null && document.body.innerText.includes(window.__needle))
            window.__seenAt = Date.now();
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


#: Debian's Chromium: the same browser for every product measured.
chromium = chromium_binary


def mosquitto_pub() -> str:
    return shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def get_json(url: str, timeout: float = 10) -> Any:
    return json.load(urllib.request.urlopen(url, timeout=timeout))


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    user = os.environ.get("USER") or "root"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\nuser {user}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


@contextmanager
def broker_and_browser(prefix: str, keep: bool = False) -> Iterator[tuple[Path, int, Browser]]:
    """What every whole-product benchmark stands on: a scratch folder, a private Mosquitto on
    a free loopback port and one headless Chromium. All three go when the block ends, however
    it ends; the folder (logs, configs) stays with ``keep``."""
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    mosquitto, mqtt_port = start_mosquitto(workdir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                yield workdir, mqtt_port, browser
            finally:
                browser.close()
    finally:
        mosquitto.terminate()
        mosquitto.wait(10)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def start_citywall(workdir: Path, mqtt_port: int, config: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``citywall demo --rate 0`` on the given broker; returns the process and its base URL.

    A measuring tool on loopback: it reads pages and the API without logging in
    (``CITYWALL_AUTH_ANONYMOUS_READ``), as every benchmark here does.
    """
    web_port = free_port()
    argv = [*CITYWALL, "demo", "--port", str(web_port), "--mqtt-url", f"mqtt://127.0.0.1:{mqtt_port}", "--rate", "0"]
    if config is not None:
        argv += ["--config", str(config)]
    with open(workdir / f"citywall-{web_port}.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "CITYWALL_AUTH_ANONYMOUS_READ": "true"},
        )
    base = f"http://127.0.0.1:{web_port}"
    try:
        wait_http(f"{base}/healthz")
    except RuntimeError:
        stop_group(proc)
        raise
    return proc, base


def fill_city(mqtt_port: int, seconds: float = 4, rate: float = 200) -> None:
    """A few seconds of the simulator, so every panel has something to show."""
    subprocess.run(
        [
            *CITYWALL,
            "simulate",
            "--to",
            "mqtt",
            "--url",
            f"mqtt://127.0.0.1:{mqtt_port}",
            "--rate",
            str(rate),
            "--duration",
            str(seconds),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )


def stop_group(proc: subprocess.Popen[Any] | None, timeout: float = 15) -> None:
    """SIGTERM to a process started with ``start_new_session`` and everything it started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def alert(description: str, severity: str = "critical", alert_id: str | None = None) -> str:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps(
        {
            "id": alert_id or f"Alert:bench-{uuid.uuid4().hex[:12]}",
            "type": "Alert",
            "category": "security",
            "severity": severity,
            "location": {"type": "Point", "coordinates": [101.4478, 0.5071]},
            "dateIssued": now,
            "description": description,
            "alertSource": "bench",
        }
    )


def arm(page: Page, needle: str) -> None:
    page.evaluate("(n) => { window.__seenAt = null; window.__needle = n; }", needle)


def seen_at(page: Page) -> float | None:
    """When the page saw the needle (ms since the epoch), None if not yet; raises on a hung page."""
    return page.evaluate("window.__seenAt")


def publish_trial(mqtt_port: int, needle: str) -> float:
    """Publish one trial Alert; returns the time (ms since the epoch) just before ``mosquitto_pub`` started."""
    before_ms = time.time() * 1000
    subprocess.run(
        [mosquitto_pub(), "-h", "127.0.0.1", "-p", str(mqtt_port), "-q", "1", "-t", INCIDENT_TOPIC, "-m", alert(needle)],
        check=True,
        timeout=10,
    )
    return before_ms


def trial(page: Page, mqtt_port: int, mosquitto_pub: str | None = None) -> float | None:
    """One trial on one page: ms from just before the publish until the text is visible, None if
    lost (not visible within 5 s of that moment, or the page too busy to answer)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    needle = f"Uji latensi {uuid.uuid4().hex[:10]}"
    try:
        arm(page, needle)
    except PlaywrightTimeout:  # the page's main thread is too busy to answer: count as lost
        return None
    deadline = time.monotonic() + LOST_AFTER_S
    before_ms = publish_trial(mqtt_port, needle)
    while time.monotonic() < deadline:
        try:
            seen = seen_at(page)
        except PlaywrightTimeout:  # the page's main thread is too busy to answer: count as lost
            return None
        if seen:
            latency = seen - before_ms
            return latency if latency <= LOST_AFTER_S * 1000 else None
        time.sleep(0.005)
    return None


def latency_stats(results: list[float | None]) -> dict[str, Any]:
    """Trials, shown, lost, p50, p95 and max (ms) of a series; None latencies are lost trials.

    p95 is the nearest rank (the ceil(0.95 n)-th smallest of the n shown trials), so with
    few trials it is the largest, never below the median.
    """
    seen = sorted(r for r in results if r is not None)
    return {
        "trials": len(results),
        "shown": len(seen),
        "lost": len(results) - len(seen),
        "p50_ms": round(statistics.median(seen), 1) if seen else None,
        "p95_ms": round(seen[max(0, math.ceil(0.95 * len(seen)) - 1)], 1) if seen else None,
        "max_ms": round(seen[-1], 1) if seen else None,
    }


def push_counters(base: str) -> dict[str, float]:
    """The server's own count of what it pushed (``citywall_push_*`` at /metrics, one worker's)."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("citywall_push_") and not line.startswith("citywall_push_created"):
            series, value = line.rsplit(" ", 1)
            name = series.split("{", 1)[0]
            if name.endswith("_total"):
                out[name.removeprefix("citywall_push_").removesuffix("_total")] = float(value)
    return out


def feed_counts(base: str) -> dict[str, int]:
    """citywall's MQTT feed counters (``received``, ``accepted``, ``rejected.*``) from ``/api/v1/feeds``."""
    feeds = get_json(f"{base}/api/v1/feeds", timeout=60)["feeds"]
    return dict(feeds.get("mqtt", {}).get("counts", {}))


def open_incidents(base: str) -> int:
    """Open incidents as the server counts them (``citywall_open_incidents`` at /metrics)."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=60).read().decode()
    for line in text.splitlines():
        if line.startswith("citywall_open_incidents "):
            return int(float(line.split()[1]))
    raise RuntimeError("/metrics has no citywall_open_incidents")


def received(base: str, timeout: float = 30) -> int | None:
    """citywall's ``received`` count, or None when the server did not answer in time (busy)."""
    try:
        feeds = get_json(f"{base}/api/v1/feeds", timeout=timeout)["feeds"]
    except OSError:
        return None
    return int(feeds.get("mqtt", {}).get("counts", {}).get("received", 0))


def wait_received(base: str, at_least: int, timeout: float) -> tuple[int, float]:
    """Wait until citywall's feed has received ``at_least`` messages (or the time is up).

    Returns the count and the seconds waited; a count below ``at_least`` means the rest
    had not arrived by then. A server too busy to answer is asked again.
    """
    started = time.monotonic()
    count = received(base) or 0
    while count < at_least and time.monotonic() - started < timeout:
        time.sleep(0.25)
        count = received(base) or count
    return count, round(time.monotonic() - started, 1)


def config_with(workdir: Path, open_incidents_max: int) -> Path:
    """The shipped config.yaml with another ``history.open_incidents_max``, written to ``workdir``
    (its relative paths made absolute, since the copy lives elsewhere)."""
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw.setdefault("history", {})["open_incidents_max"] = open_incidents_max
    city = raw.get("city", {})
    if isinstance(city.get("districts_geojson"), str):
        city["districts_geojson"] = str((ROOT / city["districts_geojson"]).resolve())
    if isinstance(raw.get("simulation"), str):
        raw["simulation"] = str((ROOT / raw["simulation"]).resolve())
    path = workdir / f"config-cap-{open_incidents_max}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return path


class CpuMeter:
    """CPU time of a server's whole process tree between ``start`` and ``stop``, as % of one core."""

    def __init__(self, proc: psutil.Process) -> None:
        self.proc = proc
        self._cpu0 = 0.0
        self._t0 = 0.0

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def start(self) -> None:
        self._cpu0, self._t0 = self.cpu_seconds(), time.monotonic()

    def stop(self) -> dict[str, float]:
        cpu, elapsed = self.cpu_seconds() - self._cpu0, time.monotonic() - self._t0
        return {
            "cpu_s": round(cpu, 3),
            "wall_s": round(elapsed, 2),
            "cpu_pct_of_one_core": round(100 * cpu / elapsed, 1) if elapsed else 0.0,
        }


class Publisher:
    """A background load in a process of its own (its CPU never shares anything with ours).

    ``alerts``: ``bench/publish_alerts.py``, new Alerts (new ids) at ``rate``/s on the
    incidents topic. ``mix``: ``citywall simulate --rate RATE``, the simulator's mix.
    ``stop`` ends it and returns how many messages it says it sent.
    """

    def __init__(self, kind: str, mqtt_port: int, rate: float, count: int | None = None, prefix: str = "load") -> None:
        url = f"mqtt://127.0.0.1:{mqtt_port}"
        if kind == "alerts":
            argv = [
                sys.executable,
                str(ROOT / "bench" / "publish_alerts.py"),
                "--port",
                str(mqtt_port),
                "--rate",
                str(rate),
                "--prefix",
                prefix,
            ] + (["--count", str(count)] if count else [])
        elif kind == "mix":
            argv = [*CITYWALL, "simulate", "--to", "mqtt", "--url", url, "--rate", str(rate)]
        else:
            raise ValueError(f"unknown load {kind!r}")
        self.kind = kind
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True, text=True
        )

    def wait(self, timeout: float) -> int:
        """Wait for a publisher given ``count`` to finish; returns how many it sent."""
        out, _ = self.proc.communicate(timeout=timeout)
        return self._sent(out)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return self._sent(out)

    def _sent(self, out: str) -> int:
        # publish_alerts.py prints {"sent": N}; citywall simulate prints "... sent N messages ..."
        for line in reversed(out.splitlines()):
            if line.startswith("{"):
                return int(json.loads(line)["sent"])
            words = line.split()
            if "sent" in words and words.index("sent") + 1 < len(words):
                return int(words[words.index("sent") + 1])
        raise RuntimeError(f"the {self.kind} publisher did not say how many it sent: {out[-300:]!r}")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """The machine as the results record it (the load average goes in at start and end)."""
    import psutil

    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_avg_at_start": load_average(),
    }
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        info["cpu"] = model
    except (OSError, StopIteration):
        pass
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    for name, argv in (("chromium", [chromium(), "--version"]), ("mosquitto", [mosquitto, "-h"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            info[name] = (out.stdout or out.stderr).splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            info[name] = None
    try:
        from importlib.metadata import version

        info["citywall"] = version("citywall")
    except Exception:  # noqa: BLE001 - a version is a nicety, not a reason to fail
        info["citywall"] = None
    try:
        info["citywall_commit"] = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except OSError:
        info["citywall_commit"] = None
    return info


def command_line(script: str) -> str:
    """The command that reproduces this run, as the results record it."""
    return shlex.join(["python", f"bench/{script}", *sys.argv[1:]])


def write_result(result: dict[str, Any], out: Path | str | None) -> None:
    """Stamp the end of the run (the load average then, the time) and keep the JSON in ``out``.

    Also called for a partial result of a long run, so a run stopped early leaves its figures."""
    result["machine"]["load_avg_at_end"] = load_average()
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def finish(result: dict[str, Any], out: Path | str | None, as_json: bool, figures: Callable[[dict[str, Any]], None]) -> int:
    """How every benchmark ends: the result kept (``write_result``), then printed as JSON, or as
    ``figures`` followed by the machine, the load over the run and the command that reproduces
    it, so a figure copied anywhere carries what it depends on. Returns the exit status (0)."""
    write_result(result, out)
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    figures(result)
    m = result["machine"]
    seconds = result.get("seconds")
    took = f", {seconds} s" if isinstance(seconds, int | float) else ""
    print(
        f"\nmachine: {m.get('cores')} cores, {m.get('cpu')}, Python {m.get('python')}; "
        f"load average {m.get('load_avg_at_start')} -> {m.get('load_avg_at_end')}{took}"
    )
    print(f"command: {result['command']}")
    return 0


def random_point(rng: random.Random) -> list[float]:
    """A point inside Pekanbaru's built-up centre (lon, lat)."""
    return [round(rng.uniform(101.40, 101.49), 5), round(rng.uniform(0.47, 0.55), 5)]

"""``citywall bench``: the two measurements the feeds and state issues ask for.

* ``bench ingest``: how many validated messages per second one ingest process takes from
  MQTT into the store, next to what a bare paho subscriber takes from the same broker in
  the same run. The ratio, not the absolute number, is the claim: it says how much of the
  ceiling that paho and the broker allow the product's own code uses up.
* ``bench store``: a soak that applies a month of simulated city traffic to one store and
  watches its memory, to check that the bounded windows (resolved days, series count and
  age, caps) really keep a wall that runs for weeks flat.

Both print their figures and the command that produced them, and ``--out`` keeps the JSON
in the repository (bench/results/), so the latest numbers travel with the code. Timing is
done here and only here: unit tests never assert speed.

Everything heavy (paho, redis, the simulator) is imported inside the functions, because the
CLI builds its parser, and so imports this module, for every command.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dashboard.local_services import HOST, Mosquitto, RedisServer, mosquitto_binary, redis_binary

if TYPE_CHECKING:
    from dashboard.config import Config
    from dashboard.state import CityState
    from dashboard.store.base import StateStore
    from feeds.events import DeadLetter, Event

INGEST_GOAL_RATIO = 0.5
#: The demo publishes 20 msg/s; generating at that simulated pace gives the demo's mix
#: (mostly gauge and queue readings, some incidents and reports) with distinct time stamps.
DEMO_RATE = 20.0
SESSION_EXPIRY_S = 3_600
KINDS = ("incident", "water_level", "report", "waste_fill", "queue", "kpi")
SERIES_KINDS = ("water_level", "queue", "waste_fill")
#: A Monday 00:00 WIB, so the soak's month starts on a known weekday (busy MPP day).
SOAK_START = datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
SOAK_CHECKPOINTS = tuple(range(10, 101, 10))
FLAT_TOLERANCE_PCT = 5.0

INGEST_METHOD = (
    "backlog: each round makes two persistent sessions (QoS 1, clean_start=False with a session "
    "expiry), one for a bare paho subscriber and one for the real MqttAdapter -> Normalizer -> "
    "CityState(MemoryStore), and disconnects them; a separate publisher process (so its CPU does not "
    "share our GIL) then puts all N messages on the broker, which queues them for both sessions; each "
    "subscriber then reconnects and is timed from its first to its last settled message, i.e. its "
    "drain rate with the broker never the bottleneck. The order alternates between rounds."
)


# =============================================================================================
# shared helpers
# =============================================================================================


def machine_info() -> dict[str, Any]:
    """What the numbers depend on; the load average shows whether others were busy too."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["paho_mqtt"] = version("paho-mqtt")
        info["redis_py"] = version("redis")
    return info


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def process_rss_bytes() -> int:
    """RSS after a full collection; psutil when installed (a test extra), else /proc."""
    gc.collect()
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")


def mb(n_bytes: float) -> float:
    return round(n_bytes / 1_048_576, 1)


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def write_result(result: dict[str, Any], out: str | None) -> None:
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The simulator's wire encoding (compact JSON, UTF-8), so sizes match the real feed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class SimClock:
    """Simulated time that moves a fixed step per ``tick``: the soak and the message
    generator read it instead of the wall clock, so a month passes in minutes and every
    message gets its own, later time stamp (equal stamps would be duplicates to the store)."""

    def __init__(self, start: datetime, step_s: float) -> None:
        self.start = start
        self.step_s = step_s
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.ticks * self.step_s)

    def epoch(self) -> float:
        return self.start.timestamp() + self.ticks * self.step_s


# =============================================================================================
# local services: a mosquitto or a redis-server of our own, on a free loopback port
# =============================================================================================


# free_port, the process plumbing and the launchers are dashboard.local_services, shared with
# the tests and scripts; only the labels that say what was measured against are here.


def mosquitto_version(binary: str) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=5)
        first = (out.stdout or out.stderr).splitlines()[0]
        return first.replace("mosquitto version", "mosquitto").strip()
    return "mosquitto"


@dataclass
class BrokerInfo:
    """Where the benchmark publishes and subscribes, and what to say about it."""

    url: str
    host: str
    port: int
    protocol: str  # "5" or "3.1.1"
    label: str
    stop: Callable[[], None] = lambda: None


@contextlib.contextmanager
def ingest_broker(mqtt_url: str | None, protocol: str, queued: int, workdir: Path) -> Iterator[BrokerInfo]:
    """The given broker, else a mosquitto of our own, else the embedded amqtt broker."""
    if mqtt_url:
        from feeds.mqtt import parse_url

        ep = parse_url(mqtt_url)
        yield BrokerInfo(mqtt_url, ep.host, ep.port, protocol, f"external broker {ep.host}:{ep.port} (--mqtt-url)")
        return
    binary = mosquitto_binary()
    if binary:
        # no persistence (no disk in the timing); a queue deep enough for the whole backlog (the
        # default 1,000 would silently drop the rest); only errors and warnings logged
        server = Mosquitto(workdir, persistent=False, max_queued=queued, extra=["log_type error", "log_type warning"])
        server.start()
        try:
            yield BrokerInfo(server.url, HOST, server.port, protocol,
                             f"{mosquitto_version(binary)} started by the benchmark on {HOST}:{server.port}, no persistence")
        finally:
            server.stop()
        return
    from feeds.broker import EmbeddedBroker

    broker = EmbeddedBroker()
    broker.start()
    try:
        yield BrokerInfo(broker.url, broker.host, broker.port, broker.protocol,
                         f"embedded amqtt broker on {broker.url} (mosquitto is not installed; amqtt is pure Python "
                         "and shares this process's GIL, so both rates are far below a real broker's)")
    finally:
        broker.stop()


@contextlib.contextmanager
def soak_redis(redis_url: str | None, workdir: Path) -> Iterator[tuple[str, str]]:
    """(url, label): the given Redis, else a private redis-server that keeps nothing on disk."""
    if redis_url:
        yield redis_url, f"external Redis {redis_url} (--redis-url; used_memory includes whatever else it holds)"
        return
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed: pass --redis-url or install redis-server")
    server = RedisServer(workdir)
    server.start()
    try:
        yield (
            server.url,
            f"redis-server {_redis_version(binary)} started by the benchmark on {HOST}:{server.port} (--save '' --appendonly no)",
        )
    finally:
        server.stop()


def _redis_version(binary: str) -> str:
    with contextlib.suppress(Exception):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
        return next(p.split("=", 1)[1] for p in out.split() if p.startswith("v="))
    return "?"


# =============================================================================================
# bench ingest
# =============================================================================================


def generate_messages(n: int, seed: int, sim_rate: float = DEMO_RATE) -> list[tuple[str, bytes]]:
    """N (topic suffix, JSON bytes) from the simulator at the demo's pace in simulated time.

    The simulated clock ends a minute before now, so no message is "from the future" for the
    normalizer, and each message is 1/sim_rate s after the previous one, so repeated readings
    of one gauge carry new times and are real changes, as in the demo.
    """
    from dashboard.config import load_config
    from dashboard.simulation import simulator_for

    step = 1.0 / sim_rate
    clock = SimClock(datetime.now(UTC) - timedelta(seconds=n * step + 60), step)
    sim = simulator_for(load_config(), seed, clock=clock.now)
    # a complaint app's reports carry their app's full topic; the bench keeps every message
    # under its own prefix, so they travel as plain reports
    out = [(_suffix(kind), encode_payload(p)) for kind, p in sim.initial_state()[:n]]
    stream = sim.stream(sim_rate)
    while len(out) < n:
        clock.tick()
        kind, payload = next(stream)
        out.append((_suffix(kind), encode_payload(payload)))
    return out


def _suffix(topic: str) -> str:
    return "reports" if "/" in topic else topic


def write_backlog_file(messages: list[tuple[str, bytes]], path: Path) -> None:
    """One ``kind<TAB>json`` line per message: compact JSON never contains a raw newline."""
    with open(path, "wb") as f:
        for kind, payload in messages:
            f.write(kind.encode() + b"\t" + payload + b"\n")


def read_backlog_file(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, "rb") as f:
        for line in f:
            kind, _, payload = line.rstrip(b"\n").partition(b"\t")
            yield kind.decode(), json.loads(payload)


def publish_backlog(broker: BrokerInfo, prefix: str, backlog: Path, n: int, qos: int) -> float:
    """Publish the file from a separate Python process and wait for it; returns seconds.

    The child runs ``feeds.publish.publish_mqtt`` (the product's publisher) at an
    unlimited rate and waits for every PUBACK, so the broker holds the whole backlog when it
    returns (mosquitto queues a QoS 1 message for offline sessions before acknowledging it).
    """
    cmd = [sys.executable, "-m", "dashboard.bench", "_publish", "--url", broker.url, "--prefix", prefix,
           "--file", str(backlog), "--qos", str(qos), "--expect", str(n)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"publisher process failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def publisher_main(argv: Sequence[str]) -> int:
    """The child side of ``publish_backlog``."""
    from feeds.publish import publish_mqtt

    p = argparse.ArgumentParser(prog="dashboard.bench _publish")
    p.add_argument("--url", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--qos", type=int, default=1)
    p.add_argument("--expect", type=int, required=True)
    a = p.parse_args(argv)
    sent = publish_mqtt(a.url, a.prefix, rate=1e7, duration_s=None, qos=a.qos,
                        messages=read_backlog_file(Path(a.file)), drain_timeout_s=300)
    if sent != a.expect:
        print(f"sent {sent} of {a.expect}", file=sys.stderr)
        return 1
    return 0


class Arrivals:
    """Count and time settled messages from paho's network thread.

    Both subscribers stamp the end of handling each message, so the window from the first
    to the last stamp holds ``count - 1`` message times for either of them.
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.cpu_first = 0.0
        self.cpu_last = 0.0
        self.done = threading.Event()

    def tick(self) -> None:
        now = time.perf_counter()
        self.count += 1
        if self.count == 1:
            self.first = now
            self.cpu_first = time.process_time()
        self.last = now
        if self.count >= self.expected:
            self.cpu_last = time.process_time()
            self.done.set()

    def wait(self, idle_s: float) -> bool:
        """True once all arrived; False when nothing came for ``idle_s`` (a dropped backlog)."""
        while True:
            seen = self.count
            if self.done.wait(idle_s):
                return True
            if self.count == seen:
                return False

    @property
    def seconds(self) -> float:
        return self.last - self.first

    def cpu_us_per_msg(self) -> float:
        """This process's CPU time per message over the same window: unlike the rate, it
        does not move when other processes compete for the cores."""
        if self.count < 2 or not self.cpu_last:
            return 0.0
        return round((self.cpu_last - self.cpu_first) / (self.count - 1) * 1e6, 1)

    def per_second(self, counted: int | None = None) -> float:
        """``counted`` of the ``count`` messages per second (e.g. only the applied ones)."""
        counted = self.count if counted is None else counted
        if self.count < 2 or self.seconds <= 0:
            return 0.0
        return round(counted * (self.count - 1) / self.count / self.seconds, 1)


def paho_client(protocol: str, client_id: str, clean: bool = False) -> Any:
    """A bare client (auto-ack), persistent unless ``clean``, in either protocol version;
    MQTT 5 sets persistence at connect time instead (``paho_connect``)."""
    import paho.mqtt.client as mqtt

    v5 = protocol == "5"
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                       protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, clean_session=None if v5 else clean)


def paho_connect(client: Any, broker: BrokerInfo, clean: bool = False) -> None:
    """Connect (persistent session unless ``clean``) and start the network thread."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    if broker.protocol == "5":
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0 if clean else SESSION_EXPIRY_S
        client.connect(broker.host, broker.port, keepalive=60, clean_start=clean, properties=props)
    else:
        client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()


def paho_close(client: Any) -> None:
    client.disconnect()
    client.loop_stop()


def bare_session(broker: BrokerInfo, client_id: str, topic_filter: str, qos: int) -> None:
    """Subscribe once and leave: the broker now queues matching messages for this id."""
    subscribed = threading.Event()
    client = paho_client(broker.protocol, client_id)
    client.on_subscribe = lambda *_: subscribed.set()
    paho_connect(client, broker)
    client.subscribe(topic_filter, qos=qos)
    if not subscribed.wait(10):
        raise RuntimeError(f"bare subscriber: no SUBACK for {topic_filter}")
    paho_close(client)


def drain_bare(broker: BrokerInfo, client_id: str, n: int, idle_s: float) -> dict[str, Any]:
    """Reconnect the bare session and take the backlog; on_message only counts."""
    arrivals = Arrivals(n)
    client = paho_client(broker.protocol, client_id)
    client.on_message = lambda *_: arrivals.tick()
    paho_connect(client, broker)
    complete = arrivals.wait(idle_s)
    paho_close(client)
    if not complete:
        raise RuntimeError(f"bare subscriber got {arrivals.count} of {n} messages: did the broker drop queued "
                           "messages (mosquitto max_queued_messages)?")
    return {"msgs_per_s": arrivals.per_second(), "seconds": round(arrivals.seconds, 3),
            "cpu_us_per_msg": arrivals.cpu_us_per_msg(), "received": arrivals.count}


def clear_session(broker: BrokerInfo, client_id: str, status_topic: str | None = None) -> None:
    """Leave no session (and no retained status) behind on a broker we do not own."""
    with contextlib.suppress(Exception):
        client = paho_client(broker.protocol, client_id, clean=True)
        paho_connect(client, broker, clean=True)
        if status_topic:
            client.publish(status_topic, b"", qos=1, retain=True).wait_for_publish(5)
        paho_close(client)


class TimedSink:
    """The real ``CityState`` behind a stopwatch: each accept or reject is one settled message."""

    def __init__(self, inner: CityState, arrivals: Arrivals) -> None:
        self.inner = inner
        self.arrivals = arrivals

    def accept(self, event: Event) -> bool:
        changed = self.inner.accept(event)
        self.arrivals.tick()
        return changed

    def reject(self, letter: DeadLetter) -> None:
        self.inner.reject(letter)
        self.arrivals.tick()

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        self.inner.record_feed(feed, counts, status)


@dataclass
class PipelineRun:
    """The real adapter on a fresh memory store, for one round."""

    config: Config
    normalizer: Any
    broker: BrokerInfo
    client_id: str
    topic_filter: str
    n: int
    arrivals: Arrivals = field(init=False)
    sink: TimedSink = field(init=False)

    def __post_init__(self) -> None:
        from dashboard.state import CityState
        from dashboard.store.memory import MemoryStore

        self.arrivals = Arrivals(self.n)
        self.sink = TimedSink(CityState(MemoryStore(), self.config), self.arrivals)

    def adapter(self) -> Any:
        from feeds.mqtt import MqttAdapter

        mqtt_config = self.config.feeds.mqtt.model_copy(update={
            "url": self.broker.url, "topics": [self.topic_filter], "client_id": self.client_id,
            "protocol": self.broker.protocol, "shared_group": None, "qos": 1,
            "session_expiry_s": SESSION_EXPIRY_S})
        return MqttAdapter(mqtt_config, self.normalizer, self.sink)

    def make_session(self) -> None:
        """Connect, subscribe and stop: the adapter's own persistent session now queues."""
        first = self.adapter()
        first.start()
        if not first.wait_connected(10):
            first.stop()
            raise RuntimeError("MqttAdapter did not connect and subscribe within 10 s")
        first.stop()

    def drain(self, idle_s: float) -> dict[str, Any]:
        """Start the adapter again and time it through the backlog."""
        adapter = self.adapter()
        adapter.start()
        complete = self.arrivals.wait(idle_s)
        adapter.stop()
        snap = adapter.stats.snapshot()
        rejected = sum(snap["rejected"].values())
        applied = snap["accepted"] + snap["duplicates"]
        if not complete:
            raise RuntimeError(f"pipeline got {self.arrivals.count} of {self.n} messages")
        if applied + rejected != self.n:
            raise RuntimeError(f"pipeline: accepted+duplicates+rejected = {applied + rejected}, expected {self.n}")
        return {
            "msgs_per_s": self.arrivals.per_second(applied),
            "seconds": round(self.arrivals.seconds, 3),
            "cpu_us_per_msg": self.arrivals.cpu_us_per_msg(),
            "received": snap["received"],
            "accepted": snap["accepted"],
            "duplicates": snap["duplicates"],
            "rejected": rejected,
            "rejected_by_reason": snap["rejected"],
            "check_accepted_duplicates_rejected_eq_messages": applied + rejected == self.n,
        }


def ingest_round(config: Config, normalizer: Any, broker: BrokerInfo, backlog: Path, n: int, qos: int,
                 round_no: int, token: str, idle_s: float) -> dict[str, Any]:
    """One publish, drained by both subscribers; which goes first alternates by round."""
    prefix = f"citywall-bench/{token}/r{round_no}"
    bare_id, pipe_id = f"bench-bare-{token}-{round_no}", f"bench-pipe-{token}-{round_no}"
    bare_session(broker, bare_id, f"{prefix}/#", qos)
    pipeline = PipelineRun(config, normalizer, broker, pipe_id, f"{prefix}/#", n)
    pipeline.make_session()
    publish_s = publish_backlog(broker, prefix, backlog, n, qos)
    order = ("bare", "pipeline") if round_no % 2 == 1 else ("pipeline", "bare")
    results: dict[str, Any] = {}
    try:
        for which in order:
            results[which] = drain_bare(broker, bare_id, n, idle_s) if which == "bare" else pipeline.drain(idle_s)
    finally:
        clear_session(broker, bare_id)
        clear_session(broker, pipe_id, f"{config.feeds.mqtt.status_topic}/{pipe_id}")
    ratio = results["pipeline"]["msgs_per_s"] / results["bare"]["msgs_per_s"] if results["bare"]["msgs_per_s"] else 0.0
    cpu = results["pipeline"]["cpu_us_per_msg"]
    cpu_ratio = results["bare"]["cpu_us_per_msg"] / cpu if cpu else 0.0
    return {"round": round_no, "order": list(order), "publish_seconds": round(publish_s, 2), **results,
            "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3)}


# --- where the time goes ---------------------------------------------------------------------


STAGES = ("stats_counting", "json_parse_and_checks", "validate_and_map", "event_to_doc", "store_upsert_series_ticker")


def _stage_pass(config: Config, normalizer: Any, payloads: list[bytes]) -> list[float]:
    """One pass doing exactly what ``Pipeline.handle`` does, with a stopwatch between steps.

    Interleaved per message, as live, so allocation and GC costs land where they occur; the
    state is fresh, as in each live round. ``to_doc`` is timed on its own and subtracted
    from ``accept`` (which calls it), leaving the store's share. The stopwatch is this
    thread's CPU time, so other processes on a shared machine do not inflate a step; the
    cost of reading it is measured and taken off.
    """
    from dashboard.state import CityState
    from dashboard.store.memory import MemoryStore
    from feeds.health import FeedStats
    from feeds.payload import parse_payload

    state, stats, limit = CityState(MemoryStore(), config), FeedStats("bench"), config.feeds.max_payload_bytes
    clock = time.thread_time
    total = [0.0] * 5
    gc.collect()
    for payload in payloads:
        t0 = clock()
        stats.received()
        t1 = clock()
        entity = parse_payload(payload, limit)
        t2 = clock()
        event = normalizer.from_entity(entity).event
        t3 = clock()
        event.to_doc()
        t4 = clock()
        stats.accepted(state.accept(event))
        t5 = clock()
        for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            total[i] += dt
    overhead = _clock_overhead(clock)
    return [max(0.0, t / len(payloads) - overhead) * 1e6 for t in total]


def _clock_overhead(clock: Callable[[], float], n: int = 20_000) -> float:
    """Seconds one stopwatch reading adds to the step it closes."""
    started = clock()
    for _ in range(n):
        clock()
    return (clock() - started) / n


def stage_breakdown(config: Config, normalizer: Any, messages: list[tuple[str, bytes]],
                    bare_us: float, pipeline_us: float, passes: int = 5) -> dict[str, Any]:
    """CPU microseconds per message for each step of the handler (fastest of ``passes``), next to
    paho's own cost (the bare subscriber's CPU per message, live) and the live pipeline's.
    ``adapter_and_contention`` is the live total minus paho minus the handler steps: the
    adapter's callback, its locks and manual ack, its other threads, cache misses."""
    payloads = [p for _, p in messages]
    samples = [_stage_pass(config, normalizer, payloads) for _ in range(passes)]
    stages = {name: round(min(s[i] for s in samples), 2) for i, name in enumerate(STAGES)}
    stages["store_upsert_series_ticker"] = round(stages["store_upsert_series_ticker"] - stages["event_to_doc"], 2)
    handler = round(sum(stages.values()), 2)
    return {
        "paho_receive_ack": round(bare_us, 2),
        **stages,
        "handler_total": handler,
        "adapter_and_contention": round(pipeline_us - bare_us - handler, 2),
        "pipeline_live_total": round(pipeline_us, 2),
        "how": f"handler steps timed per message with thread CPU time over the same batch, fastest of {passes} "
               "passes (store_upsert_series_ticker = CityState.accept minus its to_doc); paho_receive_ack and "
               "pipeline_live_total are the live rounds' process CPU-us per message (median), bare and pipeline",
    }


def _handle_all(pipeline: Any, messages: list[tuple[str, bytes]]) -> None:
    for kind, payload in messages:
        pipeline.handle(payload, kind)


def profile_handler(config: Config, normalizer: Any, messages: list[tuple[str, bytes]], top: int = 15) -> list[dict[str, Any]]:
    """cProfile of ``Pipeline.handle`` over the batch: the functions with the most own time."""
    import cProfile
    import pstats

    from dashboard.state import CityState
    from dashboard.store.memory import MemoryStore
    from feeds.health import FeedStats
    from feeds.pipeline import Pipeline

    pipeline = Pipeline(normalizer, CityState(MemoryStore(), config), FeedStats("bench"))
    profiler = cProfile.Profile()
    profiler.runcall(_handle_all, pipeline, messages)
    stats = pstats.Stats(profiler)
    n = len(messages)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    return [{"function": f"{_short(path)}:{line}({name})", "calls": nc,
             "own_us_per_msg": round(tt / n * 1e6, 2), "cumulative_us_per_msg": round(ct / n * 1e6, 2)}
            for (path, line, name), (_cc, nc, tt, ct, _callers) in rows]


def _short(path: str) -> str:
    """Repository-relative or library-relative, so the profile reads the same on any machine."""
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1]
    if "/lib/python3." in path:  # the standard library: lib/python3.11/json/decoder.py -> json/decoder.py
        return path.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(Path(__file__).resolve().parent.parent))
    return path


def run_ingest(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Generate once, then ``rounds`` alternating rounds, then the stage breakdown."""
    from dashboard.runtime import build_normalizer

    n, qos, token = args.messages, args.qos, uuid.uuid4().hex[:8]
    machine = machine_info()
    messages = generate_messages(n, args.seed)
    normalizer = build_normalizer(config)
    with tempfile.TemporaryDirectory(prefix="citywall-bench-") as tmp:
        workdir = Path(tmp)
        backlog = workdir / "backlog.txt"
        write_backlog_file(messages, backlog)
        with ingest_broker(args.mqtt_url, config.feeds.mqtt.protocol, n + 10_000, workdir) as broker:
            runs = [ingest_round(config, normalizer, broker, backlog, n, qos, r, token, args.idle_timeout)
                    for r in range(1, args.rounds + 1)]
            label, protocol = broker.label, broker.protocol
    bare = median([r["bare"]["msgs_per_s"] for r in runs])
    pipe = median([r["pipeline"]["msgs_per_s"] for r in runs])
    ratio = round(pipe / bare, 3) if bare else 0.0
    return {
        "benchmark": "ingest",
        "command": ingest_command(args),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pipeline_msgs_per_s": pipe,
        "bare_msgs_per_s": bare,
        "ratio": ratio,
        "goal_ratio": INGEST_GOAL_RATIO,
        "goal_met": ratio >= INGEST_GOAL_RATIO,
        "ratio_median_of_rounds": round(median([r["ratio"] for r in runs]), 3),
        "cpu_ratio": round(median([r["cpu_ratio"] for r in runs]), 3),
        "cpu_ratio_means": "bare CPU-us per message / pipeline CPU-us per message (process CPU time over the "
                           "same windows, median of rounds): the ratio with other processes' load taken out",
        "messages": n,
        "qos": qos,
        "protocol": f"MQTT {protocol}",
        "broker": label,
        "method": INGEST_METHOD,
        "message_mix": dict(Counter(kind for kind, _ in messages).most_common()),
        "payload_bytes_mean": round(sum(len(p) for _, p in messages) / n, 1),
        "runs": runs,
        "stages_us_per_msg": stage_breakdown(config, normalizer, messages,
                                             median([r["bare"]["cpu_us_per_msg"] for r in runs]),
                                             median([r["pipeline"]["cpu_us_per_msg"] for r in runs])),
        "profile_top_own_time": profile_handler(config, normalizer, messages),
        "machine": {**machine, "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def ingest_command(args: argparse.Namespace) -> str:
    """The command line that reproduces these figures, every option spelt out."""
    parts = ["citywall", "bench", "ingest", "--messages", str(args.messages), "--qos", str(args.qos),
             "--rounds", str(args.rounds), "--seed", str(args.seed)]
    if args.mqtt_url:
        parts += ["--mqtt-url", args.mqtt_url]
    return _finish_command(parts, args)


def _finish_command(parts: list[str], args: argparse.Namespace) -> str:
    if getattr(args, "config", None):
        parts += ["--config", args.config]
    if args.json:
        parts.append("--json")
    if args.out:
        parts += ["--out", args.out]
    return shlex.join(parts)


def print_ingest(result: dict[str, Any]) -> None:
    print(f"citywall bench ingest: {result['messages']} messages, QoS {result['qos']}, {result['protocol']}")
    print(f"broker:  {result['broker']}")
    print(f"method:  {result['method']}")
    print(f"\n{'round':>5} {'order':<16} {'bare msg/s':>11} {'pipeline msg/s':>15} {'ratio':>6}  accepted/dup/rejected")
    for r in result["runs"]:
        p = r["pipeline"]
        print(f"{r['round']:>5} {'->'.join(r['order']):<16} {r['bare']['msgs_per_s']:>11,.0f} {p['msgs_per_s']:>15,.0f} "
              f"{r['ratio']:>6.2f}  {p['accepted']}/{p['duplicates']}/{p['rejected']}")
    print(f"{'median':>5} {'':<16} {result['bare_msgs_per_s']:>11,.0f} {result['pipeline_msgs_per_s']:>15,.0f} "
          f"{result['ratio']:>6.2f}  (goal >= {result['goal_ratio']}: {'met' if result['goal_met'] else 'NOT met'})")
    print(f"CPU-time ratio (other processes' load taken out): {result['cpu_ratio']:.2f}")
    print("\nwhere the time goes (us per message):")
    for name, us in result["stages_us_per_msg"].items():
        if isinstance(us, (int, float)):
            print(f"  {name:<28} {us:>8.1f}")
    print("\nmost own time in Pipeline.handle (cProfile, us per message):")
    for row in result["profile_top_own_time"][:8]:
        print(f"  {row['own_us_per_msg']:>7.2f}  {row['function']}")
    m = result["machine"]
    print(f"\nmachine: {m['cores']} cores, {m.get('cpu')}, Python {m['python']}, load {m['load_avg_at_start']}")
    print(f"command: {result['command']}")


# =============================================================================================
# bench store (the soak)
# =============================================================================================


@dataclass
class SoakTimers:
    """Seconds spent per stage, so the events/s can be about the store alone."""

    generate: float = 0.0
    decode: float = 0.0
    apply: float = 0.0
    housekeep: float = 0.0
    housekeep_calls: int = 0
    sample_kpis: float = 0.0
    sample_kpis_calls: int = 0
    rejected: int = 0


def time_housekeeping(state: CityState, timers: SoakTimers) -> None:
    """Wrap the state's own ``housekeep`` (which ``accept`` calls every 30 s of its clock), so
    its share of ``apply`` can be reported apart; the schedule itself is untouched."""
    inner = state.housekeep

    def timed(now: float | None = None) -> int:
        started = time.perf_counter()
        try:
            return inner(now)
        finally:
            timers.housekeep += time.perf_counter() - started
            timers.housekeep_calls += 1

    state.housekeep = timed  # type: ignore[method-assign]


def soak_messages(sim: Any, clock: SimClock) -> Iterator[tuple[str, dict[str, Any]]]:
    """The initial picture, then the endless stream; the clock moves one step per message."""
    for message in sim.initial_state():
        clock.tick()
        yield message
    stream = sim.stream(DEMO_RATE)  # reads the clock on every message at this rate
    while True:
        clock.tick()
        yield next(stream)


def store_snapshot(store: StateStore, kpi_ids: Sequence[str]) -> dict[str, Any]:
    """Entity counts per kind and the points held in series: what the windows bound."""
    entities = {kind: store.entities(kind) for kind in KINDS}
    counts = {kind: len(docs) for kind, docs in entities.items()}
    resolved = sum(1 for d in entities["incident"].values() if d.get("status") == "resolved")
    points = sum(len(store.series(f"{kind}:{i}")) for kind in SERIES_KINDS for i in entities[kind])
    kpi_points = sum(len(store.series(f"{prefix}:{k}")) for prefix in ("kpi", "kpi_h") for k in kpi_ids)
    return {"entities": counts, "incidents_resolved": resolved, "incidents_open": counts["incident"] - resolved,
            "entity_series_points": points, "kpi_series_points": kpi_points, "ticker": len(store.recent(10_000))}


def redis_used_memory(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def delete_prefix(url: str, prefix: str) -> None:
    """Clean up after ourselves on a Redis we do not own."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    finally:
        client.close()


@dataclass
class SoakBackend:
    store: StateStore
    label: str
    memory: Callable[[], dict[str, Any]]


@contextlib.contextmanager
def soak_backend(args: argparse.Namespace, workdir: Path, prefix: str) -> Iterator[SoakBackend]:
    """The store under test and how to read its memory (RSS, or Redis ``used_memory``)."""
    if args.backend == "memory":
        from dashboard.store.memory import MemoryStore

        yield SoakBackend(MemoryStore(), "memory (in-process MemoryStore)",
                          lambda: {"rss_mb": mb(process_rss_bytes())})
        return
    from dashboard.store.redis_store import RedisStore

    with soak_redis(args.redis_url, workdir) as (url, label):
        store = RedisStore(url, prefix=prefix)
        try:
            yield SoakBackend(store, label, lambda: {"used_memory_mb": mb(redis_used_memory(url)),
                                                     "bench_process_rss_mb": mb(process_rss_bytes())})
        finally:
            store.close()
            if args.redis_url:
                delete_prefix(url, prefix)


def checkpoint(percent: int, done: int, clock: SimClock, started: float, timers: SoakTimers,
               backend: SoakBackend, kpi_ids: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"percent": percent, "events": done,
                           "simulated_days": round((clock.now() - SOAK_START).total_seconds() / 86_400, 2),
                           "wall_s": round(time.perf_counter() - started, 1)}
    row.update(backend.memory())
    row.update(store_snapshot(backend.store, kpi_ids))
    row["apply_events_per_s_so_far"] = rate(done, timers.apply)
    return row


def with_history(config: Config, overrides: Sequence[str]) -> Config:
    """``--history resolved_days=1``: smaller windows, validated like config.yaml itself, so a
    slow backend can show "full, then flat" within a run it can afford."""
    if not overrides:
        return config
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"citywall bench: --history wants KEY=VALUE, got {item!r}")
        changes[key.strip()] = value.strip()
    history = type(config.history).model_validate({**config.history.model_dump(), **changes})
    return config.model_copy(update={"history": history})


def run_store(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """Apply ``--events`` simulated events over ``--days`` simulated days to one store."""
    from dashboard.picture import sample_kpis
    from dashboard.runtime import SAMPLE_EVERY_S, build_normalizer
    from dashboard.simulation import simulator_for
    from dashboard.state import CityState
    from feeds.events import Rejected

    n = args.events
    config = with_history(config, args.history)
    machine = machine_info()
    clock = SimClock(SOAK_START, args.days * 86_400 / n)
    prefix = f"citywall-bench-{uuid.uuid4().hex[:8]}"
    timers = SoakTimers()
    windows = config.history.model_dump()
    kpi_ids = [kpi.id for _pillar, kpi in config.kpis()]
    marks = {max(1, n * p // 100): p for p in SOAK_CHECKPOINTS}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="citywall-soak-") as tmp, \
            soak_backend(args, Path(tmp), prefix) as backend:
        sim = simulator_for(config, args.seed, clock=clock.now)
        normalizer = build_normalizer(config)
        normalizer.clock = clock.now  # "from the future" is judged against simulated time
        state = CityState(backend.store, config, clock=clock.epoch)
        time_housekeeping(state, timers)
        baseline = backend.memory()
        source = soak_messages(sim, clock)
        next_sample = clock.epoch() + SAMPLE_EVERY_S
        started = time.perf_counter()
        for done in range(1, n + 1):
            t0 = time.perf_counter()
            _kind, payload = next(source)
            data = encode_payload(payload)
            t1 = time.perf_counter()
            try:
                event = normalizer.decode(data)
            except Rejected:
                timers.rejected += 1
                event = None
            t2 = time.perf_counter()
            if event is not None:
                state.accept(event)
            t3 = time.perf_counter()
            timers.generate += t1 - t0
            timers.decode += t2 - t1
            timers.apply += t3 - t2
            if args.sample_kpis and clock.epoch() >= next_sample:
                next_sample = clock.epoch() + SAMPLE_EVERY_S
                sample_kpis(backend.store, config, now=clock.epoch())
                timers.sample_kpis += time.perf_counter() - t3
                timers.sample_kpis_calls += 1
            if done in marks:
                rows.append(checkpoint(marks[done], done, clock, started, timers, backend, kpi_ids))
                _progress(args, rows[-1])
                if done < n:  # a long soak stopped early still leaves its checkpoints behind
                    partial = store_result(args, machine, backend.label, baseline, rows, timers,
                                           time.perf_counter() - started, done, windows)
                    write_result({**partial, "complete": False, "events_requested": n}, args.out)
        wall = time.perf_counter() - started
        label = backend.label
    result = store_result(args, machine, label, baseline, rows, timers, wall, n, windows)
    return {**result, "complete": True}


def _progress(args: argparse.Namespace, row: dict[str, Any]) -> None:
    """A line per checkpoint on stderr, so a long Redis soak shows it is alive."""
    memory = row.get("rss_mb", row.get("used_memory_mb"))
    print(f"  {row['percent']:>3}%  {row['events']:>9,} events  day {row['simulated_days']:>5}  "
          f"{memory} MB  {row['wall_s']} s", file=sys.stderr, flush=True)


def store_result(args: argparse.Namespace, machine: dict[str, Any], label: str, baseline: dict[str, Any],
                 rows: list[dict[str, Any]], timers: SoakTimers, wall: float, n: int,
                 history: dict[str, Any]) -> dict[str, Any]:
    key = "rss_mb" if args.backend == "memory" else "used_memory_mb"
    at = {r["percent"]: r for r in rows}
    memory = {f"{p}%": at[p][key] for p in (10, 50, 100) if p in at}
    growth = None
    if 50 in at and 100 in at and at[50][key]:
        growth = round(100 * (at[100][key] - at[50][key]) / at[50][key], 1)
    store_s = timers.apply - timers.housekeep
    return {
        "benchmark": "store",
        "command": store_command(args),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": args.backend,
        "store": label,
        "events": n,
        "simulated_days": args.days,
        "simulated_seconds_per_event": round(args.days * 86_400 / n, 3),
        "memory_metric": "process RSS after gc.collect()" if args.backend == "memory" else "Redis INFO memory used_memory",
        "memory_mb": memory,
        "memory_baseline_mb": baseline,
        "growth_50_to_100_pct": growth,
        "flat_50_to_100": growth is not None and abs(growth) <= FLAT_TOLERANCE_PCT,
        "flat_tolerance_pct": FLAT_TOLERANCE_PCT,
        "entities_at_100": rows[-1]["entities"] if rows else {},
        "events_per_s": rate(n, timers.apply),
        "events_per_s_without_housekeeping": rate(n, store_s),
        "end_to_end_events_per_s": rate(n, wall),
        "seconds": {"wall": round(wall, 1), "apply": round(timers.apply, 1), "housekeep": round(timers.housekeep, 1),
                    "generate": round(timers.generate, 1), "decode": round(timers.decode, 1),
                    "sample_kpis": round(timers.sample_kpis, 1)},
        "housekeep_calls": timers.housekeep_calls,
        "sample_kpis_calls": timers.sample_kpis_calls,
        "rejected": timers.rejected,
        "events_source": "simulator payloads encoded to JSON and decoded once each with the real Normalizer "
                         "(simulated clock); generation and decoding are timed apart and not in events_per_s",
        "events_per_s_means": "events applied per second of CityState.accept (the store writes plus the "
                              "housekeeping accept triggers every 30 simulated seconds)",
        "history_windows": history,
        "checkpoints": rows,
        "machine": {**machine, "load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def store_command(args: argparse.Namespace) -> str:
    parts = ["citywall", "bench", "store", "--events", str(args.events), "--backend", args.backend,
             "--days", f"{args.days:g}", "--seed", str(args.seed)]
    if args.sample_kpis:
        parts.append("--sample-kpis")
    for item in args.history:
        parts += ["--history", item]
    if args.redis_url:
        parts += ["--redis-url", args.redis_url]
    return _finish_command(parts, args)


def print_store(result: dict[str, Any]) -> None:
    key = "rss_mb" if result["backend"] == "memory" else "used_memory_mb"
    print(f"citywall bench store: {result['events']:,} events over {result['simulated_days']:g} simulated days "
          f"on {result['store']}")
    print(f"memory: {result['memory_metric']}; baseline {result['memory_baseline_mb']}")
    head = f"{'%':>4} {'events':>10} {'day':>6} {'MB':>8} " + " ".join(f"{k[:11]:>11}" for k in KINDS)
    print("\n" + head + f" {'series pts':>10} {'kpi pts':>8}")
    for r in result["checkpoints"]:
        counts = " ".join(f"{r['entities'][k]:>11,}" for k in KINDS)
        print(f"{r['percent']:>4} {r['events']:>10,} {r['simulated_days']:>6} {r[key]:>8} {counts} "
              f"{r['entity_series_points']:>10,} {r['kpi_series_points']:>8,}")
    flat = "flat" if result["flat_50_to_100"] else "NOT flat"
    print(f"\nmemory at 10/50/100%: {result['memory_mb']}; 50% -> 100%: {result['growth_50_to_100_pct']}% "
          f"({flat}, tolerance {result['flat_tolerance_pct']}%)")
    s = result["seconds"]
    print(f"events/s: {result['events_per_s']:,} through CityState.accept ({result['events_per_s_without_housekeeping']:,} "
          f"without its housekeeping: {s['housekeep']} s in {result['housekeep_calls']:,} calls); "
          f"end to end {result['end_to_end_events_per_s']:,}/s")
    print(f"seconds: {s}")
    m = result["machine"]
    print(f"machine: {m['cores']} cores, {m.get('cpu')}, Python {m['python']}, load {m['load_avg_at_start']}")
    print(f"command: {result['command']}")


# =============================================================================================
# the CLI side
# =============================================================================================


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``bench`` sub-commands; ``dashboard.cli`` hands us its ``bench`` parser."""
    sub = parser.add_subparsers(required=True, dest="benchmark", metavar="BENCHMARK")
    ingest = sub.add_parser("ingest", help="MQTT -> adapter -> store throughput against a bare paho subscriber",
                            description=INGEST_METHOD)
    ingest.add_argument("--messages", type=_positive, default=50_000, help="messages per round (default 50000)")
    ingest.add_argument("--qos", type=int, choices=(1,), default=1, help="QoS of publish and subscriptions (1)")
    ingest.add_argument("--mqtt-url", default=None, help="use this broker instead of starting a mosquitto")
    ingest.add_argument("--rounds", type=_positive, default=3, help="alternating rounds; medians are reported (3)")
    ingest.add_argument("--idle-timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    ingest.set_defaults(bench_run=run_ingest, bench_print=print_ingest)
    store = sub.add_parser("store", help="soak: memory of one store while simulated weeks of events are applied")
    store.add_argument("--events", type=_positive, default=1_000_000, help="events to apply (default 1000000)")
    store.add_argument("--backend", choices=("memory", "redis"), default="memory")
    store.add_argument("--redis-url", default=None, help="use this Redis instead of starting a private redis-server")
    store.add_argument("--days", type=float, default=35.0, help="simulated days the events span (default 35)")
    store.add_argument("--sample-kpis", action="store_true",
                       help="also run the ingest process's KPI sampler every 60 simulated s (a full build_picture "
                            "each time: 50,400 of them in 35 days, which dominates the run)")
    store.add_argument("--history", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config history window for this run (repeatable), e.g. resolved_days=1")
    store.set_defaults(bench_run=run_store, bench_print=print_store)
    for p in (ingest, store):
        p.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
        p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        p.add_argument("--out", default=None, help="also write the JSON to this file (e.g. bench/results/ingest.json)")
        # SUPPRESS: when not given here, the value given before the benchmark name stays
        p.add_argument("--config", default=argparse.SUPPRESS, help="config file (as for every citywall command)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def run(config: Config, args: argparse.Namespace) -> int:
    """Run the chosen benchmark, print JSON or a table, keep the JSON if asked."""
    result = args.bench_run(config, args)
    write_result(result, args.out)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        args.bench_print(result)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_publish":
        sys.exit(publisher_main(sys.argv[2:]))
    print("usage: citywall bench {ingest,store} ...", file=sys.stderr)
    sys.exit(2)

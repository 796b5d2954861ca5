"""One round of the ingest benchmark: a backlog on the broker, drained by a bare paho
subscriber and by the product's own adapter, each timed from its first to its last message.

``bench/ingest.py`` runs the rounds and reports; the method is in its ``INGEST_METHOD``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.measure import DEMO_RATE, SimClock, encode_payload, mosquitto_version
from dashboard.local_services import HOST, Mosquitto, mosquitto_binary

if TYPE_CHECKING:
    from dashboard.config import Config
    from dashboard.ingest import CityState
    from feeds.events import DeadLetter, Event

SESSION_EXPIRY_S = 3_600
#: The publisher runs as a child of this script, so its CPU does not share our GIL.
INGEST_SCRIPT = Path(__file__).resolve().with_name("ingest.py")


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
            yield BrokerInfo(
                server.url,
                HOST,
                server.port,
                protocol,
                f"{mosquitto_version(binary)} started by the benchmark on {HOST}:{server.port}, no persistence",
            )
        finally:
            server.stop()
        return
    from feeds.broker import EmbeddedBroker

    broker = EmbeddedBroker()
    broker.start()
    try:
        yield BrokerInfo(
            broker.url,
            broker.host,
            broker.port,
            broker.protocol,
            f"embedded amqtt broker on {broker.url} (mosquitto is not installed; amqtt is pure Python "
            "and shares this process's GIL, so both rates are far below a real broker's)",
        )
    finally:
        broker.stop()


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
    cmd = [
        sys.executable,
        str(INGEST_SCRIPT),
        "_publish",
        "--url",
        broker.url,
        "--prefix",
        prefix,
        "--file",
        str(backlog),
        "--qos",
        str(qos),
        "--expect",
        str(n),
    ]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"publisher process failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def publisher_main(argv: Sequence[str]) -> int:
    """The child side of ``publish_backlog``."""
    from feeds.publish import publish_mqtt

    p = argparse.ArgumentParser(prog="bench/ingest.py _publish")
    p.add_argument("--url", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--qos", type=int, default=1)
    p.add_argument("--expect", type=int, required=True)
    a = p.parse_args(argv)
    sent = publish_mqtt(
        a.url, a.prefix, rate=1e7, duration_s=None, qos=a.qos, messages=read_backlog_file(Path(a.file)), drain_timeout_s=300
    )
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
    return mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else clean,
    )


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
        raise RuntimeError(
            f"bare subscriber got {arrivals.count} of {n} messages: did the broker drop queued "
            "messages (mosquitto max_queued_messages)?"
        )
    return {
        "msgs_per_s": arrivals.per_second(),
        "seconds": round(arrivals.seconds, 3),
        "cpu_us_per_msg": arrivals.cpu_us_per_msg(),
        "received": arrivals.count,
    }


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
        from dashboard.ingest import CityState
        from dashboard.store.memory import MemoryStore

        self.arrivals = Arrivals(self.n)
        self.sink = TimedSink(CityState(MemoryStore(), self.config), self.arrivals)

    def adapter(self) -> Any:
        from feeds.mqtt import MqttAdapter

        mqtt_config = self.config.feeds.mqtt.model_copy(
            update={
                "url": self.broker.url,
                "topics": [self.topic_filter],
                "client_id": self.client_id,
                "protocol": self.broker.protocol,
                "shared_group": None,
                "qos": 1,
                "session_expiry_s": SESSION_EXPIRY_S,
            }
        )
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


def ingest_round(
    config: Config, normalizer: Any, broker: BrokerInfo, backlog: Path, n: int, qos: int, round_no: int, token: str, idle_s: float
) -> dict[str, Any]:
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
    return {
        "round": round_no,
        "order": list(order),
        "publish_seconds": round(publish_s, 2),
        **results,
        "ratio": round(ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
    }

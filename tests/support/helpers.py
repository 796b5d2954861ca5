"""Helpers shared by several test modules, in one place (test modules import no other test module).

- ``wait_until``: wait for a condition, never for a fixed time, with the log of a process.
- Ingest processes: a config written elsewhere, ``citywall ingest`` started, a paced QoS 1
  publisher, and the wait until a fresh ingest process demonstrably receives.
- Feeds: a recording sink, the real normalizer, a valid KPI payload, a socket that counts its reads.
- The demo seen from outside: its JSON API and an Alert as a producer sends it.
- Benchmarks' JSON: a measured figure is a real, finite number above zero.
- ``run_async``: a coroutine run to its end, whatever ran in the main thread before.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import yaml

from dashboard.config import Feeds, load_config
from dashboard.local_services import wait_until as _wait_until
from dashboard.simulation import simulator_for
from dashboard.store.redis_store import RedisStore
from feeds.events import DeadLetter, Event
from feeds.normalize import Normalizer
from tests.support.services import CITYWALL_CMD, REPO_ROOT, CitywallProcess, Mosquitto

T = TypeVar("T")

#: A waiter's own timeout, far beyond ``WOKEN_S``: a wait that ends within ``WOKEN_S`` ended
#: because of the change it waits for, not because its time ran out. No duration is asserted.
LONG_WAIT_S = 120.0
WOKEN_S = 30.0


# --- waiting and ingest processes ----------------------------------------------------------------
def wait_until(
    check: Callable[[], T], timeout: float, what: str = "condition", interval: float = 0.05, proc: CitywallProcess | None = None
) -> T:
    """``dashboard.local_services.wait_until`` that fails as a test does, with the log of
    ``proc`` when it is given; fails at once if that process died."""

    def alive_check() -> T:
        if proc is not None and not proc.alive:
            raise AssertionError(f"{what}: the process died ({proc.returncode}):\n{proc.log_text()[-4000:]}")
        return check()

    try:
        return _wait_until(alive_check, timeout, what, interval)
    except TimeoutError as exc:
        log = f"\n--- process log ---\n{proc.log_text()[-4000:]}" if proc is not None else ""
        raise AssertionError(f"{exc}{log}") from None


def write_config(directory: Path, changes: dict[str, Any], name: str = "config.yaml") -> Path:
    """A copy of the repo's config.yaml with dotted-key ``changes`` (``feeds.redis.consumer``)."""
    raw = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))
    # the copy lives elsewhere: its relative paths must still name the shipped files
    raw["city"]["districts_geojson"] = str(REPO_ROOT / raw["city"]["districts_geojson"])
    raw["simulation"] = str(REPO_ROOT / raw["simulation"])
    for dotted, value in changes.items():
        node = raw
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = directory / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_ingest(citywall_proc: Callable[..., CitywallProcess], config: Path, env: dict[str, str]) -> CitywallProcess:
    return citywall_proc([*CITYWALL_CMD, "ingest", "--config", str(config)], env={"CITYWALL_CONFIG": str(config), **env})


def feed(store: RedisStore, name: str) -> dict[str, Any]:
    return store.feeds().get(name, {})


def counts(store: RedisStore, name: str) -> dict[str, int]:
    return dict(feed(store, name).get("counts", {}))


def settled_counts(
    store: RedisStore,
    name: str,
    done: Callable[[dict[str, int]], bool],
    timeout: float = 30.0,
    proc: CitywallProcess | None = None,
) -> dict[str, int]:
    """Feed counts once ``done`` says they are complete and two reads 1.5 s apart agree
    (adapters flush their deltas every second)."""

    def stable() -> dict[str, int] | None:
        first = counts(store, name)
        if not done(first):
            return None
        time.sleep(1.5)
        second = counts(store, name)
        return second if second == first else None

    return wait_until(stable, timeout, f"feed {name!r} counts settle", interval=0.2, proc=proc)


class PacedPublisher(threading.Thread):
    """Publishes (topic, payload) pairs at ``rate`` per second with one paho client, then
    waits for the broker's PUBACK of every one: anything missing afterwards was lost by the
    product, not by the test."""

    def __init__(self, broker: Mosquitto, items: Sequence[tuple[str, bytes]], rate: float, qos: int = 1) -> None:
        super().__init__(name="paced-publisher", daemon=True)
        self.broker = broker
        self.items = items
        self.rate = rate
        self.qos = qos
        self.acked = 0
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        client.max_inflight_messages_set(1_000)
        client.max_queued_messages_set(0)
        try:
            client.connect(self.broker.host, self.broker.port)
            client.loop_start()
            infos = []
            t0 = time.monotonic()
            for i, (topic, payload) in enumerate(self.items, start=1):
                infos.append(client.publish(topic, payload, qos=self.qos))
                if i % 20 == 0:
                    ahead = t0 + i / self.rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
            for info in infos:
                info.wait_for_publish(60)
            self.acked = sum(1 for info in infos if info.is_published())
            self.seconds = time.monotonic() - t0
        except BaseException as exc:  # reported by the test thread
            self.error = exc
        finally:
            client.disconnect()
            client.loop_stop()

    def finish(self, timeout: float = 120.0) -> None:
        self.join(timeout)
        assert not self.is_alive(), "publisher did not finish"
        if self.error is not None:
            raise self.error
        assert self.acked == len(self.items), f"broker acknowledged {self.acked} of {len(self.items)}"


def publish_once(broker: Mosquitto, items: Iterable[tuple[str, bytes]]) -> None:
    """Publish QoS 1 and wait for every PUBACK (small batches: canaries, a last message)."""
    publisher = PacedPublisher(broker, list(items), rate=1e9)
    publisher.start()
    publisher.finish(30)


def await_subscription(
    broker: Mosquitto, store: RedisStore, proc: CitywallProcess, topic: str, feed_name: str = "mqtt", timeout: float = 60.0
) -> str:
    """Until the ingest process demonstrably receives: first its feed must show connected,
    then a canary alert must land in the store. "connected" is recorded before the broker has
    confirmed the subscription, so a burst published right then could miss a first session;
    the canary (re-sent every 2 s) closes that window. Returns the canary's id."""
    wait_until(lambda: feed(store, feed_name).get("connected"), timeout, "ingest feed connected", interval=0.1, proc=proc)
    alert = next(simulator_for(load_config(), rng_seed=1).unique_alerts(1, prefix=f"CANARY{uuid.uuid4().hex[:6]}"))
    payload = json.dumps(alert).encode()
    deadline = time.monotonic() + timeout
    while alert["id"] not in store.entities("incident"):
        assert time.monotonic() < deadline, f"canary never arrived:\n{proc.log_text()[-4000:]}"
        assert proc.alive, f"ingest died:\n{proc.log_text()[-4000:]}"
        publish_once(broker, [(topic, payload)])
        resend = time.monotonic() + 2.0
        while time.monotonic() < resend and alert["id"] not in store.entities("incident"):
            time.sleep(0.05)
    return str(alert["id"])


def make_alerts(n: int, prefix: str) -> list[dict[str, Any]]:
    return list(simulator_for(load_config(), rng_seed=42).unique_alerts(n, prefix=prefix))


# --- feeds ------------------------------------------------------------------------------------
class RecordingSink:
    """An in-memory ``EventSink`` that remembers everything, deduplicating by event id like
    the real store does, and can be told to fail (the store is down)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[Event] = []
        self.ids: set[str] = set()
        self.letters: list[DeadLetter] = []
        self.feeds: dict[str, dict[str, int]] = {}
        self.status: dict[str, dict[str, Any]] = {}
        self.flushes = 0
        self.fail: bool = False
        self.accept_calls = 0
        self.arrived = threading.Condition(self.lock)

    def accept(self, event: Event) -> bool:
        with self.lock:
            self.accept_calls += 1
            self.arrived.notify_all()
            if self.fail:
                raise ConnectionError("store is down")
            self.events.append(event)
            changed = event.id not in self.ids
            self.ids.add(event.id)
            self.arrived.notify_all()
            return changed

    def reject(self, letter: DeadLetter) -> None:
        with self.lock:
            if self.fail:
                raise ConnectionError("store is down")
            self.letters.append(letter)
            self.arrived.notify_all()

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        with self.lock:
            totals = self.feeds.setdefault(feed, {})
            for key, n in counts.items():
                totals[key] = totals.get(key, 0) + n
            self.status[feed] = status
            self.flushes += 1

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Block until ``predicate(self)`` holds; re-checked whenever something arrives."""
        with self.arrived:
            return self.arrived.wait_for(lambda: predicate(self), timeout)


def make_normalizer() -> Normalizer:
    """The real normalizer with the shipped limits (no district map), so the transport
    tests also prove the adapters and ``feeds.normalize`` fit together."""

    limits = Feeds()
    return Normalizer(None, None, limits.max_payload_bytes, limits.max_future_s)


def kpi_payload(n: int, *, kpi: str | None = None, pad: int = 0) -> bytes:
    """A valid NGSI-v2 keyValues KPI; ``pad`` grows the description to a target size."""
    doc = {
        "id": kpi or f"urn:ngsi-ld:KeyPerformanceIndicator:test-{n}",
        "type": "KeyPerformanceIndicator",
        "name": f"KPI {n}",
        "description": "x" * pad,
        "kpiValue": n,
        "dateModified": (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(doc).encode()


# --- the demo seen from outside -------------------------------------------------------------------
def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def alert(description: str) -> dict[str, Any]:
    """An Alert in Smart Data Models keyValues form, like the upstream example, in Pekanbaru."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": f"Alert:skeleton-{uuid.uuid4().hex[:8]}",
        "type": "Alert",
        "category": "weather",
        "subCategory": "flood",
        "severity": "critical",
        "location": {"type": "Point", "coordinates": [101.4478, 0.5071]},
        "dateIssued": now,
        "description": description,
        "alertSource": "https://pekanbaru.go.id/pusdalops",
    }


def mqtt_connected(base: str) -> bool:
    feeds = get_json(f"{base}/api/v1/feeds")["feeds"]
    return any(f.get("connected") for f in feeds.values())


def check_all_present_once(store: RedisStore, alerts: list[dict[str, Any]], extra_ids: set[str]) -> None:
    """Exactly the published ids (plus ``extra_ids``), each with the description sent."""
    docs = store.entities("incident")
    expected = {a["id"]: a["description"] for a in alerts}
    missing = sorted(set(expected) - set(docs))
    unexpected = sorted(set(docs) - set(expected) - extra_ids)
    assert not missing, f"{len(missing)} of {len(expected)} lost, e.g. {missing[:5]}"
    assert not unexpected, f"ids nobody published: {unexpected[:5]}"
    wrong = [i for i, text in expected.items() if docs[i].get("description") != text]
    assert not wrong, f"{len(wrong)} descriptions differ, e.g. {wrong[0]}: {docs[wrong[0]].get('description')!r}"


def assert_positive(value: Any) -> None:
    """A measured figure: a real, finite number above zero (its size is the benchmark's business)."""
    assert type(value) in (int, float), value
    assert math.isfinite(value) and value > 0, value


class CountingSocket:
    """A real socket that counts the ``recv`` and ``send`` calls that reach it.

    ``room``, when set, is how many more bytes it takes before it is full and a send fails
    with ``BlockingIOError``, as a socket's does when its peer stops reading."""

    def __init__(self, sock: socket.socket, room: int | None = None) -> None:
        self.sock = sock
        self.recvs = 0
        self.sends = 0
        self.room = room

    def recv(self, size: int) -> bytes:
        self.recvs += 1
        return self.sock.recv(size)

    def send(self, data: bytes | bytearray) -> int:
        self.sends += 1
        if self.room is not None:
            if self.room == 0:
                raise BlockingIOError
            data = bytes(data[: self.room])
            self.room -= len(data)
        return self.sock.send(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def run_async(coro: Any) -> Any:
    """``asyncio.run`` on a thread of its own. Playwright's sync API keeps a loop running in the
    main thread for the rest of the session, where ``asyncio.run`` refuses to start: a test
    that ran after a browser test failed, and passed alone."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the test's thread, which reports it
            errors.append(exc)

    thread = threading.Thread(target=run, name="test-loop")
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    if not result:
        raise TimeoutError("the coroutine did not finish within 60 s")
    return result[0]


def beat_callback(beat_id: str, page: str) -> dict[str, Any]:
    """The body of the poll's callback carrying a page's heartbeat (``layouts.live``), as a page posts it."""
    beat = {"id": beat_id, "page": page, "seq": 1}
    return {
        "output": "..cw-version.data...cw-fresh.data...cw-lag.data..",
        "outputs": [{"id": i, "property": "data"} for i in ("cw-version", "cw-fresh", "cw-lag")],
        "inputs": [{"id": "cw-tick", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["cw-tick.n_intervals"],
        "state": [
            {"id": "cw-version", "property": "data", "value": None},
            {"id": "cw-pushed", "property": "data", "value": None},
            {"id": "cw-lag", "property": "data", "value": None},
            {"id": "cw-beat", "property": "data", "value": beat},
            [],
        ],
    }

"""Putting simulated (or any) city traffic on MQTT or a Redis stream, at a steady rate.

The simulator makes payloads; these publishers pace them (a token bucket that never bursts
after a stall), survive broker and Redis restarts, and report how many went out. The demo,
``citywall simulate``, the benchmarks and the tests all publish through here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from feeds.backoff import Backoff

if TYPE_CHECKING:
    from feeds.sim_catalog import Message, Payload
    from feeds.simulator import CitySimulator

log = logging.getLogger(__name__)


def _check_rate(rate: float) -> None:
    """Refuse a useless rate before connecting, with a message the integrator can act on."""
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"rate must be a positive, finite number of messages per second, got {rate!r}")


def _encode(payload: Payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class _Pacer:
    """Token bucket: ``take()`` says how many messages may go now, ``wait()`` sleeps until
    the next one may. The bucket holds at most 0.1 s of messages, so a stall (a broker
    reconnect) does not turn into a burst afterwards."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 messages per second")
        self.rate = rate
        self.capacity = max(1.0, rate * 0.1)
        self.tokens = 1.0
        self.last = time.monotonic()

    def take(self) -> int:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        n = int(self.tokens)
        self.tokens -= n
        return n

    def wait(self, stop_event: threading.Event) -> None:
        stop_event.wait(max(0.0005, (1.0 - self.tokens) / self.rate))

    def reset(self) -> None:
        self.tokens, self.last = 1.0, time.monotonic()


def _source(
    simulator: CitySimulator | None, messages: Iterable[Message] | None, rate: float
) -> tuple[list[Message], Iterator[Message]]:
    """(burst sent first, paced rest): the simulator's initial state then its stream, or
    the caller's own messages (e.g. ``unique_alerts``) with no initial state."""
    if messages is not None:
        return [], iter(messages)
    if simulator is None:
        raise ValueError("nothing to publish: give a simulator or messages")
    return simulator.initial_state(), simulator.stream(rate)


def publish_mqtt(
    url: str,
    topic_prefix: str,
    rate: float,
    duration_s: float | None,
    qos: int = 1,
    stop_event: threading.Event | None = None,
    simulator: CitySimulator | None = None,
    *,
    messages: Iterable[Message] | None = None,
    connect_timeout_s: float = 10.0,
    drain_timeout_s: float = 10.0,
    client_id: str | None = None,
) -> int:
    """Publish the simulated city to an MQTT broker; returns the number of messages sent.

    ``initial_state`` goes first, then ``rate`` messages/s for ``duration_s`` (None: until
    ``stop_event``). paho reconnects on its own when the broker drops; meanwhile pacing
    pauses, and QoS>0 messages already handed to paho are resent after the reconnect, so
    they count as sent. Before returning, waits up to ``drain_timeout_s`` for the broker
    to acknowledge what is in flight. ``messages`` replaces the simulator's traffic with
    the caller's (topic suffix, payload) pairs and stops when they run out.
    """
    import paho.mqtt.client as mqtt

    from feeds.mqtt import parse_url  # the same rules as the config's feeds.mqtt.url

    _check_rate(rate)
    stop = stop_event or threading.Event()
    endpoint = parse_url(url)
    host, port, tls, user, password = endpoint.host, endpoint.port, endpoint.tls, endpoint.username, endpoint.password
    prefix = topic_prefix.rstrip("/")
    connected = threading.Event()
    lock = threading.Lock()
    acked = [0]

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connect to %s:%s refused: %s", host, port, reason)
        else:
            connected.set()

    def on_disconnect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        connected.clear()
        if reason.is_failure:
            log.warning("MQTT connection to %s:%s lost (%s); reconnecting", host, port, reason)

    def on_publish(client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with lock:
            acked[0] += 1

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"citywall-sim-{os.getpid()}-{random.getrandbits(24):06x}"
    )
    client.on_connect, client.on_disconnect, client.on_publish = on_connect, on_disconnect, on_publish
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=0.2, max_delay=5)  # type: ignore[arg-type]  # paho takes seconds as float
    if user:
        client.username_pw_set(user, password)
    if tls:
        client.tls_set()
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    sent = [0]
    max_unacked = max(1_000, int(rate * 5))  # bound paho's memory if the broker is slow

    def send_batch(batch: list[Message]) -> int:
        ok = 0
        for topic, payload in batch:
            full = topic if "/" in topic else f"{prefix}/{topic}"
            rc = client.publish(full, _encode(payload), qos=qos).rc
            # QoS>0 while disconnected: paho keeps it and sends it after the reconnect
            if rc == mqtt.MQTT_ERR_SUCCESS or (qos > 0 and rc == mqtt.MQTT_ERR_NO_CONN):
                ok += 1
        sent[0] += ok
        return ok

    def ready() -> bool:
        return connected.is_set() and (qos == 0 or sent[0] - acked[0] <= max_unacked)

    try:
        if not _wait_for(connected, stop, connect_timeout_s):
            if stop.is_set():
                return 0
            raise ConnectionError(f"could not connect to MQTT broker {host}:{port} within {connect_timeout_s:g} s")
        burst, rest = _source(simulator, messages, rate)
        send_batch(burst)
        _paced(rate, duration_s, stop, rest, send_batch, ready)
        if qos > 0:
            _drain(lambda: acked[0] >= sent[0], drain_timeout_s)
            if acked[0] < sent[0]:
                log.warning("MQTT: %d of %d messages unacknowledged after %g s", sent[0] - acked[0], sent[0], drain_timeout_s)
        return sent[0]
    finally:
        client.disconnect()
        client.loop_stop()


def _wait_for(event: threading.Event, stop: threading.Event, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not event.is_set() and not stop.is_set() and time.monotonic() < deadline:
        event.wait(0.05)
    return event.is_set()


def _drain(done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


def _paced(
    rate: float,
    duration_s: float | None,
    stop: threading.Event,
    source: Iterator[Message],
    send_batch: Callable[[list[Message]], int],
    ready: Callable[[], bool] = lambda: True,
) -> None:
    """The loop both publishers share: take tokens, send that many, sleep until the next
    token. Pauses while ``ready()`` is false (broker away or too far behind) and after a
    slow send (a reconnect inside ``send_batch``), then resumes the pace without a burst.
    Stops at the end of ``duration_s``, on ``stop``, or when the source runs dry."""
    pacer = _Pacer(rate)
    end = None if duration_s is None else time.monotonic() + duration_s
    while not stop.is_set() and (end is None or time.monotonic() < end):
        if not ready():
            stop.wait(0.05)
            pacer.reset()
            continue
        n = pacer.take()
        if n == 0:
            pacer.wait(stop)
            continue
        batch = list(islice(source, n))
        before = time.monotonic()
        if batch:
            send_batch(batch)
        if len(batch) < n:
            return
        if time.monotonic() - before > 1.0:
            pacer.reset()


def publish_redis(
    url: str,
    stream: str,
    field: str,
    rate: float,
    duration_s: float | None,
    stop_event: threading.Event | None = None,
    maxlen: int = 100_000,
    simulator: CitySimulator | None = None,
    *,
    messages: Iterable[Message] | None = None,
) -> int:
    """XADD the simulated city into a Redis stream (one JSON payload in ``field``); returns
    the number of entries added.

    Entries go in pipelined batches with ``MAXLEN ~ maxlen`` so the stream stays bounded
    cheaply. On a connection error the batch is retried after a backoff, so a Redis
    restart means a pause and possibly a duplicate (the store's upsert absorbs it), not a loss.
    A Redis that does not answer at the start raises redis-py's ``ConnectionError`` at once, as
    ``publish_mqtt`` does for its broker: that is a wrong address, not a restart, and the
    retries ran for ever whatever ``duration_s`` said.
    """
    import redis

    _check_rate(rate)
    stop = stop_event or threading.Event()
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    sent = [0]

    def send_batch(batch: list[Message]) -> int:
        n = _xadd_batch(client, stream, field, maxlen, batch, stop)
        sent[0] += n
        return n

    try:
        client.ping()
        burst, rest = _source(simulator, messages, rate)
        send_batch(burst)
        _paced(rate, duration_s, stop, rest, send_batch)
        return sent[0]
    finally:
        client.close()


def _xadd_batch(client: Any, stream: str, field: str, maxlen: int, batch: list[Message], stop: threading.Event) -> int:
    """One pipelined round trip; retried with backoff while Redis is unreachable."""
    import redis

    if not batch:
        return 0
    backoff = Backoff(0.2, 5.0)
    while True:
        try:
            pipe = client.pipeline(transaction=False)
            for _topic, payload in batch:
                pipe.xadd(stream, {field: _encode(payload)}, maxlen=maxlen, approximate=True)
            pipe.execute()
            return len(batch)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if stop.is_set():
                return 0
            delay = backoff.next()
            log.warning("Redis XADD to %s failed (%s); retrying in %.1f s", stream, exc, delay)
            stop.wait(delay)

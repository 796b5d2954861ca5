"""The MQTT adapter against a real Mosquitto (and the embedded amqtt broker).

What these prove is what burned other dashboards: messages sent while ingest was down are
not lost, a broker restart (even one that forgot every session) does not leave the wall
"connected" and silent, shared subscriptions split load without double processing, a bad
message never stops the feed, and a store outage means redelivery, not loss.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from dashboard.config import MqttFeed
from dashboard.local_services import wait_until
from feeds.broker import EmbeddedBroker
from feeds.mqtt import STORE_DROP_REASON, MqttAdapter, packet_limit, parse_url, subscription_filters
from tests.support.helpers import RecordingSink, kpi_payload, make_normalizer
from tests.support.services import REPO_ROOT, Mosquitto

TIMEOUT = 10.0


# ---------------------------------------------------------------------------------------
# helpers


class Publisher:
    """A plain paho client that publishes and waits for every PUBACK."""

    def __init__(self, host: str, port: int, protocol: int = mqtt.MQTTv5) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=protocol)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port)
        self.client.loop_start()

    def publish_many(self, items: list[tuple[str, bytes]], qos: int = 1, retain: bool = False) -> None:
        infos = [self.client.publish(topic, payload, qos=qos, retain=retain) for topic, payload in items]
        for info in infos:
            info.wait_for_publish(TIMEOUT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Watcher:
    """Subscribes to a topic and records payloads in order (for status topics)."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.payloads: list[bytes] = []
        self.changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(TIMEOUT)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.changed:
            self.payloads.append(msg.payload)
            self.changed.notify_all()

    def wait_for(self, payload: bytes, timeout: float = TIMEOUT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: payload in self.payloads, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def feed(broker_url: str, **overrides: Any) -> MqttFeed:
    settings: dict[str, Any] = {"url": broker_url, "topics": ["city/#"], "client_id": "ingest-test"}
    settings.update(overrides)
    return MqttFeed(**settings)


@pytest.fixture
def adapters() -> Iterator[Callable[..., MqttAdapter]]:
    """Make and start adapters; every one is stopped at teardown, pass or fail."""
    made: list[MqttAdapter] = []

    def make(config: MqttFeed, sink: RecordingSink, **kwargs: Any) -> MqttAdapter:
        adapter = MqttAdapter(config, make_normalizer(), sink, **kwargs)
        made.append(adapter)
        adapter.start()
        assert adapter.wait_connected(TIMEOUT), "adapter never connected and subscribed"
        return adapter

    yield make
    for adapter in made:
        adapter.stop()


def kpis(start: int, count: int, topic: str = "city/kpi") -> list[tuple[str, bytes]]:
    return [(topic, kpi_payload(n)) for n in range(start, start + count)]


def ids(start: int, count: int) -> set[str]:
    return {f"urn:ngsi-ld:KeyPerformanceIndicator:test-{n}" for n in range(start, start + count)}


# ---------------------------------------------------------------------------------------
# unit


def test_url_parsing() -> None:
    e = parse_url("mqtts://ops:p%40ss@broker.pekanbaru.go.id")
    assert (e.host, e.port, e.tls, e.username, e.password) == ("broker.pekanbaru.go.id", 8883, True, "ops", "p@ss")
    e = parse_url("mqtt://10.0.0.5:1884")
    assert (e.port, e.tls, e.username) == (1884, False, None)
    with pytest.raises(ValueError):
        parse_url("http://x")


def test_shared_subscription_filters() -> None:
    assert subscription_filters(["a/#", "b/+"], None) == ["a/#", "b/+"]
    assert subscription_filters(["a/#"], "ingest") == ["$share/ingest/a/#"]


# ---------------------------------------------------------------------------------------
# integration


@pytest.mark.integration
def test_wildcard_topics_arrive(mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]) -> None:
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url, topics=["city/+/kpi", "pekanbaru/#"]), sink)
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many([
            ("city/mpp/kpi", kpi_payload(1)),
            ("pekanbaru/drainage/sta-7/level", kpi_payload(2)),
            ("city/mpp/other", kpi_payload(3)),
            ("elsewhere/kpi", kpi_payload(4)),
            ("city/end/kpi", kpi_payload(5)),  # subscribed, sent last: once it is in, the others had their chance
        ])  # fmt: skip
        assert sink.wait_for(lambda s: ids(5, 1) <= s.ids)
    finally:
        pub.close()
    assert sink.ids == ids(1, 2) | ids(5, 1)
    snap = adapter.stats.snapshot()
    assert (snap["received"], snap["accepted"], snap["connected"]) == (3, 3, True)


def test_only_the_citys_own_write_back_is_passed_over(mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]) -> None:
    """A broad filter also catches the operators' actions, written back under
    ``city/actions/incidents/``: those are ours. A field feed whose topic happens to hold
    ``/actions/incidents/`` elsewhere was dropped too, without a count or a dead letter."""
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url), sink, actions_prefix="city/actions/incidents/")
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many([
            ("city/actions/incidents/INC-1", kpi_payload(1)),
            ("city/bpbd/actions/incidents/feed", kpi_payload(2)),
            ("city/end/kpi", kpi_payload(3)),
        ])  # fmt: skip
        assert sink.wait_for(lambda s: ids(3, 1) <= s.ids)
    finally:
        pub.close()
    assert sink.ids == ids(2, 2)
    assert adapter.stats.snapshot()["received"] == 2


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_messages_sent_while_ingest_is_down_arrive(
    mosquitto: Mosquitto, protocol: str, adapters: Callable[..., MqttAdapter]
) -> None:
    config = feed(mosquitto.url, protocol=protocol, client_id=f"ingest-{protocol}")
    first = adapters(config, RecordingSink())
    first.stop()

    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(0, 200))
    finally:
        pub.close()

    sink = RecordingSink()
    second = adapters(config, sink)
    assert sink.wait_for(lambda s: len(s.ids) == 200), f"only {len(sink.ids)} of 200 arrived"
    assert sink.ids == ids(0, 200)
    assert second.stats.snapshot()["received"] == 200


@pytest.mark.integration
def test_a_broker_that_does_not_answer_is_said_once_per_outage(mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    """An ingest started with its broker down said nothing while paho retried in silence.
    It now says so once, not at every retry, and again after the next outage."""
    unanswered = "no answer from the broker at"
    failures = threading.Semaphore(0)
    mosquitto.stop()
    url = mosquitto.url.replace("mqtt://", "mqtt://ingest:s3cret-pass@")
    adapter = MqttAdapter(feed(url), make_normalizer(), RecordingSink())
    told = adapter._on_connect_fail  # counted as well as run: a second failure must say nothing

    def counted(client: Any, userdata: Any) -> None:
        told(client, userdata)
        failures.release()

    caplog.set_level("WARNING", logger="feeds.mqtt")
    adapter._client.on_connect_fail = counted
    try:
        adapter.start()
        for _ in range(2):  # paho's first try and its first retry
            assert failures.acquire(timeout=TIMEOUT), "paho never tried the broker"
        said = [r.getMessage() for r in caplog.records if unanswered in r.getMessage()]
        assert said == [f"mqtt: {unanswered} {mosquitto.host}:{mosquitto.port}; trying again, every 1 to 30 s"]
        mosquitto.start()
        assert adapter.wait_connected(TIMEOUT), "connected once the broker came"
        while failures.acquire(blocking=False):  # the first outage's later retries
            pass
        mosquitto.stop()
        assert failures.acquire(timeout=TIMEOUT), "paho never retried after the second outage"
        said = [r.getMessage() for r in caplog.records if unanswered in r.getMessage()]
        assert len(said) == 2, said
        assert not [r for r in caplog.records if "s3cret" in r.getMessage()]
    finally:
        adapter.stop()


@pytest.mark.integration
@pytest.mark.parametrize("broker_keeps_state", [True, False], ids=["persistent-broker", "broker-lost-sessions"])
def test_broker_restart_reconnects_resubscribes_and_shows_a_gap(
    mosquitto: Mosquitto, broker_keeps_state: bool, adapters: Callable[..., MqttAdapter]
) -> None:
    """Without state (its database deleted), the broker knows no subscription after the
    restart: only the adapter's own re-subscribe makes the second batch arrive."""
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url), sink)
    pub = Publisher(mosquitto.host, mosquitto.port)
    pub.publish_many(kpis(0, 50))
    pub.close()
    assert sink.wait_for(lambda s: len(s.ids) == 50)

    stopping_at = datetime.now(UTC)  # the outage lies between this and the reconnect seen below
    mosquitto.stop()
    if not broker_keeps_state:
        for db in Path(mosquitto.workdir).glob("mosquitto.db*"):
            db.unlink()
    mosquitto.start()
    assert adapter.wait_connected(TIMEOUT), "reconnected by itself"
    reconnected_at = datetime.now(UTC)

    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(50, 50))
    finally:
        pub.close()
    assert sink.wait_for(lambda s: len(s.ids) == 100), f"{len(sink.ids)} of 100 after restart"

    snap = adapter.stats.snapshot()
    assert snap["connected"] is True and snap["reconnects"] == 1
    assert len(snap["gaps"]) == 1
    gap = snap["gaps"][0]
    # the gap is the outage itself: it opens after the broker was stopped and closes before the
    # reconnect was seen, and its length is its own two ends (how long it lasted is not asserted)
    started, ended = datetime.fromisoformat(gap["started_at"]), datetime.fromisoformat(gap["ended_at"])
    assert stopping_at <= started < ended <= reconnected_at, (stopping_at, gap, reconnected_at)
    assert gap["seconds"] == round((ended - started).total_seconds(), 3)
    assert sink.wait_for(lambda s: s.status.get("mqtt", {}).get("gaps") == snap["gaps"], 3), "gap never reached the store"


@pytest.mark.integration
def test_shared_subscription_splits_the_load(mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]) -> None:
    config = feed(mosquitto.url, shared_group="ingest")
    sinks = [RecordingSink(), RecordingSink()]
    a = adapters(config, sinks[0], client_id="ingest-a")
    b = adapters(config, sinks[1], client_id="ingest-b")
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(0, 400))
        wait_until(lambda: len(sinks[0].events) + len(sinks[1].events) >= 400, TIMEOUT, "400 messages in the two sinks")
        # one more, sent after all 400 arrived: once it is in, a duplicate of the 400 had its chance to show
        pub.publish_many(kpis(400, 1))
        wait_until(lambda: ids(400, 1) <= {e.id for s in sinks for e in s.events}, TIMEOUT, "the last message")
    finally:
        pub.close()
    all_ids = [e.id for s in sinks for e in s.events]
    assert len(all_ids) == 401, "a message was lost or processed twice"
    assert set(all_ids) == ids(0, 401)
    assert a.stats.snapshot()["received"] > 0 and b.stats.snapshot()["received"] > 0


@pytest.mark.integration
def test_malformed_payloads_are_dead_lettered_and_the_feed_goes_on(
    mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]
) -> None:
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url), sink)
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many([
            ("city/kpi", kpi_payload(1)),
            ("city/kpi", b'{"id": "x", "type": '),
            ("city/kpi", kpi_payload(2)),
            ("city/kpi", b"[1, 2, 3]"),
            ("city/kpi", kpi_payload(3)),
        ])  # fmt: skip
        assert sink.wait_for(lambda s: len(s.ids) == 3 and len(s.letters) == 2)
        pub.publish_many([("city/kpi", kpi_payload(4))])
        assert sink.wait_for(lambda s: len(s.ids) == 4), "the feed stopped after a bad message"
    finally:
        pub.close()
    snap = adapter.stats.snapshot()
    assert snap["rejected"] == {"malformed_json": 1, "not_an_object": 1}
    assert (snap["received"], snap["accepted"]) == (6, 4)
    assert [letter.origin for letter in sink.letters] == ["city/kpi", "city/kpi"]
    assert sink.letters[0].excerpt == '{"id": "x", "type": '


@pytest.mark.integration
def test_a_message_past_the_packet_limit_is_dropped_by_the_broker_and_the_feed_goes_on(
    mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]
) -> None:
    """MQTT 5's Maximum Packet Size (8 MiB for the default 64 KiB payload limit): a 9 MiB
    message never reaches ingest's memory, one somewhat too large comes and is
    dead-lettered, and the message after both is stored (a subscriber gets one topic's
    messages in order)."""
    sink = RecordingSink()
    adapters(feed(mosquitto.url), sink, max_packet_bytes=packet_limit(64 * 1024))
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many([
            ("city/kpi", b"[" + b"1," * (9 << 19) + b"1]"),
            ("city/kpi", b"[" + b"2," * 200_000 + b"2]"),
            ("city/kpi", kpi_payload(1)),
        ])  # fmt: skip
        assert sink.wait_for(lambda s: len(s.ids) == 1), "the message after the large ones was not stored"
    finally:
        pub.close()
    assert [(letter.reason.value, letter.excerpt[:3]) for letter in sink.letters] == [("too_large", "[2,")]


@pytest.mark.integration
@pytest.mark.parametrize("hold_ms", [0, 10])
def test_store_outage_means_redelivery_not_loss(mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter], hold_ms: int) -> None:
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url, hold_ms=hold_ms), sink)
    sink.fail = True
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(0, 20))
        assert sink.wait_for(lambda s: s.accept_calls >= 3), "the failed messages are tried again"
        sink.fail = False
        assert sink.wait_for(lambda s: len(s.ids) == 20, TIMEOUT), f"{len(sink.ids)} of 20 after the store came back"
    finally:
        pub.close()
    # A persistent session redelivers right after CONNACK, before the SUBACK that marks the
    # feed connected again, so the reconnect may be counted just after the last message.
    wait_until(lambda: adapter.stats.snapshot()["reconnects"] >= 1, TIMEOUT, "the reconnect counted")
    snap = adapter.stats.snapshot()
    assert snap["store_errors"] >= 1
    assert snap["reconnects"] >= 1  # the reconnect is what makes the broker redeliver
    assert snap["gaps"][0]["reason"] == STORE_DROP_REASON, "paho calls it an unspecified error"


@pytest.mark.integration
def test_qos_0_messages_that_come_while_the_store_is_away_are_counted_lost(
    mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]
) -> None:
    """They are never sent again, and were counted nowhere: 49 of 50 vanished from every count."""
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url), sink)
    sink.fail = True
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(0, 1))  # QoS 1: the store fails on it, and the feed holds back
        assert sink.wait_for(lambda s: s.accept_calls >= 1), "the store was tried"
        pub.publish_many(kpis(1, 5), qos=0)  # before the reconnect that redelivers the first
        wait_until(lambda: adapter.stats.snapshot()["lost"] == 5, TIMEOUT, "five QoS 0 messages counted lost")
        sink.fail = False
        assert sink.wait_for(lambda s: len(s.ids) == 1, TIMEOUT), "the QoS 1 message came again and was stored"
    finally:
        pub.close()
    snap = adapter.stats.snapshot()
    assert snap["received"] >= 6 and snap["accepted"] == 1


@pytest.mark.integration
def test_a_feed_held_in_windows_stores_every_message_once_in_order(
    mosquitto: Mosquitto, adapters: Callable[..., MqttAdapter]
) -> None:
    """``hold_ms``: a burst far past the broker's 20 unacknowledged messages goes through
    whole, each message once and in the order sent, every one acknowledged."""
    sink = RecordingSink()
    adapter = adapters(feed(mosquitto.url, hold_ms=10), sink)
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        pub.publish_many(kpis(0, 3000))
        assert sink.wait_for(lambda s: len(s.ids) == 3000, 30), f"{len(sink.ids)} of 3000"
    finally:
        pub.close()
    assert [event.id for event in sink.events] == [f"urn:ngsi-ld:KeyPerformanceIndicator:test-{n}" for n in range(3000)]
    snap = adapter.stats.snapshot()
    assert (snap["received"], snap["accepted"]) == (3000, 3000)


@pytest.mark.integration
def test_status_topic_online_then_offline_on_clean_stop(mosquitto: Mosquitto) -> None:
    watcher = Watcher(mosquitto.host, mosquitto.port, "citywall/status/#")
    adapter = MqttAdapter(feed(mosquitto.url, client_id="wall-ingest"), make_normalizer(), RecordingSink())
    try:
        adapter.start()
        assert adapter.wait_connected(TIMEOUT)
        assert watcher.wait_for(b"online")
        adapter.stop()
        assert watcher.wait_for(b"offline")
    finally:
        watcher.close()
        adapter.stop()
    assert retained(mosquitto, "citywall/status/wall-ingest") == b"offline"


CRASHING_INGEST = textwrap.dedent(
    """
    import sys, time
    from dashboard.config import MqttFeed
    from feeds.mqtt import MqttAdapter
    from tests.support.helpers import RecordingSink, make_normalizer

    feed = MqttFeed(url=sys.argv[1], client_id="doomed-ingest", topics=["city/#"])
    adapter = MqttAdapter(feed, make_normalizer(), RecordingSink())
    adapter.start()
    assert adapter.wait_connected(10)
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.integration
def test_last_will_marks_a_killed_ingest_offline(mosquitto: Mosquitto) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_INGEST, mosquitto.url],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        assert retained(mosquitto, "citywall/status/doomed-ingest") == b"online"
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
        wait_until(
            lambda: retained(mosquitto, "citywall/status/doomed-ingest") == b"offline", 3 * TIMEOUT, "the last will published"
        )
    finally:
        proc.kill()
        proc.wait()


def retained(broker: Mosquitto | EmbeddedBroker, topic: str) -> bytes | None:
    """The retained payload on ``topic`` as a fresh subscriber sees it (None if nothing
    arrives within ``TIMEOUT``; a retained message comes right after the subscription, so
    that wait ends as soon as it is there)."""
    got: list[bytes] = []
    arrived = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)

    def on_message(c: Any, u: Any, msg: mqtt.MQTTMessage) -> None:
        got.append(msg.payload)
        arrived.set()

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        arrived.wait(TIMEOUT)
    finally:
        client.disconnect()
        client.loop_stop()
    return got[-1] if got else None


# ---------------------------------------------------------------------------------------
# embedded broker


@pytest.fixture
def embedded() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.mark.integration
def test_embedded_broker_carries_paho_traffic(embedded: EmbeddedBroker) -> None:
    assert embedded.url == f"mqtt://127.0.0.1:{embedded.port}"
    assert EmbeddedBroker.protocol == "3.1.1"
    watcher_got: list[bytes] = []
    arrived = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    sub.on_message = lambda c, u, m: (watcher_got.append(m.payload), arrived.set())
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(embedded.host, embedded.port)
    sub.loop_start()
    pub = Publisher(embedded.host, embedded.port, protocol=mqtt.MQTTv311)
    try:
        sub.subscribe("pekanbaru/+/level", qos=1)
        assert subscribed.wait(TIMEOUT)
        pub.publish_many([("pekanbaru/sta-1/level", b"1.25")])
        assert arrived.wait(TIMEOUT)
    finally:
        pub.close()
        sub.disconnect()
        sub.loop_stop()
    assert watcher_got == [b"1.25"]


@pytest.mark.integration
def test_adapter_runs_on_the_embedded_broker(embedded: EmbeddedBroker, adapters: Callable[..., MqttAdapter]) -> None:
    """The demo path: the caller passes the broker's protocol (3.1.1) to the adapter."""
    sink = RecordingSink()
    adapters(feed(embedded.url, protocol=EmbeddedBroker.protocol), sink)
    pub = Publisher(embedded.host, embedded.port, protocol=mqtt.MQTTv311)
    try:
        pub.publish_many(kpis(0, 100))
    finally:
        pub.close()
    assert sink.wait_for(lambda s: len(s.ids) == 100)


# ---------------------------------------------------------------------------------------
# TLS


class TlsMosquitto(Mosquitto):
    """Mosquitto with a TLS-only listener and a certificate from a throw-away CA."""

    name = "mosquitto-tls"

    def write_config(self) -> None:
        super().write_config()
        text = self.conf_path.read_text()
        tls = f"cafile {self.workdir}/ca.crt\ncertfile {self.workdir}/server.crt\nkeyfile {self.workdir}/server.key\n"
        self.conf_path.write_text(text.replace(f"listener {self.port} {self.host}\n", f"listener {self.port} {self.host}\n{tls}"))


def make_certificates(workdir: Path) -> None:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=workdir, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=citywall test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (workdir / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "1", "-extfile", "san.ext")  # fmt: skip


@pytest.mark.integration
@pytest.mark.skipif(not Path("/usr/bin/openssl").exists(), reason="needs the openssl command to make certificates")
def test_tls_verifies_the_broker_unless_told_not_to(tmp_path: Path) -> None:
    from dashboard.config import Tls

    make_certificates(tmp_path)
    broker = TlsMosquitto(tmp_path)
    broker.start()
    url = f"mqtts://{broker.host}:{broker.port}"
    made: list[MqttAdapter] = []

    def connects(tls: Tls | None, timeout: float) -> bool:
        adapter = MqttAdapter(feed(url, tls=tls, client_id=f"tls-{len(made)}"), make_normalizer(), RecordingSink())
        made.append(adapter)
        adapter.start()
        return adapter.wait_connected(timeout)

    try:
        assert connects(Tls(ca_file=str(tmp_path / "ca.crt")), TIMEOUT), broker.log_text()
        assert not connects(None, 1.5), "connected to a broker whose certificate nobody vouched for"
        assert connects(Tls(insecure=True), TIMEOUT)
    finally:
        for adapter in made:
            adapter.stop()
        broker.stop()


def test_an_ingest_restart_carries_the_outage_history_on(mosquitto: Mosquitto) -> None:
    """``start_ingest`` takes up what the last process stored: its gaps, and the time no ingest
    ran, which closes when this one connects. A restart had emptied the history."""
    from dashboard.config import load_config
    from dashboard.runtime import start_ingest
    from dashboard.store.memory import MemoryStore

    config = load_config(environ={})
    config = config.model_copy(
        update={"feeds": config.feeds.model_copy(update={"mqtt": config.feeds.mqtt.model_copy(update={"url": mosquitto.url})})}
    )
    store = MemoryStore()
    outage = {
        "started_at": "2026-12-01T01:00:00+00:00",
        "ended_at": "2026-12-01T01:02:00+00:00",
        "seconds": 120.0,
        "reason": "broker unreachable",
    }
    store.record_feed("mqtt", {}, {"connected": True, "gaps": [outage], "reported_at": "2026-12-01T02:00:00+00:00"})
    began = datetime.now(UTC)
    ingest = start_ingest(config, store)
    try:
        (adapter,) = ingest.adapters
        assert adapter.wait_connected(10)
        gaps = adapter.stats.snapshot()["gaps"]
        assert gaps[0] == outage
        assert (gaps[1]["started_at"], gaps[1]["reason"]) == (
            "2026-12-01T02:00:00+00:00",
            "ingest was not running (stopped or restarted)",
        )
        assert datetime.fromisoformat(gaps[1]["ended_at"]) >= began, "closed when this process connected"
        assert len(gaps) == 2
    finally:
        ingest.stop()
